"""The public verification page against the bare stack it runs on, side by side in one run.

    .venv/bin/python bench/web_bench.py [--duration 10] [--connections 32] [--threads 2]
                                        [--workers 1 2] [--rounds 3]

Each target is a fresh server on loopback, loaded by ``wrk`` for ``--duration`` seconds:

(a) bare stack: FastAPI + uvicorn, a plain ``sqlite3`` lookup of the certificate row and a
    ~3 KB HTML page from an f-string — with a sync endpoint (thread pool) in one process,
    and with an async one under each ``--workers`` value (what the machine allows: the
    ceiling for certdesk's scaling);
(b) certdesk's verification page ``/v/<number>?t=<token>`` (token check and full page:
    status, sub-certificates, history) and the JSON API ``/api/v1/certificates/<number>?t=…``
    (the token verified by the API), under ``certdesk serve --workers`` each value.

The data home is the web tests' seeded one (every status, sub-certificates, history), with
the rate limit lifted. The machine is shared, so absolute figures move with other load:
every target is measured ``--rounds`` times and the median round shown; compare rows of
one run (the ratio to the bare async stack with as many workers), and read the load average
recorded with them. The server's CPU time per request (its whole process tree, from /proc)
moves much less with that load: the cores divided by it is the rate the CPU alone would
allow. Results are printed as a markdown table and written to bench/results/web-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
NUMBER = "027326FWF0001R000"
"""The seeded main certificate (two sub-certificates, history)."""


# -- the bare stack ------------------------------------------------------------------------

def bare_app(db: str):
    """FastAPI with nothing of certdesk: one row lookup and a ~3 KB page per request."""
    import threading
    from html import escape

    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()
    local = threading.local()
    shared = sqlite3.connect(db, check_same_thread=False)
    filler = "<p>" + "公开信息 public facts " * 6 + "</p>\n"

    def lookup(conn: sqlite3.Connection, number: str) -> HTMLResponse:
        row = conn.execute("SELECT number, holder_name, status, issue_date, expiry_date, scope "
                           "FROM certificate WHERE number = ?", (number,)).fetchone()
        if row is None:
            return HTMLResponse("<p>not found</p>", 404)
        cells = "".join(f"<tr><td>{escape(str(v))}</td></tr>" for v in row)
        return HTMLResponse(f"<!doctype html><html><head><title>{escape(row[0])}</title></head>"
                            f"<body><table>{cells}</table>{filler * 12}</body></html>")

    @app.get("/sync/{number}")
    def sync_page(number: str):
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db)
        return lookup(local.conn, number)

    @app.get("/async/{number}")
    async def async_page(number: str):
        return lookup(shared, number)

    return app


def bare_from_environment():
    """The bare app each ``--workers`` process builds (uvicorn imports it by name)."""
    return bare_app(os.environ["WEB_BENCH_DB"])


def serve_bare(port: int, db: str, workers: int) -> None:
    import uvicorn

    os.environ["WEB_BENCH_DB"] = db
    uvicorn.run("web_bench:bare_from_environment", factory=True, workers=workers,
                host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- running targets -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {url} within {timeout:.0f} s")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its living descendants: the
    load-independent cost of what a server did, on a machine other work shares."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError):
            continue
    return total


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(value) * UNITS[unit]


def parse_wrk(out: str) -> dict:
    """Requests/s, latency percentiles (ms), errors from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "requests": requests, "p50_ms": pct.get("50"), "p90_ms": pct.get("90"),
            "p99_ms": pct.get("99"), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, sock.groups())) if sock else 0}


def run_wrk(url: str, args) -> dict:
    out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}",
                          f"-d{args.duration}s", "--timeout", "5s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def measure(name: str, workers: int, cmd: list[str], env: dict, urls: dict[str, str],
            args) -> list[dict]:
    """Start ``cmd``, warm it up, load each of ``urls`` in turn, stop it.

    The server gets a process group of its own (to stop it with its workers) but stays in
    this session: with the kernel's autogroup scheduling a new session is a scheduling
    group of its own, sharing the cores with every other session on the machine as one, so
    a server of two workers got one group's share — what kept 2 workers from scaling here
    (the bare stack's too) while other users' sessions were busy."""
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, process_group=0)
    rows = []
    try:
        for label, url in urls.items():
            wait_up(url, proc)
            subprocess.run(["wrk", "-t1", "-c4", "-d1s", url], capture_output=True, check=True)
            load = os.getloadavg()[0]
            cpu = tree_cpu_seconds(proc.pid)
            result = run_wrk(url, args)
            cpu_us = (tree_cpu_seconds(proc.pid) - cpu) / result["requests"] * 1e6
            rows.append({"target": name, "workers": workers, "page": label,
                         "load_1min": round(load, 2),
                         "server_cpu_us_per_request": round(cpu_us), **result})
            print(f"  {name:<22} ×{workers} {label:<10} {result['rps']:>8.0f} req/s  "
                  f"p99 {result['p99_ms']:.1f} ms  {cpu_us:.0f} µs CPU/request  load {load:.1f}",
                  file=sys.stderr)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    return rows


