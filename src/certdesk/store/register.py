"""The certificate register: every certificate, filtered, sorted and paged, the view the
staff desk (``/staff/certificates``) and ``certdesk certificates list`` both show, and its
export to ``.xlsx`` / ``.csv``.

Status filters are the public's status (``domain.status.effective_status``) written as SQL
over the stored status and the dates, so a filter never loads rows to look at them. Pages
are keyset pages: the cursor is the last row's sort value and id, and the next page starts
after it through the (sort column, id) index — as fast on page 2,000 as on page 1.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, or_, tuple_
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_, Msg
from certdesk.domain.status import HOLDING, STATUS_LABELS, CertStatus
from certdesk.store.models import Certificate, Organisation

SORTS: dict[str, Mapped[Any]] = {
    "number": col(Certificate.number), "issue_date": col(Certificate.issue_date),
    "expiry_date": col(Certificate.expiry_date), "holder": col(Certificate.holder_name)}
"""Sort keys → column; each has a (column, id) index (migration 0005) for keyset paging."""
MAX_PAGE = 500
MAX_EXPORT = 100_000
"""An export is the whole filtered view, up to this many rows (the register's design size)."""
COUNT_CAP = 10_000
"""A page says "more than 10,000" rather than counting every match."""
MAX_ZIP = 200
"""PDFs in one zip download: a selection on a page (a client's whole file: ``certdesk
export``)."""


@dataclass(frozen=True)
class RegisterQuery:
    """One view of the register. Dates are inclusive; ``today`` anchors status filters."""

    status: tuple[str, ...] = ()
    profile: str | None = None
    grade: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    expires_from: date | None = None
    expires_to: date | None = None
    expiring_within: int | None = None
    """Valid or suspended certificates whose expiry date is within this many days from today."""
    search: str = ""
    """Part of the holder's name, or the start of a certificate number or credit code."""
    sort: str = "number"
    descending: bool = False
    limit: int = 50
    after: str | None = None
    """The cursor of the previous page's last row."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.status if s not in STATUS_LABELS]
        if unknown:
            raise InputError(N_("未知的证书状态“{status}”（应为 {statuses} 之一）"),
                             status="、".join(unknown), statuses=", ".join(STATUS_LABELS))
        if self.sort not in SORTS:
            raise InputError(N_("不能按“{sort}”排序（应为 {sorts} 之一）"), sort=self.sort,
                             sorts=", ".join(SORTS))
        if not 1 <= self.limit <= MAX_PAGE:
            raise InputError(N_("每页条数应为 1–{max}"), max=MAX_PAGE)
        if self.expiring_within is not None and not 0 <= self.expiring_within <= 3660:
            raise InputError(N_("“到期天数”应为 0–3660"))

    def as_params(self) -> dict[str, Any]:
        """The query as URL/CLI parameters (defaults left out): links keep the view."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value in (None, "", ()) or key == "after" or value == _DEFAULTS[key]:
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


_DEFAULTS = asdict(RegisterQuery())


@dataclass(frozen=True)
class RegisterRow:
    number: str
    main_number: str | None
    profile: str
    holder: str
    uscc: str
    grade: str | None
    issue_date: date
    expiry_date: date
    status: str
    """The status today (effective), as the public sees it."""
    has_pdf: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status][0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RegisterPage:
    rows: tuple[RegisterRow, ...]
    total: int
    """Certificates matching the filter (not only this page), counted up to COUNT_CAP + 1."""
    next_cursor: str | None
    today: date
    query: RegisterQuery = field(repr=False)

    @property
    def total_capped(self) -> bool:
        return self.total > COUNT_CAP

    def as_dict(self) -> dict[str, Any]:
        return {"total": min(self.total, COUNT_CAP), "more_than_total": self.total_capped,
                "today": self.today, "next_cursor": self.next_cursor,
                "query": self.query.as_params(), "certificates": [r.as_dict() for r in self.rows]}


def status_condition(status: str, today: date) -> ColumnElement[bool]:
    """SQL true exactly when ``effective_status(stored, expiry, today, issued=issue)`` is
    ``status`` (a test checks the two agree on every combination)."""
    stored, issue, expiry = (col(Certificate.status), col(Certificate.issue_date),
                             col(Certificate.expiry_date))
    if status == CertStatus.EXPIRED:
        return and_(stored.in_(HOLDING), expiry < today)
    if status == CertStatus.NOT_YET_VALID:
        return and_(stored == CertStatus.VALID, expiry >= today, issue > today)
    if status == CertStatus.VALID:
        return and_(stored == CertStatus.VALID, expiry >= today, issue <= today)
    if status == CertStatus.SUSPENDED:
        return and_(stored == CertStatus.SUSPENDED, expiry >= today)
    return stored == status


def effective_sql(today: date) -> ColumnElement[str]:
    """The effective status as a SQL expression (for the rows a page shows)."""
    stored, issue, expiry = (col(Certificate.status), col(Certificate.issue_date),
                             col(Certificate.expiry_date))
    return case(
        (and_(stored.in_(HOLDING), expiry < today), CertStatus.EXPIRED.value),
        (and_(stored == CertStatus.VALID, issue > today), CertStatus.NOT_YET_VALID.value),
        else_=stored)


def _normalised(text: str) -> str:
    return "".join(text.split()).upper()


def _conditions(s: Session, q: RegisterQuery, today: date) -> list[ColumnElement[bool]]:
    c = Certificate
    where: list[ColumnElement[bool]] = []
    if q.status:
        where.append(or_(*(status_condition(s, today) for s in q.status)))
    if q.profile:
        where.append(col(c.profile) == q.profile)
    if q.grade:
        where.append(col(c.grade) == q.grade)
    if q.issued_from:
        where.append(col(c.issue_date) >= q.issued_from)
    if q.issued_to:
        where.append(col(c.issue_date) <= q.issued_to)
    if q.expires_from:
        where.append(col(c.expiry_date) >= q.expires_from)
    if q.expires_to:
        where.append(col(c.expiry_date) <= q.expires_to)
    if q.expiring_within is not None:
        where.append(and_(col(c.status).in_(HOLDING), col(c.expiry_date) >= today,
                          col(c.expiry_date) <= today + timedelta(days=q.expiring_within)))
    if q.search.strip():
        where.append(_search(s, q.search))
    return where


def _prefix(column: Mapped[str], text: str) -> ColumnElement[bool]:
    """``column`` starts with ``text``, as a range the column's index answers (LIKE 'x%'
    cannot use an index on SQLite unless the column is NOCASE)."""
    return and_(column >= text, column < text + "\U0010ffff")


USCC_PREFIX_MIN = 8
"""A credit code is matched by its start from 8 characters on (check, kind and the region
code): shorter, nearly every organisation would match."""


def _search(s: Session, text: str) -> ColumnElement[bool]:
    """Codes (letters and digits) are looked up by index: certificate number or credit
    code prefix; anything else is part of the holder's name (a scan, as names are searched
    by any part: staff type 恒信 for 北京恒信达…)."""
    compact = _normalised(text)
    if not re.fullmatch(r"[0-9A-Z-]{2,}", compact):
        return col(Certificate.holder_name).contains(text.strip(), autoescape=True)
    by_number = _prefix(col(Certificate.number), compact)
    if len(compact) < USCC_PREFIX_MIN:
        return by_number
    # The organisations first, as a list: PostgreSQL combines two index scans for
    # "number OR organisation IN (1, 2)", but scans the table for "OR IN (subquery)".
    orgs = s.exec(select(Organisation.id).where(_prefix(col(Organisation.uscc), compact))
                  .limit(MAX_PAGE)).all()
    return or_(by_number, col(Certificate.organisation_id).in_(orgs)) if orgs else by_number


def encode_cursor(value: Any, ident: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, date) else value, ident])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort in ("issue_date", "expiry_date"):
            value = date.fromisoformat(value)
        if not isinstance(ident, int) or not isinstance(value, str | date):
            raise ValueError
    except (ValueError, TypeError):
        raise InputError(N_("翻页位置“{cursor}”无效，请从第一页重新开始"),
                         cursor=cursor[:40]) from None
    return value, ident


