"""Reading organisations to certify from JSON, CSV or .xlsx (format: docs/input-format.md).

Every problem is reported as one line naming the record and the field.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, overload
from zipfile import BadZipFile

from certdesk.common.errors import InputError, InvalidUSCC
from certdesk.common.files import read_bytes
from certdesk.common.i18n import N_, Said
from certdesk.documents import records
from certdesk.domain.coverage import product_names
from certdesk.domain.text import SINGLE_LINE, clean_text, normalise_spaces, printable
from certdesk.domain.uscc import validate_uscc


@dataclass(frozen=True)
class Column:
    """One column of a CSV or sheet of organisations (docs/input-format.md)."""

    field: str
    """The English header, and the JSON field (``site_*``: a site's field)."""
    zh: tuple[str, ...]
    """The Chinese headers; the first is the template sheet's."""
    required: bool
    example: str
    """The template sheet's example row."""


COLUMNS = (
    Column("name", ("组织名称", "名称", "获证组织"), True, "北京恒信达家电售后服务有限公司"),
    Column("uscc", ("统一社会信用代码", "信用代码"), True, "91110105MA01XB8H2N"),
    Column("registered_address", ("注册地址",), True, "北京市朝阳区建国路88号"),
    Column("scope", ("认证范围",), True, "家用电器的安装、维修"),
    Column("grade", ("等级", "认证等级"), False, "五星级"),
    Column("decision_date", ("决定日期", "认证决定日期"), True, "2026-03-10"),
    Column("issue_date", ("签发日期", "发证日期"), False, "2026-03-15"),
    Column("business_address", ("经营地址",), False, ""),
    Column("products", ("认证产品", "产品", "商品"), False, "空调、冰箱"),
    Column("site_name", ("场所名称",), False, "总部"),
    Column("site_address", ("场所地址",), False, "北京市朝阳区建国路88号"),
    Column("site_scope", ("场所范围", "场所认证范围"), False, ""),
    Column("site_temporary", ("临时场所",), False, "否"),
)
"""Every column the loader reads, in the template sheet's order."""

REQUIRED = tuple(c.field for c in COLUMNS if c.required)
CSV_SITE_COLUMNS = tuple(c.field for c in COLUMNS if c.field.startswith("site_"))
OPTIONAL_COLUMNS = tuple(c.field for c in COLUMNS
                         if not c.required and c.field not in CSV_SITE_COLUMNS)

PLACES = {"line": N_("第 {n} 行"), "row": N_("表格第 {n} 行")}
"""A CSV line or a sheet row, as a message names it."""


def _place(source: str, unit: str, n: int) -> Said:
    """A CSV line or sheet row of ``source`` (``o.csv：第 2 行`` / "o.csv: line 2"). A place
    is a ``Said``: a message naming it says it in the message's language (never an
    f-string, which would freeze one language)."""
    return Said(N_("{source}：{place}"), source=source, place=Said(PLACES[unit], n=n))


def _named(where: str, name: str) -> Said:
    """A place with the organisation read there (``…（某公司）`` / "… (某公司)")."""
    return Said(N_("{where}（{organisation}）"), where=where, organisation=name)


HEADERS: dict[str, str] = {h: c.field for c in COLUMNS for h in (*c.zh, c.field)}
"""Column headers a CSV or sheet may use (Chinese or English, docs/input-format.md), each
to its field; headers are compared after NFKC, trimming and lower-casing."""


@dataclass(frozen=True)
class SiteInput:
    address: str
    scope: str
    temporary: bool = False
    name: str = ""
    """The site's name (门店/网点名称); printed where given, required where the body's
    certificate names every site (DNI 5.5.1(2))."""


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    uscc: str
    registered_address: str
    scope: str
    decision_date: date
    grade: str | None = None
    issue_date: date | None = None
    sites: tuple[SiteInput, ...] = ()
    products: tuple[str, ...] = ()
    """The scope's products and services, where listed: the surveillances of the cycle
    cover them all [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]."""
    line: int | None = field(default=None, compare=False)
    """The file line (CSV) or sheet row (xlsx) the organisation starts on."""
    warnings: tuple[Said, ...] = field(default=(), compare=False)
    """What reading changed in the record (spaces normalised), one line each."""


def _located(exc: InputError, key: str) -> InputError:
    exc.field = key  # the column a failure names, for `failed` entries in --json
    return exc


def _text(where: str, rec: dict, key: str, required: bool = True,
          warnings: list[Said] | None = None) -> str | None:
    value = rec.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _located(InputError(N_("{where}：字段 {field} 缺失或为空"), where=where,
                                      field=repr(key)), key)
        return None
    if not isinstance(value, str):
        raise _located(InputError(N_("{where}：字段 {field} 应为文本，而不是 {type}"),
                                  where=where, field=repr(key), type=type(value).__name__), key)
    try:
        text = clean_text(value.strip(), key, where)
    except InputError as exc:
        raise _located(exc, key) from None
    if key in SINGLE_LINE and warnings is not None:
        spaced = normalise_spaces(text)
        if spaced != text:
            warnings.append(Said(N_("{where}：字段 {field}：空白已规范，{text} 按 {read} 读取"),
                                   where=where, field=repr(key), text=repr(printable(text)),
                                   read=repr(spaced)))
            text = spaced
    return text


_SLASHED_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
"""A date as Excel on Chinese Windows writes a date cell into a CSV (2026/3/10)."""


def _folded(where: str, text: str, key: str, warnings: list[Said]) -> str:
    """``text`` NFKC-folded, with a warning when that changed it: a code typed with a
    full-width IME (９１１１…) is the same code; a name is not folded (its （） stay)."""
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        warnings.append(Said(N_("{where}：字段 {field}：全角字符已按半角读取，{text} 按 {read} "
                                  "读取"), where=where, field=repr(key),
                               text=repr(printable(text)), read=repr(printable(folded))))
    return folded


@overload
def _date(where: str, rec: dict, key: str, required: Literal[True] = True) -> date: ...
@overload
def _date(where: str, rec: dict, key: str, required: bool) -> date | None: ...


def _date(where: str, rec: dict, key: str, required: bool = True) -> date | None:
    text = _text(where, rec, key, required)
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text)  # ２０２６－０３－１０ typed with an IME
    slashed = _SLASHED_DATE.fullmatch(folded)
    try:
        if slashed:
            return date(*map(int, slashed.groups()))
        return date.fromisoformat(folded)
    except ValueError:
        raise _located(InputError(N_("{where}：字段 {field} = {text} 不是日期"
                                     "（YYYY-MM-DD 或 YYYY/M/D）"),
                                  where=where, field=repr(key), text=repr(text)), key) from None


