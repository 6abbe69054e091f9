"""Memory over a long issuing run: does it stay flat over 10,000 certificates?

    .venv/bin/python bench/memory_bench.py [--certificates 2000] [--every 100] [--minutes M]
    .venv/bin/python bench/memory_bench.py --tracemalloc [--certificates 1000]

Default: one real ``certdesk issue`` process (merged batches, the real LibreOffice pool) of
``--certificates`` single-site organisations in a fresh data home, watched from outside:
each time another ``--every`` certificates are committed (counted in the database), the
RSS of the certdesk process and the RSS and PSS of its LibreOffice children (PSS splits
the pages they share) are sampled. Flat means: certdesk's RSS over the second half of the
run grows by less than ``FLAT_MB_PER_1000`` per 1,000 certificates, and the LibreOffice
children's peak per recycling cycle does not grow (they are restarted every
``CERTDESK_CONVERTER_RECYCLE_AFTER`` conversions). ``--minutes`` stops the run there
(SIGTERM: certdesk finishes the batches under way and prints its summary) and reports the
certificates issued by then.

``--tracemalloc``: the same issuing in this process (``services.issuing.Issuer``) with
tracemalloc on; a snapshot once the run is warm and one at the end, and the lines whose
allocations grew most between them — where to look when the curve is not flat.

The machine is shared: run it under ``nice``; the load average is recorded. The result is
written to bench/results/memory-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

FLAT_MB_PER_1000 = 5.0
"""certdesk's growth per 1,000 certificates over the run's second half still called flat:
allocator noise and caches that fill once, not a leak that scales with the run."""
POLL_SECONDS = 0.5


def proc_kb(pid: int, field: str, name: str = "status") -> int:
    """One ``kB`` field of /proc/<pid>/status (or smaps_rollup); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass  # a LibreOffice worker recycled between listing and reading
    return 0


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (LibreOffice workers and their helpers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name is in parentheses and may hold spaces: fields follow ")"
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def sample(pid: int, certificates: int, started: float) -> dict:
    children = descendants(pid)
    return {"certificates": certificates, "seconds": round(time.monotonic() - started, 1),
            "certdesk_rss_mb": round(proc_kb(pid, "VmRSS") / 1024, 1),
            "office_rss_mb": round(sum(proc_kb(c, "VmRSS") for c in children) / 1024, 1),
            "office_pss_mb": round(sum(proc_kb(c, "Pss", "smaps_rollup")
                                       for c in children) / 1024, 1),
            "office_processes": len(children)}


def committed(db: Path) -> int:
    """Certificates committed so far, read beside the running command (read-only)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM certificate").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not made yet
        return 0


def write_orgs(n: int, sites: int, path: Path) -> None:
    """``n`` organisations of ``sites`` sites each (one site: one certificate; more: a
    main certificate and a sub-certificate per site)."""
    from all import org_records

    records = org_records(n, 0)
    for r in records if sites > 1 else ():
        r["sites"] = [{"address": f"{r['registered_address']}{k + 1}层", "scope": r["scope"]}
                      for k in range(sites)]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def organisations_for(certificates: int, sites: int) -> int:
    """Organisations that bring about ``certificates`` certificates."""
    return math.ceil(certificates / (1 if sites == 1 else sites + 1))


def cli_run(args: argparse.Namespace, root: Path) -> dict:
    """``certdesk issue`` of organisations bringing ``args.certificates`` certificates,
    sampled from outside."""
    home = root / "home"
    source = root / "orgs.json"
    organisations = organisations_for(args.certificates, args.sites)
    write_orgs(organisations, args.sites, source)
    env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_ALLOW_UNVERIFIED_PROFILE": "1"}
    for name in ("CERTDESK_DATABASE_URL", "CERTDESK_TSA_URL", "CERTDESK_BLOB_URL"):
        env.pop(name, None)
    certdesk = str(Path(sys.executable).with_name("certdesk"))
    started = time.monotonic()
    answer = root / "answer.json"  # a file, not a pipe: 10,000 certificates fill a pipe
    with answer.open("w") as out:
        proc = subprocess.Popen([certdesk, "issue", "-p", "cacq", "-i", str(source),
                                 "--json"], env=env, stdout=out, stderr=subprocess.DEVNULL)
    samples = [sample(proc.pid, 0, started)]
    db, next_mark = home / "certdesk.db", args.every
    peak = samples[0]
    deadline = started + 60 * args.minutes if args.minutes else None
    try:
        while proc.poll() is None:
            time.sleep(POLL_SECONDS)
            if deadline and time.monotonic() > deadline:
                proc.send_signal(signal.SIGTERM)
                deadline = None
            now = sample(proc.pid, committed(db), started)
            peak = max(peak, now, key=lambda s: s["certdesk_rss_mb"] + s["office_pss_mb"])
            if now["certificates"] >= next_mark and now["certdesk_rss_mb"]:
                samples.append(now)
                next_mark = (now["certificates"] // args.every + 1) * args.every
                print(f"  {now['certificates']:>6} certificates  certdesk "
                      f"{now['certdesk_rss_mb']:.0f} MB  LibreOffice PSS "
                      f"{now['office_pss_mb']:.0f} MB", file=sys.stderr, flush=True)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # 1: some organisations failed (reported below); the samples still stand
    if proc.returncode not in (0, 1, 128 + signal.SIGTERM):
        raise SystemExit(f"certdesk issue failed ({proc.returncode})")
    done = json.loads(answer.read_text(encoding="utf-8"))
    summary = done["summary"]
    return {"mode": "cli", "organisations": organisations, "sites": args.sites,
            "certificates": committed(db), "failed": summary["failed"],
            "failures": done["failed"][:5],
            "stopped_after_minutes": args.minutes if proc.returncode > 1 else None,
            "seconds": round(time.monotonic() - started, 1),
            "peak_sample": peak, **verdict(samples), "samples": samples}


def slope_per_1000(points: list[tuple[float, float]]) -> float:
    """Least-squares growth of y per 1,000 of x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 1000 * sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def cycle_peaks(samples: list[dict], key: str) -> list[float]:
    """The LibreOffice children's peak in each recycling cycle (a cycle ends where they
    drop to under 70% of the sample before)."""
    peaks, peak = [], 0.0
    live = [s for s in samples if s["office_processes"]]  # not before start or after exit
    for prev, cur in zip(live, live[1:], strict=False):
        if prev[key] and cur[key] < 0.7 * prev[key]:
            peaks.append(peak)
            peak = 0.0
        peak = max(peak, cur[key])
    return [*peaks, peak]


def verdict(samples: list[dict]) -> dict:
    """Growth over the run's second half (the first fills caches and starts LibreOffice)."""
    half = [s for s in samples if s["certificates"] >= samples[-1]["certificates"] / 2]
    growth = slope_per_1000([(s["certificates"], s["certdesk_rss_mb"]) for s in half])
    return {"certdesk_mb_per_1000_second_half": round(growth, 2),
            "certdesk_rss_mb_first_half_end": [half[0]["certdesk_rss_mb"],
                                               samples[-1]["certdesk_rss_mb"]],
            "office_pss_cycle_peaks_mb": cycle_peaks(samples, "office_pss_mb"),
            "flat": growth < FLAT_MB_PER_1000}


def traced_run(args: argparse.Namespace, root: Path) -> dict:
    """The same issuing in this process under tracemalloc: the top growths between a warm
    snapshot (after a fifth of the run) and the end."""
    import tracemalloc

    from convert_bench import organisations

    from certdesk.common.settings import get_settings
    from certdesk.domain.profiles import installed_profiles
    from certdesk.services.issuing import Issuer

    os.environ["CERTDESK_HOME"] = str(root / "home")
    os.environ["CERTDESK_ALLOW_UNVERIFIED_PROFILE"] = "1"
    get_settings.cache_clear()
    tracemalloc.start(12)
    started, done = time.monotonic(), 0
    samples: list[dict] = []
    warm: list = []

    def on_done(_org, issued, _error) -> None:
        nonlocal done
        before, done = done, done + len(issued or [])
        if done // args.every > before // args.every:
            samples.append({**sample(os.getpid(), done, started),
                            "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1)})
            if not warm and done >= args.certificates // 5:
                warm.append(tracemalloc.take_snapshot())

    settings = get_settings()
    profile = installed_profiles(settings).get("cacq")
    with Issuer(profile, settings=settings, allow_unverified=True) as iss:
        result = iss.issue_many(organisations(args.certificates), on_done)
    end = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = end.compare_to(warm[0], "traceback") if warm else []
    return {"mode": "tracemalloc", "certificates": len(result.issued),
            "failed": len(result.failed), "seconds": round(time.monotonic() - started, 1),
            **verdict(samples), "samples": samples,
            "top_growth": [{"kb": round(d.size_diff / 1024, 1), "count": d.count_diff,
                            "where": d.traceback.format()[-6:]} for d in growth[:15]]}


def run(args: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix="certdesk-memory-"))
    load = [round(x, 2) for x in os.getloadavg()]
    try:
        result = traced_run(args, root) if args.tracemalloc else cli_run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"when": datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "load_average": {"start": load, "end": [
                round(x, 2) for x in os.getloadavg()]},
            "every": args.every, "flat_below_mb_per_1000": FLAT_MB_PER_1000, **result}


def summary_line(report: dict) -> str:
    return (f"{report['certificates']} certificates in {report['seconds']} s: certdesk "
            f"{report['certdesk_rss_mb_first_half_end'][0]} → "
            f"{report['certdesk_rss_mb_first_half_end'][1]} MB over the second half "
            f"({report['certdesk_mb_per_1000_second_half']:+.2f} MB per 1,000: "
            f"{'flat' if report['flat'] else 'GROWING'}); LibreOffice PSS peak per cycle "
            f"{report['office_pss_cycle_peaks_mb']} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--certificates", type=int, default=2000,
                    help="certificates to issue (main and sub-certificates)")
    ap.add_argument("--sites", type=int, default=2,
                    help="sites per organisation: a certificate number serves a main "
                         "certificate and its sub-certificates, and a scheme has 9,999 "
                         "numbers a year")
    ap.add_argument("--every", type=int, default=100, help="sample every N certificates")
    ap.add_argument("--minutes", type=float, default=0,
                    help="stop the run after this long (0: run to the end)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="issue in this process and diff tracemalloc snapshots")
    args = ap.parse_args()
    report = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"memory-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(summary_line(report))
    print(f"written {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