def _base(s: Session, q: RegisterQuery,
          today: date) -> tuple[Select[*tuple[Any, ...]], list[ColumnElement[bool]]]:
    c = Certificate
    columns = (col(c.id), col(c.number), col(c.main_number), col(c.profile),
               col(c.holder_name), col(Organisation.uscc), col(c.grade),
               col(c.issue_date), col(c.expiry_date), effective_sql(today),
               col(c.pdf_sha256).is_not(None))
    # sqlmodel's select() is typed for up to four columns; with more it makes this Select.
    stmt: Select[*tuple[Any, ...]] = Select(*columns).join(
        Organisation, col(Organisation.id) == c.organisation_id)
    where = _conditions(s, q, today)
    return stmt.where(*where) if where else stmt, where


def _ordered(stmt: Select[*tuple[Any, ...]], q: RegisterQuery) -> Select[*tuple[Any, ...]]:
    column = SORTS[q.sort]
    if q.descending:
        return stmt.order_by(column.desc(), col(Certificate.id).desc())
    return stmt.order_by(column, col(Certificate.id))


def _row(r: Sequence[Any]) -> RegisterRow:
    return RegisterRow(number=r[1], main_number=r[2], profile=r[3], holder=r[4], uscc=r[5],
                       grade=r[6], issue_date=r[7], expiry_date=r[8], status=r[9],
                       has_pdf=bool(r[10]))


