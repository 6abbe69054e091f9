"""Cold LibreOffice per document versus certdesk's warm pool, and memory over a long batch.

    .venv/bin/python bench/convert_bench.py [--cold-sample 20] [--warm 200] [--rss-batch 1000]

(a) cold: render the certificate, then one ``soffice --headless --convert-to pdf`` process
    per document (what a script would do), timed on a sample of ``--cold-sample``;
(b) warm conversion: the same render + convert for ``--warm`` documents through the warm
    pool (as many threads as workers), after the workers have started;
(c) warm end to end: certdesk's real issuing path for ``--warm`` certificates — render,
    PDF/A-2b through the pool, PAdES signature, write-once blob + database rows — with
    ``certdesk.services.issuing.Issuer`` in a throw-away CERTDESK_HOME;
(d) RSS of certdesk plus its soffice.bin workers, sampled every ``--rss-every`` documents
    over a ``--rss-batch`` batch issued the same way. LibreOffice grows with each document;
    workers recycle every ``converter_recycle_after`` documents, so the peak of each cycle
    is what must stay flat.

The cold path does less work than (c) (plain PDF, no signature, no archive), so the
end-to-end ratio is conservative. The machine is shared: the load average is recorded.
Results are printed and written to bench/results/convert-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def organisations(n: int, start: int = 0) -> list:
    """``n`` single-site organisations with distinct, valid credit codes."""
    from certdesk.domain.uscc import check_character
    from certdesk.services.inputs import OrganisationInput, SiteInput

    out = []
    for i in range(start, start + n):
        first17 = f"91110105MA{i:07d}"
        address = f"北京市朝阳区建国路{i % 500 + 1}号"
        out.append(OrganisationInput(
            name=f"北京基准测试家电售后服务有限公司第{i:05d}分公司",
            uscc=first17 + check_character(first17),
            registered_address=address, scope="家用电器的销售及安装、维修", grade="四星级",
            decision_date=date(2026, 11, 20), sites=(SiteInput(address, "家用电器的维修"),)))
    return out


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass  # a worker recycled between listing and reading
    return 0


def certificate_docx(issuer, org, i: int) -> bytes:
    """The certificate issuing would convert for ``org`` (number ``i``), as .docx bytes."""
    from certdesk.documents.context import CertificateFacts
    from certdesk.documents.render import render_docx
    from certdesk.domain.dates import certificate_dates
    from certdesk.domain.spec import Audit
    from certdesk.services.issuing import qr_url

    dates = certificate_dates(issuer.profile.rules.dates, Audit.INITIAL, org.decision_date)
    facts = CertificateFacts(
        number=f"027326FWF{i + 1:04d}R000", main_number=None, holder_name=org.name,
        uscc=org.uscc, registered_address=org.registered_address, scope=org.scope,
        grade=org.grade, issue_date=dates.issue_date, expiry_date=dates.expiry_date,
        sites=tuple({"address": s.address, "scope": s.scope, "temporary": s.temporary}
                    for s in org.sites))
    return render_docx(*issuer.context_for(facts, qr_url(issuer.settings, facts)))


def rate(documents: int, seconds: float, **extra) -> dict:
    return {"documents": documents, "seconds": round(seconds, 2),
            "docs_per_s": round(documents / seconds, 3), **extra}


def cold(issuer, orgs: list, work: Path) -> dict:
    """Render, then a fresh ``soffice`` process for each document."""
    soffice = shutil.which("soffice") or "/usr/bin/soffice"
    profile = (work / "cold-profile").as_uri()

    def one(org, i: int) -> None:
        docx = work / f"cold-{i}.docx"
        docx.write_bytes(certificate_docx(issuer, org, i))
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(work), str(docx)],
                       check=True, capture_output=True, timeout=300)

    one(orgs[0], 0)  # creates the LibreOffice profile, as any user already has one
    started = time.perf_counter()
    for i, org in enumerate(orgs[1:], start=1):
        one(org, i)
    return rate(len(orgs) - 1, time.perf_counter() - started)


def warm_conversion(issuer, orgs: list) -> dict:
    """The same work as the cold path (render + convert), through the warm pool."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item) -> int:
        i, org = item
        return len(issuer.pool.convert_bytes(certificate_docx(issuer, org, i), f"w{i}"))

    started = time.perf_counter()
    with ThreadPoolExecutor(issuer.pool.size) as ex:
        done = len(list(ex.map(one, enumerate(orgs))))
    return rate(done, time.perf_counter() - started)


def failures(result) -> dict:
    """Failed organisations are counted, not hidden: docs/s counts issued ones only."""
    return {"failed": len(result.failed),
            "failed_examples": sorted({reason[:160] for _, reason in result.failed})[:3]}


def warm(issuer, orgs: list) -> dict:
    started = time.perf_counter()
    result = issuer.issue_many(orgs)
    return rate(len(result.issued), time.perf_counter() - started, **failures(result))


