"""Issue 18's figures side by side in one run, written to one JSON file; the README's speed
table is generated from it.

    .venv/bin/python bench/all.py [--orgs 150] [--cold-sample 10] [--duration 10]
                                  [--rounds 1] [--no-web] [--memory 10000]
    .venv/bin/python bench/all.py --readme bench/results/all-<time>.json

(a) cold: one ``soffice --headless --convert-to pdf`` process per certificate (render, then
    convert; the LibreOffice profile exists already), on ``--cold-sample`` documents;
(b) certdesk issuing end to end through the CLI, start-up included: ``certdesk issue`` of
    ``--orgs`` single-site organisations in a fresh data home (render, PDF/A, PAdES
    signature, archive, out/ copies), timed from the command's start to its exit;
(c) the verification page and JSON API under ``certdesk serve --workers 1`` and ``2``
    against the bare FastAPI stack (``bench/web_bench.py``'s targets, wrk on loopback);
(d) optional, ``--memory N``: the RSS of one ``certdesk issue`` of N organisations and of
    its LibreOffice workers, sampled as certificates are committed (``bench/memory_bench.py``;
    10,000 takes about half an hour here).

The machine is shared: the load average is recorded before each part, and (a) and (b)
run back to back so that both see about the same load. ``--readme FILE`` rewrites the
README between the ``bench:all`` markers from a result file (no measuring).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
BEGIN, END = "<!-- bench:all -->", "<!-- /bench:all -->"
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

GOALS = {"issue_ratio": 15.0, "page_rps": 2500.0, "page_p99_ms": 25.0}
"""Issue 18's targets: issuing vs cold soffice; the verification page at 32 connections."""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def org_records(n: int, start: int) -> list[dict]:
    """``n`` single-site organisations as the CLI reads them (JSON)."""
    from convert_bench import organisations

    return [{"name": o.name, "uscc": o.uscc, "registered_address": o.registered_address,
             "scope": o.scope, "grade": o.grade, "decision_date": o.decision_date.isoformat(),
             "sites": [{"address": s.address, "scope": s.scope} for s in o.sites]}
            for o in organisations(n, start)]


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children waited for so far."""
    return sum(getattr(resource.getrusage(who), field)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def cold_soffice(sample: int, work: Path) -> dict:
    """Certificates rendered as issuing renders them, each converted by a fresh soffice."""
    from convert_bench import cold, organisations

    from certdesk.common.settings import get_settings
    from certdesk.domain.profiles import installed_profiles
    from certdesk.services.issuing import Issuer

    settings = get_settings()
    with Issuer(installed_profiles(settings).get("cacq"), settings=settings,
                allow_unverified=True) as iss:
        orgs = organisations(sample + 1, 500_000)
        cold(iss, orgs[:1], work)  # the LibreOffice profile, as any user already has one
        cpu = cpu_seconds()
        result = cold(iss, orgs, work)
        # cold() converts its first document untimed: the CPU of that one is counted too
        cpu_per_doc = (cpu_seconds() - cpu) / (result["documents"] + 1)
    return {**result, "cpu_ms_per_doc": round(cpu_per_doc * 1000, 1)}


def cli_issue(n: int, root: Path) -> dict:
    """``certdesk issue`` of ``n`` organisations in a fresh home, wall clock of the process."""
    home = root / "issue-home"
    source = root / "orgs.json"
    source.write_text(json.dumps(org_records(n, 0), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_ALLOW_UNVERIFIED_PROFILE": "1"}
    for name in ("CERTDESK_DATABASE_URL", "CERTDESK_TSA_URL"):
        env.pop(name, None)
    certdesk = str(Path(sys.executable).with_name("certdesk"))
    started, cpu = time.perf_counter(), cpu_seconds()
    done = subprocess.run([certdesk, "issue", "-p", "cacq", "-i", str(source), "--json"],
                          env=env, capture_output=True, text=True, timeout=3600)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        raise SystemExit(f"certdesk issue failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)["summary"]
    return {"organisations": n, "certificates": summary["certificates"],
            "failed": summary["failed"], "seconds": round(seconds, 2),
            "docs_per_s": round(summary["certificates"] / seconds, 3),
            "cpu_ms_per_doc": round(cpu / max(1, summary["certificates"]) * 1000, 1),
            "largest_process_peak_rss_mb": round(peak_mb, 1)}


def web(args: argparse.Namespace, root: Path) -> list[dict]:
    """web_bench's rounds: bare sync/async, certdesk --workers 1 and 2; the median round."""
    import web_bench

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    env, token = web_bench.seeded_home(root / "web")
    wrk = argparse.Namespace(threads=2, connections=args.connections, duration=args.duration,
                             workers=[1, 2], rounds=args.rounds)
    db = str(root / "web" / "home" / "certdesk.db")
    measured = [row for n in range(args.rounds)
                for row in web_bench.one_round(env, token, db, wrk, n)]
    return web_bench.medians(measured)