def seeded_home(root: Path) -> tuple[dict, str]:
    """A data home seeded like the web tests', the environment to serve it, and a token."""
    sys.path.insert(0, str(REPO))
    from certdesk.signing.tokens import TokenClaims, current_token
    from tests.signing.support import make_settings
    from tests.web.conftest import EXPIRES, HOLDER, ISSUED, seed

    settings = make_settings(root / "home")
    seed(settings)
    token = current_token(settings, TokenClaims(NUMBER, HOLDER, ISSUED, EXPIRES))
    env = {**os.environ, "CERTDESK_HOME": str(settings.home), "CERTDESK_PUBLIC_RATE_BURST":
           str(10**9), "CERTDESK_PUBLIC_RATE_PER_MINUTE": str(10**9)}
    for name in ("CERTDESK_DATABASE_URL", "CERTDESK_TSA_URL", "CERTDESK_TSA_ROOTS"):
        env.pop(name, None)
    return env, token


BARE_SYNC, BARE_ASYNC, CERTDESK = "bare FastAPI, sync", "bare FastAPI, async", "certdesk"


def one_round(env: dict, token: str, db: str, args, n: int) -> list[dict]:
    """Every target once: the bare stack first, then certdesk, each --workers value."""
    print(f"round {n + 1} of {args.rounds}", file=sys.stderr)
    rows: list[dict] = []
    bare = [(BARE_SYNC, "sync", 1)] + [(BARE_ASYNC, "async", w) for w in args.workers]
    for name, kind, workers in bare:
        port = free_port()
        rows += measure(name, workers, [sys.executable, __file__, "--serve-bare", str(port), db,
                                        str(workers)], env,
                        {"page": f"http://127.0.0.1:{port}/{kind}/{NUMBER}"}, args)
    certdesk = str(Path(sys.executable).with_name("certdesk"))
    for workers in args.workers:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        rows += measure(CERTDESK, workers,
                        [certdesk, "serve", "--port", str(port), "--workers", str(workers)],
                        env, {"page": f"{url}/v/{NUMBER}?t={token}",
                              "JSON API": f"{url}/api/v1/certificates/{NUMBER}?t={token}"},
                        args)
    return [{**row, "round": n + 1} for row in rows]


def _key(row: dict) -> tuple:
    return row["target"], row["workers"], row["page"]


def medians(measured: list[dict]) -> list[dict]:
    """Per target, workers and page, the round with the median req/s (other load comes
    and goes)."""
    out = []
    for key in dict.fromkeys(map(_key, measured)):
        runs = sorted((r for r in measured if _key(r) == key), key=lambda r: r["rps"])
        out.append(runs[(len(runs) - 1) // 2])
    return out


def find(rows: list[dict], target: str, workers: int, page: str = "page") -> dict | None:
    return next((r for r in rows if _key(r) == (target, workers, page)), None)


def markdown(rows: list[dict]) -> str:
    """The rows as a table: each against the bare async stack with as many workers."""
    cores = os.cpu_count() or 1
    lines = ["| target | workers | page | req/s | p50 ms | p90 ms | p99 ms | vs bare async "
             f"| server CPU µs/request | {cores} cores / CPU | errors | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bare = find(rows, BARE_ASYNC, r["workers"])
        ratio = f"{r['rps'] / bare['rps']:.2f}×" if bare else "–"
        cpu = r["server_cpu_us_per_request"]
        lines.append(f"| {r['target']} | {r['workers']} | {r['page']} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {ratio} | "
                     f"{cpu} | {cores * 1e6 / cpu:,.0f} | "
                     f"{r['non_2xx'] + r['socket_errors']} | {r['load_1min']:.1f} |")
    return "\n".join(lines)


def scaling(rows: list[dict], workers: list[int]) -> str:
    """How req/s grows with workers, certdesk against the bare stack on the same machine."""
    low, high = min(workers), max(workers)
    parts = []
    for target, page in ((CERTDESK, "page"), (CERTDESK, "JSON API"), (BARE_ASYNC, "page")):
        one, more = find(rows, target, low, page), find(rows, target, high, page)
        if one and more:
            parts.append(f"{target} {page} {more['rps'] / one['rps']:.2f}×")
    return f"{low} → {high} workers: " + ", ".join(parts) if parts and high > low else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per row")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="certdesk serve --workers values to measure")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every target this many times; the median round is shown")
    ap.add_argument("--serve-bare", nargs=3, metavar=("PORT", "DB", "WORKERS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_bare:
        return serve_bare(int(args.serve_bare[0]), args.serve_bare[1], int(args.serve_bare[2]))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    root = Path(tempfile.mkdtemp(prefix="certdesk-web-bench-"))
    try:
        env, token = seeded_home(root)
        measured = [row for n in range(args.rounds)
                    for row in one_round(env, token, str(root / "home" / "certdesk.db"), args,
                                         n)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = medians(measured)

    result = {"when": datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "wrk": {"threads": args.threads, "connections": args.connections,
                      "duration_s": args.duration},
              "load_average": os.getloadavg(), "rows": rows, "all_rounds": measured}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"web-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(markdown(rows))
    print(scaling(rows, args.workers))
    print(f"\nwritten {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