def page(s: Session, q: RegisterQuery, today: date) -> RegisterPage:
    """One page of the register after ``q.after`` (the first page without it)."""
    stmt, where = _base(s, q, today)
    if q.after:
        value, ident = _decode_cursor(q.after, q.sort)
        key = tuple_(SORTS[q.sort], Certificate.id)
        stmt = stmt.where(key < tuple_(value, ident) if q.descending
                          else key > tuple_(value, ident))
    raw = s.exec(_ordered(stmt, q).limit(q.limit + 1)).all()
    more = len(raw) > q.limit
    raw = raw[:q.limit]
    # Counting stops past COUNT_CAP: an exact 48,097 costs a scan and helps nobody.
    matching = select(Certificate.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = s.exec(select(func.count()).select_from(matching)).one()
    cursor = None
    if more:
        last = raw[-1]
        value = {"number": last[1], "issue_date": last[7], "expiry_date": last[8],
                 "holder": last[4]}[q.sort]
        cursor = encode_cursor(value, last[0])
    return RegisterPage(tuple(_row(r) for r in raw), total, cursor, today, q)


def all_rows(s: Session, q: RegisterQuery, today: date) -> list[RegisterRow]:
    """Every row of the view (no page), in its order, for exports and the print view."""
    stmt, _ = _base(s, replace(q, after=None), today)
    rows = s.exec(_ordered(stmt, q).limit(MAX_EXPORT + 1)).all()
    if len(rows) > MAX_EXPORT:
        raise InputError(N_("筛选结果超过 {max} 张证书，请缩小筛选范围后再导出"), max=MAX_EXPORT)
    return [_row(r) for r in rows]


def pdf_records(s: Session, numbers: Sequence[str]) -> list[tuple[str, str]]:
    """(number, pdf sha256) of the selected certificates, in the order given."""
    numbers = list(dict.fromkeys(_normalised(n) for n in numbers if n.strip()))
    if not numbers:
        raise InputError(N_("请至少选择一张证书"))
    if len(numbers) > MAX_ZIP:
        raise InputError(N_("一次最多下载 {max} 份证书"), max=MAX_ZIP)
    found = dict(s.exec(select(Certificate.number, Certificate.pdf_sha256)
                        .where(col(Certificate.number).in_(numbers))).all())
    missing = [n for n in numbers if n not in found]
    if missing:
        raise InputError(N_("没有证书 {numbers}"), numbers="、".join(missing))
    no_pdf = [n for n in numbers if not found[n]]
    if no_pdf:
        raise InputError(N_("证书 {numbers} 没有存档的 PDF"), numbers="、".join(no_pdf))
    return [(n, sha) for n in numbers if (sha := found[n])]


def holder_names(s: Session, numbers: Sequence[str]) -> dict[str, str]:
    """Number → holder's name, of these certificates."""
    return dict(s.exec(select(Certificate.number, Certificate.holder_name)
                       .where(col(Certificate.number).in_(numbers))).all())


# -- exports ----------------------------------------------------------------------------------

COLUMNS = (("number", "证书编号"), ("main_number", "主证书编号"), ("profile", "认证方案"),
           ("holder", "获证组织"), ("uscc", "统一社会信用代码"), ("grade", "等级"),
           ("issue_date", "发证日期"), ("expiry_date", "有效期至"), ("status", "证书状态"))
EXPORT_FORMATS = (".xlsx", ".csv")
MEDIA_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".csv": "text/csv; charset=utf-8", ".zip": "application/zip"}
PROGRESS_EVERY = 1000
"""An export reports its rows written this often (a job's progress: one write per call)."""
TEXT_CODES = frozenset({"number", "main_number", "uscc"})
"""Columns of codes that Excel would read as numbers once a cell is edited."""


