"""Reading organisations to certify from JSON or CSV (format: docs/input-format.md).

Every problem is reported as one line naming the record and the field.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from common.errors import InputError, InvalidUSCC
from docgen import records
from rules.text import clean_text
from rules.uscc import validate_uscc

REQUIRED = ("name", "uscc", "registered_address", "scope", "decision_date")
CSV_SITE_COLUMNS = ("site_address", "site_scope", "site_temporary")


@dataclass(frozen=True)
class SiteInput:
    address: str
    scope: str
    temporary: bool = False


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


def _text(where: str, rec: dict, key: str, required: bool = True) -> str | None:
    value = rec.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{where}: field {key!r} is missing or empty")
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: field {key!r} must be text, got {type(value).__name__}")
    return clean_text(value.strip(), key, where)


def _date(where: str, rec: dict, key: str, required: bool = True) -> date | None:
    text = _text(where, rec, key, required)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: field {key!r} = {text!r} is not a date (YYYY-MM-DD)") from None


def _bool(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "否"):
        return False
    if text in ("1", "true", "yes", "是"):
        return True
    raise InputError(f"{where}: temporary = {value!r} is not yes/no")


def organisation_from_dict(rec: Any, where: str) -> OrganisationInput:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: expected an object, got {type(rec).__name__}")
    unknown = set(rec) - set(REQUIRED) - {"grade", "issue_date", "sites"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    try:
        uscc = validate_uscc(_text(where, rec, "uscc") or "")
    except InvalidUSCC as exc:
        raise InvalidUSCC(f"{where}: {exc}") from None
    raw_sites = rec.get("sites") or []
    if not isinstance(raw_sites, list):
        raise InputError(f"{where}: 'sites' must be a list")
    sites = []
    for i, s in enumerate(raw_sites, start=1):
        sw = f"{where}, site {i}"
        if not isinstance(s, dict):
            raise InputError(f"{sw}: expected an object with address and scope")
        sites.append(SiteInput(_text(sw, s, "address") or "", _text(sw, s, "scope") or "",
                               _bool(sw, s.get("temporary", False))))
    org = OrganisationInput(
        name=_text(where, rec, "name") or "",
        uscc=uscc,
        registered_address=_text(where, rec, "registered_address") or "",
        scope=_text(where, rec, "scope") or "",
        decision_date=_date(where, rec, "decision_date"),
        grade=_text(where, rec, "grade", required=False),
        issue_date=_date(where, rec, "issue_date", required=False),
        sites=tuple(sites),
    )
    return org


@dataclass(frozen=True)
class Rejected:
    """A record of a batch that cannot be used, kept in place with its error: one bad
    record must not stop the others."""

    where: str
    error: InputError


Parsed = OrganisationInput | Rejected


def _checked(rec: Any, where: str) -> Parsed:
    try:
        return organisation_from_dict(rec, where)
    except InputError as exc:
        return Rejected(where, exc)


def parse_json(text: str, source: str) -> list[Parsed]:
    return [_checked(r, f"{source}: record {i}")
            for i, r in enumerate(records.parse_json(text, source, "organisations"), start=1)]


def parse_csv(text: str, source: str) -> list[Parsed]:
    """One row per site; rows sharing a credit code are one organisation."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{source}: CSV header lacks column(s) {', '.join(missing)}")
    grouped: dict[str, dict] = {}
    order: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{source}: line {line_no} has {len(header)} columns expected, "
                             "got a different count")
        key = (row.get("uscc") or "").strip().upper() or f"line{line_no}"
        rec = grouped.get(key)
        if rec is None:
            rec = {k: row[k] for k in (*REQUIRED, "grade", "issue_date") if k in row}
            rec["sites"] = []
            rec["_line"] = line_no
            grouped[key] = rec
            order.append(key)
        if (row.get("site_address") or "").strip():
            rec["sites"].append({"address": row["site_address"],
                                 "scope": row.get("site_scope") or rec["scope"],
                                 "temporary": row.get("site_temporary", "")})
    if not order:
        raise InputError(f"{source}: no data rows in the CSV")
    return [_checked(grouped[key], f"{source}: line {grouped[key].pop('_line')}")
            for key in order]


def load_organisations(path: Path) -> list[Parsed]:
    path = Path(path)
    text = records.read_text(path)
    if path.suffix.lower() == ".csv":
        return parse_csv(text, path.name)
    return parse_json(text, path.name)