def rss_series(issuer, orgs: list, every: int) -> dict:
    """Issue ``orgs``; after every ``every`` documents, certdesk's and the workers' RSS."""
    me = os.getpid()
    samples: list[dict] = []
    done = 0

    def sample() -> None:
        workers = {pid: rss_kb(pid) for pid in issuer.pool.pids}
        samples.append({"documents": done, "certdesk_mb": round(rss_kb(me) / 1024, 1),
                        "workers_mb": round(sum(workers.values()) / 1024, 1),
                        "workers": len(workers),
                        "total_mb": round((rss_kb(me) + sum(workers.values())) / 1024, 1)})

    def on_done(_org, issued, _error) -> None:
        nonlocal done
        before, done = done, done + len(issued or [])
        if done // every > before // every:
            sample()

    sample()
    started = time.perf_counter()
    result = issuer.issue_many(orgs, on_done)
    seconds = time.perf_counter() - started
    # LibreOffice grows with every document it converts; recycling bounds it. Flat means:
    # the peak of each recycling cycle does not grow, and neither does certdesk.
    cycles, peak = [], 0.0
    for prev, cur in zip(samples, samples[1:], strict=False):
        if cur["workers_mb"] < 0.7 * prev["workers_mb"]:
            cycles.append(peak)
            peak = 0.0
        peak = max(peak, cur["total_mb"])
    cycles.append(peak)
    return {"documents": len(result.issued), **failures(result),
            "seconds": round(seconds, 1),
            "peak_total_mb": max(s["total_mb"] for s in samples),
            "cycle_peaks_mb": cycles,
            "certdesk_mb_first_last": [samples[0]["certdesk_mb"], samples[-1]["certdesk_mb"]],
            "certdesk_hwm_mb": round(rss_kb(me, "VmHWM") / 1024, 1),
            "recycle_after": issuer.settings.converter_recycle_after,
            "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold-sample", type=int, default=20)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--rss-batch", type=int, default=1000)
    parser.add_argument("--rss-every", type=int, default=50)
    parser.add_argument("--profile", default="cacq")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="certdesk-bench-"))
    os.environ["CERTDESK_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    from certdesk.common.settings import get_settings
    from certdesk.domain.profiles import load_profile
    from certdesk.services.issuing import Issuer

    settings = get_settings()
    profile = load_profile(args.profile)
    orgs = organisations(args.cold_sample + 1 + args.warm + args.rss_batch + 8)
    work = home / "cold"
    work.mkdir()
    report: dict = {"when": datetime.now().isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "kernel": platform.release()},
                    "profile": args.profile, "workers": settings.converter_workers}
    try:
        with Issuer(profile, settings=settings, allow_unverified=True) as issuer:
            print(f"cold: {args.cold_sample} documents, one soffice process each …", flush=True)
            report["cold"] = cold(issuer, orgs[:args.cold_sample + 1], work)
            rest = orgs[args.cold_sample + 1:]
            started = time.perf_counter()
            issuer.issue_many(rest[:settings.converter_workers * 4])  # workers start here
            report["pool_start_s"] = round(time.perf_counter() - started, 2)
            rest = rest[settings.converter_workers * 4:]
            print(f"warm conversion: {args.warm} documents, render + pool …", flush=True)
            report["warm_conversion"] = warm_conversion(issuer, rest[:args.warm])
            print(f"warm end to end: {args.warm} certificates rendered, converted, signed, "
                  "archived …", flush=True)
            report["warm"] = warm(issuer, rest[:args.warm])
            print(f"rss: {args.rss_batch} documents, sampled every {args.rss_every} …",
                  flush=True)
            report["rss"] = rss_series(issuer, rest[args.warm:args.warm + args.rss_batch],
                                       args.rss_every)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    report["load_average"] = os.getloadavg()
    cold_rate = report["cold"]["docs_per_s"]
    report["ratio_conversion"] = round(report["warm_conversion"]["docs_per_s"] / cold_rate, 1)
    report["ratio_end_to_end"] = round(report["warm"]["docs_per_s"] / cold_rate, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"convert-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    c, wc, w, r = report["cold"], report["warm_conversion"], report["warm"], report["rss"]
    print(f"\ncold soffice per document      : {c['docs_per_s']:6.2f} docs/s "
          f"({c['documents']} in {c['seconds']} s; render + convert)")
    print(f"warm pool, render + convert    : {wc['docs_per_s']:6.2f} docs/s "
          f"({wc['documents']} in {wc['seconds']} s)  ratio {report['ratio_conversion']}x")
    print(f"warm, end to end (+sign+store) : {w['docs_per_s']:6.2f} docs/s "
          f"({w['documents']} in {w['seconds']} s)  ratio {report['ratio_end_to_end']}x")
    print(f"{report['workers']} workers, started in {report['pool_start_s']} s; "
          f"load average at the end {report['load_average'][0]:.1f}")
    for label, part in (("end to end", w), ("rss", r)):
        if part["failed"]:
            print(f"{label}: {part['failed']} failed: {part['failed_examples']}")
    print(f"RSS over {r['documents']} documents (certdesk + workers, MB):")
    for s in r["samples"]:
        print(f"  {s['documents']:>5}  total {s['total_mb']:>7.1f}  certdesk "
              f"{s['certdesk_mb']:>6.1f}  workers {s['workers_mb']:>6.1f} ({s['workers']})")
    print(f"peak {r['peak_total_mb']} MB; peak of each recycling cycle {r['cycle_peaks_mb']}; "
          f"certdesk {r['certdesk_mb_first_last'][0]} → {r['certdesk_mb_first_last'][1]} MB")
    print(f"written to {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