def _bool(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "否"):
        return False
    if text in ("1", "true", "yes", "是"):
        return True
    raise _located(InputError(N_("{where}：temporary = {value} 不是“是/否”"), where=where,
                              value=repr(value)), "temporary")


def _products(where: str, value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    try:
        return tuple(clean_text(p, "products", where)
                     for p in product_names(value, Said(N_("{where}：字段 {field}"),
                                                        where=where, field=repr("products"))))
    except InputError as exc:
        raise _located(exc, "products") from None


def organisation_from_dict(rec: Any, where: str, *, line: int | None = None,
                           site_wheres: list[str] | None = None) -> OrganisationInput:
    """``site_wheres``: where each site was read (a CSV site has its own line)."""
    if not isinstance(rec, dict):
        raise InputError(N_("{where}：应为对象，而不是 {type}"), where=where,
                         type=type(rec).__name__)
    unknown = set(rec) - set(REQUIRED) - {"grade", "issue_date", "sites", "business_address",
                                          "products"}
    if unknown:
        raise _located(InputError(N_("{where}：未知字段 {fields}"), where=where,
                                  fields=", ".join(sorted(unknown))), ", ".join(sorted(unknown)))
    warnings: list[Said] = []
    try:
        uscc = validate_uscc(_folded(where, _text(where, rec, "uscc") or "", "uscc", warnings))
    except InvalidUSCC as exc:
        raise _located(InvalidUSCC(N_("{where}：{error}"), where=where, error=exc),
                       "uscc") from None
    raw_sites = rec.get("sites") or []
    if not isinstance(raw_sites, list):
        raise InputError(N_("{where}：sites 应为列表"), where=where)
    sites = []
    for i, s in enumerate(raw_sites, start=1):
        try:
            sw = (site_wheres[i - 1] if site_wheres
                  else Said(N_("{where}，第 {n} 个场所"), where=where, n=i))
            if not isinstance(s, dict):
                raise InputError(N_("{where}：应为含 address 与 scope 的对象"), where=sw)
            unknown_site = set(s) - {"name", "address", "scope", "temporary"}
            if unknown_site:
                raise InputError(N_("{where}：未知字段 {fields}"), where=sw,
                                 fields=", ".join(sorted(unknown_site)))
            sites.append(SiteInput(_text(sw, s, "address", warnings=warnings) or "",
                                   _text(sw, s, "scope") or "",
                                   _bool(sw, s.get("temporary", False)),
                                   _text(sw, s, "name", required=False, warnings=warnings) or ""))
        except InputError as exc:
            if site_wheres and getattr(exc, "field", None):
                exc.field = f"site_{exc.field}"  # the CSV column's name
            exc.site = i
            raise
    business = _text(where, rec, "business_address", required=False, warnings=warnings)
    if business:
        # The address the organisation serves from, when it has no separate sites: the
        # certificate's one covered address [CACQ 8.1 2), DNI 5.5.1(2), ZPIC 8.1.1 4)].
        if sites:
            raise InputError(N_("{where}：business_address 与 sites 只能填一项"
                                "（请把经营地址列为一个场所）"), where=where)
        sites.append(SiteInput(business, _text(where, rec, "scope") or ""))
    org = OrganisationInput(
        name=_text(where, rec, "name", warnings=warnings) or "",
        uscc=uscc,
        registered_address=_text(where, rec, "registered_address", warnings=warnings) or "",
        scope=_text(where, rec, "scope") or "",
        decision_date=_date(where, rec, "decision_date"),
        grade=_text(where, rec, "grade", required=False),
        issue_date=_date(where, rec, "issue_date", required=False),
        sites=tuple(sites),
        products=_products(where, rec.get("products")),
        line=line,
        warnings=tuple(warnings),
    )
    return org


@dataclass(frozen=True)
class Rejected:
    """A record of a batch that cannot be used, kept in place with its error: one bad
    record must not stop the others."""

    where: str
    error: InputError
    line: int | None = None
    organisation: str = ""

    @property
    def field(self) -> str | None:
        return getattr(self.error, "field", None)


Parsed = OrganisationInput | Rejected


def _name_of(rec: Any) -> str:
    name = rec.get("name") if isinstance(rec, dict) else None
    return printable(normalise_spaces(name)) if isinstance(name, str) else ""


def _checked(rec: Any, where: str, line: int | None = None,
             site_wheres: list[str] | None = None, site_lines: list[int] | None = None,
             ) -> Parsed:
    name = _name_of(rec)
    if name:  # every problem names the organisation as well as its place
        where = _named(where, name)
        site_wheres = [_named(w, name) for w in site_wheres or ()] or None
    try:
        return organisation_from_dict(rec, where, line=line, site_wheres=site_wheres)
    except InputError as exc:
        site = getattr(exc, "site", None)
        if site and site_lines:  # a CSV site's problem is on its own line
            line = site_lines[site - 1]
        return Rejected(where, exc, line, name)


def parse_json(text: str, source: str) -> list[Parsed]:
    return [_checked(r, Said(N_("{source}：第 {n} 条记录"), source=source, n=i))
            for i, r in enumerate(records.parse_json(text, source, "organisations"), start=1)]


def _columns(header: list[str], source: str, kind: str) -> list[str | None]:
    """Each header cell's field; unknown headers refused all at once, by name."""
    fields = [HEADERS.get(unicodedata.normalize("NFKC", h or "").strip().lower())
              for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True) if f is None and (h or "").strip()]
    if unknown:
        raise InputError(N_("{source}：未知列 {columns}（列名见 docs/input-format.md）"),
                         source=source, columns=", ".join(map(repr, unknown)))
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise InputError(N_("{source}：{kind} 表头缺少列 {columns}"), source=source, kind=kind,
                         columns=", ".join(missing))
    return fields


