"""How fast the certificate register answers a filtered page at 100,000 certificates.

Bulk-inserts synthetic organisations and certificates (a spread of profiles, grades,
stored statuses and dates) into a fresh database at the head migration, then times
``certdesk.store.register.page`` for the views staff use: the first page, a page deep into the
register (keyset), status + expiring-within, a profile + grade + date range, a name
search and a credit-code search. Each view is run ``--repeat`` times; the median and the
worst are written to ``bench/results/register.json``, with one whole-view export (every
valid certificate) to .xlsx and .csv.

    .venv/bin/python bench/register_bench.py [--count 100000] [--database-url URL]

With ``--database-url`` (an empty PostgreSQL database) the results go to ``--out``, e.g.
``bench/results/register-postgresql.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from certdesk.store.db import init_db, make_engine, refresh_statistics  # noqa: E402
from certdesk.store.models import Certificate, Organisation  # noqa: E402
from certdesk.store.register import RegisterQuery, all_rows, export_bytes, page  # noqa: E402

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 1, tzinfo=UTC)
PROFILES = (("xbht", "FWF", ("五星级", "四星级", "三星级")), ("zpic", "FWS", (None,)),
            ("dni", "FWD", ("五星级", "四星级")))
STATUSES = ["valid"] * 16 + ["suspended", "revoked", "cancelled", "superseded"]
WORDS = "恒信达华安泰和顺通宏远鑫盛嘉美中科天成新联众创"
CITIES = ("北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "成都", "武汉")


def populate(engine, count: int, seed: int = 17) -> None:
    rnd = random.Random(seed)
    orgs, certs = [], []
    for i in range(1, count + 1):
        name = (f"{rnd.choice(CITIES)}{''.join(rnd.sample(WORDS, 3))}家电售后服务有限公司"
                f"{i:06d}")
        orgs.append({"id": i, "uscc": f"91{i:016d}", "name": name,
                     "registered_address": f"{name[:2]}市某区某路{i}号", "created": NOW})
        profile, code, grades = rnd.choice(PROFILES)
        issued = date(2022, 1, 1) + timedelta(days=rnd.randrange(365 * 5))
        certs.append({
            "id": i, "number": f"0273{issued.year % 100:02d}{code}{i:06d}R000",
            "main_number": None, "profile": profile, "organisation_id": i, "sub": None,
            "cycle": 0, "holder_name": name, "scope": "家用电器的安装、维修",
            "site_address": None, "sites_json": "[]", "grade": rnd.choice(grades),
            "decision_date": issued, "issue_date": issued, "effective_from": issued,
            "expiry_date": issued + timedelta(days=3 * 365 - 1), "reissue_date": None,
            "status": rnd.choice(STATUSES), "status_reason": None, "status_changed": NOW,
            "pdf_sha256": f"{i:064x}", "created": NOW})
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            conn.execute(insert(Organisation), orgs[start:start + 10_000])
            conn.execute(insert(Certificate), certs[start:start + 10_000])


VIEWS = {
    "first page, by number": RegisterQuery(),
    "valid, by expiry": RegisterQuery(status=("valid",), sort="expiry_date"),
    "expiring within 60 days, by expiry": RegisterQuery(expiring_within=60,
                                                        sort="expiry_date"),
    "suspended or expired, newest issue first": RegisterQuery(
        status=("suspended", "expired"), sort="issue_date", descending=True),
    "xbht 五星级 issued in 2025, by holder": RegisterQuery(
        profile="xbht", grade="五星级", issued_from=date(2025, 1, 1),
        issued_to=date(2025, 12, 31), sort="holder"),
    "name search 恒信": RegisterQuery(search="恒信"),
    "credit code search": RegisterQuery(search="910000000000050000"),
}


def timed(engine, q: RegisterQuery, repeat: int) -> dict:
    times, shown, total = [], 0, 0
    with Session(engine) as s:
        for _ in range(repeat):
            start = time.perf_counter()
            result = page(s, q, TODAY)
            times.append((time.perf_counter() - start) * 1000)
            shown, total = len(result.rows), result.total
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2),
            "rows": shown, "total": total}


def export_times(engine, q: RegisterQuery) -> dict:
    """One whole-view export (all pages) to .xlsx and .csv: the rows, then each file."""
    with Session(engine) as s:
        start = time.perf_counter()
        rows = all_rows(s, q, TODAY)
        read = time.perf_counter() - start
    out = {"rows": len(rows), "read_s": round(read, 2)}
    for suffix in (".xlsx", ".csv"):
        start = time.perf_counter()
        data = export_bytes(suffix, rows, q, TODAY)
        out[f"{suffix[1:]}_s"] = round(time.perf_counter() - start, 2)
        out[f"{suffix[1:]}_bytes"] = len(data)
    return out


def deep_cursor(engine, q: RegisterQuery, pages: int) -> RegisterQuery:
    """The query positioned ``pages`` pages in (followed through the cursors)."""
    with Session(engine) as s:
        for _ in range(pages):
            q = replace(q, after=page(s, q, TODAY).next_cursor)
    return q


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", help="default: SQLite in a temp folder")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("results") / "register.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        init_db(engine)
        start = time.perf_counter()
        populate(engine, args.count)
        refresh_statistics(engine)  # as the first command after the load would
        if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        loaded = time.perf_counter() - start
        views = dict(VIEWS)
        views["page 500 by number (keyset)"] = deep_cursor(engine, RegisterQuery(), 500)
        results = {name: timed(engine, q, args.repeat) for name, q in views.items()}
        export = export_times(engine, VIEWS["valid, by expiry"])
        engine.dispose()
    report = {"certificates": args.count, "database": url.split(":", 1)[0],
              "page_size": RegisterQuery().limit, "repeat": args.repeat,
              "load_seconds": round(loaded, 1), "views": results,
              "export_valid_view": export,
              "worst_median_ms": max(r["median_ms"] for r in results.values())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