def memory(n: int, root: Path) -> dict:
    """memory_bench's run of ``n`` certificates, sampled every 1% of them."""
    import memory_bench

    work = root / "memory"
    work.mkdir()
    run = argparse.Namespace(certificates=n, sites=2, every=max(10, n // 100), minutes=0)
    result = memory_bench.cli_run(run, work)
    return {k: v for k, v in result.items() if k != "peak_sample"}


def measure(args: argparse.Namespace) -> Path:
    root = Path(tempfile.mkdtemp(prefix="certdesk-bench-all-"))
    os.environ["CERTDESK_HOME"] = str(root / "cold-home")
    report: dict = {"when": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "kernel": platform.release()},
                    "goals": GOALS, "load_average": {}}
    try:
        work = root / "cold"
        work.mkdir()
        report["load_average"]["cold"] = load()
        print(f"cold soffice: {args.cold_sample} documents …", file=sys.stderr, flush=True)
        report["cold"] = cold_soffice(args.cold_sample, work)
        report["load_average"]["issue"] = load()
        print(f"certdesk issue: {args.orgs} organisations through the CLI …", file=sys.stderr,
              flush=True)
        report["issue"] = cli_issue(args.orgs, root)
        report["issue_ratio"] = round(report["issue"]["docs_per_s"]
                                      / report["cold"]["docs_per_s"], 1)
        # CPU per certificate moves less with the machine's other load than wall time
        report["issue_cpu_ratio"] = round(report["cold"]["cpu_ms_per_doc"]
                                          / report["issue"]["cpu_ms_per_doc"], 1)
        if not args.no_web:
            report["load_average"]["web"] = load()
            report["web"] = web(args, root)
        if args.memory:
            report["load_average"]["memory"] = load()
            report["memory"] = memory(args.memory, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report["load_average"]["end"] = load()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"all-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def table(report: dict) -> str:
    """The README's speed section body, from a result file."""
    c, i = report["cold"], report["issue"]
    la = report["load_average"]
    day = report["when"][:10]
    lines = [f"One run of `bench/all.py` on {day}, {report['machine']['cpus']} cores, shared "
             f"with other work (1-minute load average {la.get('cold', ['?'])[0]} before the "
             f"cold run, {la.get('issue', ['?'])[0]} before issuing"
             + (f", {la['web'][0]} before the web rows" if "web" in la else "") + ").",
             "",
             "| path | certificates/s | vs cold | CPU ms/certificate | vs cold |",
             "|---|---|---|---|---|",
             f"| one cold `soffice --convert-to pdf` per certificate ({c['documents']} "
             f"sampled) | {c['docs_per_s']:.2f} | 1× | {c['cpu_ms_per_doc']:,.0f} | 1× |",
             f"| `certdesk issue` of {i['organisations']} organisations, start-up included: "
             f"render, PDF/A, PAdES signature, archive | {i['docs_per_s']:.1f} | "
             f"**{report['issue_ratio']}×** (goal {GOALS['issue_ratio']:g}×) | "
             f"{i['cpu_ms_per_doc']:,.0f} | {report['issue_cpu_ratio']}× |"]
    m = report.get("memory")
    if m:
        lines += ["", f"Memory over {m['certificates']:,} certificates in one `certdesk issue`: "
                  f"certdesk {m['certdesk_rss_mb_first_half_end'][0]:.0f} → "
                  f"{m['certdesk_rss_mb_first_half_end'][1]:.0f} MB RSS over the second half "
                  f"({m['certdesk_mb_per_1000_second_half']:+.1f} MB per 1,000), its "
                  f"LibreOffice workers' PSS at most "
                  f"{max(m['office_pss_cycle_peaks_mb']):.0f} MB per recycling cycle."]
    rows = report.get("web")
    if rows:
        import web_bench

        lines += ["", web_bench.markdown(rows), "", web_bench.scaling(rows, [1, 2])]
        for page in ("page", "JSON API"):
            best = max((r for r in rows if r["target"] == web_bench.CERTDESK
                        and r["page"] == page), key=lambda r: r["rps"], default=None)
            if best:
                met = (best["rps"] >= GOALS["page_rps"]
                       and best["p99_ms"] < GOALS["page_p99_ms"])
                lines += ["", f"The {page}: at best {best['rps']:,.0f} req/s p99 "
                          f"{best['p99_ms']:.1f} ms ({best['workers']} worker"
                          f"{'s' * (best['workers'] > 1)}, load {best['load_1min']:.1f}); goal "
                          f"≥ {GOALS['page_rps']:,.0f} req/s with p99 < "
                          f"{GOALS['page_p99_ms']:g} ms: **{'met' if met else 'not met'}**."]
    return "\n".join(lines)


def write_readme(result: Path) -> None:
    report = json.loads(result.read_text(encoding="utf-8"))
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md has no {BEGIN} … {END} section")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    source = f"<!-- generated by bench/all.py --readme {result.relative_to(REPO)} -->"
    README.write_text(f"{head}{BEGIN}\n{source}\n\n{table(report)}\n\n{END}{tail}",
                      encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orgs", type=int, default=150)
    ap.add_argument("--cold-sample", type=int, default=10)
    ap.add_argument("--duration", type=int, default=10, help="seconds of wrk load per row")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=1, help="web rounds (median shown)")
    ap.add_argument("--no-web", action="store_true", help="issuing only")
    ap.add_argument("--memory", type=int, default=0, metavar="N",
                    help="also sample memory over one issue of N certificates (0: not)")
    ap.add_argument("--readme", type=Path, metavar="RESULT",
                    help="regenerate the README speed table from RESULT and stop")
    args = ap.parse_args()
    if args.readme:
        write_readme(args.readme.resolve())
        return
    path = measure(args)
    write_readme(path)
    print(table(json.loads(path.read_text(encoding="utf-8"))))
    print(f"\nwritten {path.relative_to(REPO)}; README.md regenerated from it")


if __name__ == "__main__":
    main()