def _grouped(rows: list[tuple[int, list[str]]], source: str, unit: str) -> list[Parsed]:
    """One row per site; rows sharing a credit code are one organisation. ``rows`` are
    (line or sheet row, cells) with the header first; blank rows are skipped."""
    if not rows:
        raise InputError(N_("{source}：文件为空（应有表头行）"), source=source)
    fields = _columns(rows[0][1], source, "CSV" if unit == "line" else "sheet")
    grouped: dict[str, dict] = {}
    for line_no, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue  # a blank row, as Excel leaves them (`,,,,`)
        if len(cells) > len(fields) and any(c.strip() for c in cells[len(fields):]):
            raise InputError(N_("{source}：{place}有 {n} 列，表头只有 {header} 列"),
                             source=source, place=Said(PLACES[unit], n=line_no), n=len(cells),
                             header=len(fields))
        unnamed = [i for i, (f, c) in enumerate(zip(fields, cells, strict=False), start=1)
                   if f is None and c.strip()]
        if unnamed:  # a value under an empty header would be silently dropped
            raise InputError(N_("{source}：{place}第 {column} 列有值，但该列没有表头"),
                             source=source, place=Said(PLACES[unit], n=line_no),
                             column=unnamed[0])
        row = {f: c for f, c in zip(fields, cells, strict=False) if f}
        key = (unicodedata.normalize("NFKC", row.get("uscc") or "").strip().upper()
               or f"{unit}{line_no}")
        entry = grouped.get(key)
        if entry is None:
            rec: dict[str, Any] = {k: row[k] for k in (*REQUIRED, *OPTIONAL_COLUMNS) if k in row}
            rec["sites"] = []
            entry = grouped[key] = {"rec": rec, "line": line_no, "site_wheres": [],
                                    "site_lines": []}
        if (row.get("site_address") or "").strip():
            entry["rec"]["sites"].append({"name": row.get("site_name") or "",
                                          "address": row["site_address"],
                                          "scope": row.get("site_scope") or entry["rec"]["scope"],
                                          "temporary": row.get("site_temporary", "")})
            entry["site_wheres"].append(_place(source, unit, line_no))
            entry["site_lines"].append(line_no)
    if not grouped:
        raise InputError(N_("{source}：没有数据行"), source=source)
    return [_checked(e["rec"], _place(source, unit, e["line"]), e["line"], e["site_wheres"],
                     e["site_lines"])
            for e in grouped.values()]