def _cells(row: RegisterRow) -> Iterator[Any]:
    for key, _ in COLUMNS:
        value = getattr(row, key)
        yield STATUS_LABELS[value][0] if key == "status" else value


Item = TypeVar("Item")


def _counted(rows: Sequence[Item], on_rows: Callable[[int], None] | None) -> Iterator[Item]:
    """The rows, telling ``on_rows`` how many are written every PROGRESS_EVERY and at the end."""
    for written, row in enumerate(rows, start=1):
        yield row
        if on_rows is not None and (written % PROGRESS_EVERY == 0 or written == len(rows)):
            on_rows(written)


def export_bytes(suffix: str, rows: Sequence[RegisterRow], q: RegisterQuery,
                 today: date, on_rows: Callable[[int], None] | None = None) -> bytes:
    """The view as ``.xlsx`` (dates as dates, codes as text, the filter on a second sheet)
    or ``.csv`` (UTF-8 with BOM, so Excel and WPS open the Chinese); ``on_rows`` hears the
    rows written (an export job's progress)."""
    if suffix == ".csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([h for _, h in COLUMNS])
        for row in _counted(rows, on_rows):
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v
                             for v in _cells(row)])
        return text.getvalue().encode("utf-8-sig")
    if suffix != ".xlsx":
        raise InputError(N_("导出格式应为 .xlsx 或 .csv，而不是“{suffix}”"),
                         suffix=suffix or Msg(N_("没有后缀")))
    # lazy: openpyxl costs ~0.3 s to import (measured); only .xlsx files need it
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # Write-only: rows stream to the file (an export may hold 100,000 certificates).
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("证书登记")
    for index, (key, header) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = \
            40 if key == "holder" else max(12, len(header) * 3)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"

    def cell(value: Any, **style: Any) -> Cell:
        made = WriteOnlyCell(ws, value=value)
        for name, setting in style.items():
            setattr(made, name, setting)
        return made

    bold = Font(bold=True)
    ws.append([cell(h, font=bold) for _, h in COLUMNS])
    # Codes stay text: Excel turns a credit code into 9.11E+17 when a cell is edited. Only
    # codes and dates carry a format: a styled cell costs several times a plain one.
    formats = ["yyyy-mm-dd" if key.endswith("_date") else "@" if key in TEXT_CODES else None
               for key, _ in COLUMNS]
    for row in _counted(rows, on_rows):
        ws.append([value if fmt is None or value is None else cell(value, number_format=fmt)
                   for value, fmt in zip(_cells(row), formats, strict=True)])
    meta = wb.create_sheet("筛选条件")
    meta.append(["查询日期", today])
    meta.append(["证书数", len(rows)])
    for key, value in q.as_params().items():
        meta.append([key, ", ".join(map(str, value)) if isinstance(value, list) else value])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pdf_zip(picked: Sequence[tuple[str, str]], read: Callable[[str], bytes],
            on_rows: Callable[[int], None] | None = None) -> bytes:
    """The PDFs of ``pdf_records`` as one zip, ``<number>.pdf`` each (``read``: the blob
    store's, by sha256); ``on_rows`` hears the PDFs written."""
    out = io.BytesIO()
    # PDFs are compressed already: stored, not deflated again.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
        for number, sha in _counted(picked, on_rows):
            bundle.writestr(f"{number}.pdf", read(sha))
    return out.getvalue()
