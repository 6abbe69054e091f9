"""Export of the reporting ledger for upload to the regulator's system: one row per report
item with the certificate's facts as the register holds them, in a column layout that is
documented (docs/reporting.md) and only ever grows at the end.

Formats by the file's suffix: ``.xlsx`` (dates as dates, numbers and credit codes as text),
``.csv`` (UTF-8 with BOM, so Excel and WPS read the Chinese), ``.json`` (English keys).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_, Msg
from certdesk.documents.context import full_scope
from certdesk.domain.profiles import Profiles
from certdesk.store import reporting
from certdesk.store.db import session_scope
from certdesk.store.models import Certificate, Organisation, ReportBatch, ReportItem

COLUMNS: tuple[tuple[str, str], ...] = (
    ("item", "条目号"),
    ("certificate_number", "证书编号"),
    ("main_number", "主证书编号"),
    ("organisation", "获证组织名称"),
    ("credit_code", "统一社会信用代码"),
    ("scope", "认证范围"),
    ("sites", "认证场所"),
    ("standard", "认证依据"),
    ("grade", "等级"),
    ("issue_date", "发证日期"),
    ("expiry_date", "有效期至"),
    ("event", "上报事项"),
    ("event_code", "事项代码"),
    ("event_date", "事项日期"),
    ("reason", "原因"),
    ("due_date", "应报日期"),
)
"""(key, 中文表头) in file order. Stable: a new column is only ever appended."""

DATE_COLUMNS = frozenset({"issue_date", "expiry_date", "event_date", "due_date"})
FORMATS = (".xlsx", ".csv", ".json")


def export_rows(s: Session, profiles: Profiles,
                items: Sequence[ReportItem]) -> list[dict[str, Any]]:
    """One row per item, keyed as ``COLUMNS``."""
    rows = []
    for item in items:
        cert = s.exec(select(Certificate).where(
            Certificate.number == item.certificate_number)).one()
        org = s.get_one(Organisation, cert.organisation_id)
        profile = profiles.get(cert.profile)
        sites = ([cert.site_address] if cert.site_address else
                 [x["address"] for x in json.loads(cert.sites_json or "[]")])
        rows.append({
            "item": item.id, "certificate_number": cert.number,
            "main_number": cert.main_number or "", "organisation": cert.holder_name,
            "credit_code": org.uscc, "scope": full_scope(profile, cert.scope),
            "sites": "；".join(sites), "standard": "；".join(profile.scheme.standards),
            "grade": cert.grade or "", "issue_date": cert.issue_date,
            "expiry_date": cert.expiry_date, "event": reporting.EVENT_LABELS[item.event_kind],
            "event_code": item.event_kind, "event_date": item.event_date,
            "reason": item.reason or "", "due_date": item.due_date,
        })
    return rows


def _xlsx(rows: list[dict], meta: dict[str, Any]) -> bytes:
    # lazy: openpyxl costs ~0.3 s to import (measured); only .xlsx files need it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet), "a new workbook has one worksheet"
    ws.title = "上报清单"
    ws.append([header for _, header in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row[key] for key, _ in COLUMNS])
    for index, (key, header) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        # Text columns stay text: Excel would turn a credit code or a number with leading
        # zeros into a number (and 9.11E+17) when the cell is edited.
        fmt = "yyyy-mm-dd" if key in DATE_COLUMNS else "0" if key == "item" else "@"
        for cell in ws[letter][1:]:
            cell.number_format = fmt
        width = max([len(header) * 2, *(len(str(r[key])) * 2 if isinstance(r[key], str)
                                          else 12 for r in rows)])
        ws.column_dimensions[letter].width = min(max(width, 10), 60)
    ws.freeze_panes = "A2"
    keys = wb.create_sheet("columns")
    keys.append(["key", "表头"])
    keys.append(["english key", "中文表头"])
    for key, header in COLUMNS:
        keys.append([key, header])
    keys.append([])
    for name, value in meta.items():
        keys.append([name, str(value)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv(rows: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS])
    for row in rows:
        writer.writerow([row[key].isoformat() if isinstance(row[key], date) else row[key]
                         for key, _ in COLUMNS])
    return text.getvalue().encode("utf-8-sig")


def _json(rows: list[dict], meta: dict[str, Any]) -> bytes:
    data = {**meta, "columns": [{"key": k, "header": h} for k, h in COLUMNS],
            "items": rows}
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode() + b"\n"


def file_bytes(suffix: str, rows: list[dict], meta: dict[str, Any]) -> bytes:
    if suffix == ".xlsx":
        return _xlsx(rows, meta)
    if suffix == ".csv":
        return _csv(rows)
    return _json(rows, meta)


def check_out(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(N_("{out}：导出文件应为 .xlsx、.csv 或 .json，而不是 {suffix}"), out=out,
                         suffix=suffix or Msg(N_("没有后缀")))
    if not out.parent.is_dir():
        raise InputError(N_("{out}：文件夹 {folder} 不存在"), out=out, folder=out.parent)
    return suffix


def _write(out: Path, data: bytes) -> None:
    """All or nothing: a temporary file in the same folder renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from the uploader's tools
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Export:
    batch: int | None
    """None for a dry run."""
    items: int
    out: Path | None
    rows: list[dict]

    def as_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "items": self.items, "out": self.out,
                "certificates": sorted({r["certificate_number"] for r in self.rows})}


def _meta(batch: ReportBatch) -> dict[str, Any]:
    return {"batch": batch.id, "created": batch.created.isoformat(timespec="seconds"),
            "created_by": batch.created_by}


def export(engine: Engine, profiles: Profiles, out: Path, by: str, *, include_sent: bool = False,
           dry_run: bool = False) -> Export:
    """A new batch of the unsent items (all with ``include_sent``) written to ``out``; the
    batch commits only once the file is in place."""
    suffix = check_out(out)
    with session_scope(engine) as s:
        batch, items = reporting.new_batch(s, by, include_sent=include_sent)
        rows = export_rows(s, profiles, items)
        if dry_run:
            s.rollback()
            return Export(None, len(rows), None, rows)
        _write(out, file_bytes(suffix, rows, _meta(batch)))
        return Export(batch.id, len(rows), out, rows)


def batch_file(engine: Engine, profiles: Profiles, batch_id: int,
               suffix: str) -> tuple[str, bytes]:
    """The export file of an existing batch, made again (same items, the register's facts
    as they are now): a file name and its bytes."""
    with Session(engine) as s:
        batch = reporting.get_batch(s, batch_id)
        rows = export_rows(s, profiles, reporting.batch_items(s, batch_id))
        return (f"认监委报送-批次{batch_id}{suffix}",
                file_bytes(suffix, rows, _meta(batch)))


def write_batch(engine: Engine, profiles: Profiles, batch_id: int, out: Path, *,
                dry_run: bool = False) -> None:
    """Write the file of existing batch ``batch_id`` to ``out`` (format by its suffix)."""
    suffix = check_out(out)
    _name, data = batch_file(engine, profiles, batch_id, suffix)
    if not dry_run:
        _write(out, data)