def parse_csv(text: str, source: str) -> list[Parsed]:
    """CSV text (format: docs/input-format.md); lines counted as in the file, so a quoted
    cell spanning lines does not shift the lines named in errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows, start = [], 1
    for cells in reader:
        rows.append((start, cells))
        start = reader.line_num + 1
    return _grouped(rows, source, "line")


def decode_csv(raw: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) tried strictly first, then GB18030 (a superset of GBK:
    what Excel on Chinese Windows saves as "CSV")."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(N_("{source}：既不是 UTF-8 也不是 GB18030/GBK 文本（请另存为“CSV UTF-8”）"),
                     source=source)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a cell: 12.0 is "12"
    return str(value)


def parse_xlsx(raw: bytes, source: str) -> list[Parsed]:
    """The first sheet: a header row, then one row per site as in a CSV; errors name the
    sheet row."""
    # lazy: openpyxl costs ~0.3 s to import (measured); only .xlsx files need it
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError(N_("{source}：不是可读取的 .xlsx 工作簿（{error}）"), source=source,
                         error=exc) from None
    try:
        sheet = book.worksheets[0]
        rows = [(i, [_cell(v) for v in values])
                for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()
    while rows and not any(c.strip() for c in rows[0][1]):
        rows.pop(0)  # a sheet may start below blank rows
    return _grouped(rows, f"{source} [{sheet.title}]", "row")


def load_organisations(path: Path) -> list[Parsed]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return parse_xlsx(read_bytes(path), path.name)
    if suffix == ".csv":
        return parse_csv(decode_csv(read_bytes(path), path.name), path.name)
    return parse_json(records.read_text(path), path.name)
