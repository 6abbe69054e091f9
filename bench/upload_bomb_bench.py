"""The 255 KB object-stream bomb against a real ``certdesk serve``, while another client
reads certificate pages.

    .venv/bin/python bench/upload_bomb_bench.py [--attackers 3] [--bombs 4] [--reads 200]

A throw-away home is seeded with certificates (no LibreOffice needed) and served by
uvicorn on loopback. First ``--reads`` page requests (``GET /v/<number>``) from 127.0.0.2
give the baseline; then ``--attackers`` clients (127.0.0.3 …, each its own rate bucket,
burst raised so the limiter does not hide the load) send ``--bombs`` bombs each to
``/api/v1/verify`` and ``/verify`` back to back while the reader repeats its requests.
Printed and written to bench/results/upload-bomb-<time>.json: each bomb's status and
time, the page latencies (median, p95, max) before and during the attack. The machine is
shared: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"

from tests.signing.bombs import object_stream_bomb  # noqa: E402
from tests.signing.support import make_settings  # noqa: E402
from tests.web.conftest import MAIN, seed  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client(address: str, base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=120,
                        transport=httpx.HTTPTransport(local_address=address))


def _reads(client: httpx.Client, n: int, stop: threading.Event | None = None) -> list[float]:
    times = []
    while (stop is None and len(times) < n) or (stop is not None and not stop.is_set()):
        started = time.monotonic()
        answer = client.get(f"/v/{MAIN}")
        times.append((time.monotonic() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
        if stop is not None:
            time.sleep(0.02)
    return times


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
            "max_ms": round(ordered[-1], 1),
            "under_100_ms": f"{sum(t < 100 for t in ordered)}/{len(ordered)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=3)
    parser.add_argument("--bombs", type=int, default=4)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="certdesk-bomb-"))
    seed(make_settings(home))
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_PUBLIC_RATE_BURST": "1000",
           "CERTDESK_PUBLIC_RATE_PER_MINUTE": "6000"}
    env.pop("CERTDESK_DATABASE_URL", None)
    server = subprocess.Popen([str(Path(sys.executable).with_name("certdesk")), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    bomb = object_stream_bomb()
    try:
        reader = _client("127.0.0.2", base)
        for _ in range(300):
            try:
                if reader.get(f"/v/{MAIN}").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        baseline = _reads(reader, args.reads)

        bombs: list[dict] = []
        stop = threading.Event()

        def attack(i: int) -> None:
            client = _client(f"127.0.0.{3 + i}", base)
            for j in range(args.bombs):
                url = "/api/v1/verify" if j % 2 == 0 else "/verify"
                started = time.monotonic()
                answer = client.post(url, files={"file": ("bomb.pdf", bomb, "application/pdf")})
                bombs.append({"attacker": i, "url": url, "status": answer.status_code,
                              "seconds": round(time.monotonic() - started, 2)})

        during: list[float] = []
        read_thread = threading.Thread(target=lambda: during.extend(_reads(reader, 0, stop)))
        read_thread.start()
        attackers = [threading.Thread(target=attack, args=(i,)) for i in range(args.attackers)]
        for t in attackers:
            t.start()
        for t in attackers:
            t.join()
        stop.set()
        read_thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    result = {
        "at": datetime.now().isoformat(timespec="seconds"), "load_average": os.getloadavg(),
        "cpus": os.cpu_count(), "bomb_bytes": len(bomb),
        "limit_seconds": make_settings(home).upload_check_seconds,
        "bombs": bombs, "pages_before": _summary(baseline), "pages_during": _summary(during),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"upload-bomb-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
