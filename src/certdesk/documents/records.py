"""Input records for ``certdesk render``: JSON (an object, a list, or ``{"records": [...]}``)
or CSV, and typed access to their fields with one-line errors naming record and field.

CSV is flat, records are not (sites, team members, schedule rows). Columns therefore name
paths: ``name``, ``org.contact`` (nested object), ``sites[].address`` (a field of a list
item). Consecutive rows with the same value in the first column are one record: the first
row gives its plain fields, every row with a non-empty ``xxx[].field`` adds an item to
``xxx``. (``certdesk issue`` has its own flat CSV, one row per site, grouped by credit
code: ``services.inputs``.)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, overload

from certdesk.common.errors import InputError
from certdesk.common.files import read_bytes
from certdesk.common.i18n import N_, Said
from certdesk.domain.text import clean_text


def read_text(path: Path) -> str:
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(N_("{name}：不是 UTF-8 文本（请另存为 UTF-8）"),
                         name=Path(path).name) from None


def parse_json(text: str, source: str, key: str = "records") -> list[Any]:
    """The records of a JSON file: a list, one object, or ``{key: [...]}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(N_("{source}：JSON 格式错误，第 {line} 行第 {column} 列：{error}"),
                         source=source, line=exc.lineno, column=exc.colno, error=exc.msg) from None
    if isinstance(data, dict) and isinstance(data.get(key), list):
        data = data[key]
    records = data if isinstance(data, list) else [data]
    if not records:
        raise InputError(N_("{source}：文件中没有 {key}"), source=source, key=key)
    return records


def _put(record: dict, column: str, value: str, item: dict) -> None:
    target = item if "[]." in column else record
    path = column.split("[].", 1)[1] if "[]." in column else column
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def parse_csv(text: str, source: str) -> list[Any]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not header[0].strip():
        raise InputError(N_("{source}：CSV 需要表头行；第一列用于分组"), source=source)
    header = [h.strip() for h in header]
    records: list[dict] = []
    key = None
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(N_("{source}：第 {line} 行有 {n} 列，表头有 {header} 列"),
                             source=source, line=line_no, n=len(row), header=len(header))
        new = row[0] != key or not records
        if new:
            records.append({})
            key = row[0]
        record = records[-1]
        items: dict[str, dict] = {}
        for column, value in zip(header, row, strict=True):
            value = value.strip()
            if "[]." in column:
                if value:
                    _put(record, column, value, items.setdefault(column.split("[].")[0], {}))
            elif new and value:
                _put(record, column, value, {})
        for name, item in items.items():
            record.setdefault(name, []).append(item)
    if not records:
        raise InputError(N_("{source}：CSV 中没有数据行"), source=source)
    return records


def load_records(path: Path) -> list[Any]:
    text = read_text(path)
    name = Path(path).name
    return parse_csv(text, name) if name.lower().endswith(".csv") else parse_json(text, name)


NOT_A_NUMBER = N_("= {value} 不是数字")
_NO = ("", "0", "false", "no", "否")
_YES = ("1", "true", "yes", "是")


class Fields:
    """Typed, strict access to one record: unknown fields are refused (a typo should not
    silently print the default), every error names the record and the field."""

    def __init__(self, data: Any, where: str, known: set[str] | None = None) -> None:
        if not isinstance(data, Mapping):
            raise InputError(N_("{where}：应为对象，而不是 {type}"), where=where,
                             type=type(data).__name__)
        self.data, self.where = data, where
        if known is not None:
            unknown = sorted(set(data) - known)
            if unknown:
                raise InputError(N_("{where}：未知字段 {fields}（可用字段：{known}）"), where=where,
                                 fields=", ".join(unknown), known=", ".join(sorted(known)))

    def fail(self, key: str, why: str, /, **params: object) -> InputError:
        """The error naming ``key``: ``why`` is a msgid (its ``params`` fill it)."""
        return InputError(N_("{where}：字段 {field} {why}"), where=self.where, field=repr(key),
                          why=Said(why, **params))

    def has(self, key: str) -> bool:
        value = self.data.get(key)
        return value is not None and value != "" and value != []

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if default is None:
                raise self.fail(key, N_("缺失或为空"))
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, N_("应为文本，而不是 {type}"), type=type(value).__name__)
        return clean_text(str(value).strip(), key, self.where)

    # A required field is never None: the overloads tell the type checker so.
    @overload
    def date(self, key: str, required: Literal[True] = True) -> date: ...
    @overload
    def date(self, key: str, required: bool) -> date | None: ...

    def date(self, key: str, required: bool = True) -> date | None:
        if not self.has(key) and not required:
            return None
        text = self.text(key)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(key, N_("= {value} 不是日期（YYYY-MM-DD）"), value=repr(text)) from None

    @overload
    def number(self, key: str, required: Literal[True] = True) -> Decimal: ...
    @overload
    def number(self, key: str, required: bool) -> Decimal | None: ...

    def number(self, key: str, required: bool = True) -> Decimal | None:
        if not self.has(key) and not required:
            return None
        value = self.data.get(key)
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise self.fail(key, NOT_A_NUMBER, value=repr(value)) from None
        if isinstance(value, bool) or not number.is_finite():
            raise self.fail(key, NOT_A_NUMBER, value=repr(value))
        return number

    @overload
    def integer(self, key: str, required: Literal[True] = True, minimum: int = 0) -> int: ...
    @overload
    def integer(self, key: str, required: bool, minimum: int = 0) -> int | None: ...

    def integer(self, key: str, required: bool = True, minimum: int = 0) -> int | None:
        number = self.number(key, required)
        if number is None:
            return None
        if number != number.to_integral_value() or number < minimum:
            raise self.fail(key, N_("应为不小于 {minimum} 的整数"), minimum=minimum)
        return int(number)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if isinstance(value, bool):
            return value
        text = str(value if value is not None else "").strip().lower()
        if text in _NO:
            return False
        if text in _YES:
            return True
        raise self.fail(key, N_("= {value} 不是“是/否”"), value=repr(value))

    def items(self, key: str, known: set[str], required: bool = False) -> list[Fields]:
        value = self.data.get(key)
        if value in (None, "", []):
            if required:
                raise self.fail(key, N_("缺失或为空"))
            return []
        if not isinstance(value, list):
            raise self.fail(key, N_("应为列表"))
        return [Fields(v, Said(N_("{where}，{key}[{i}]"), where=self.where, key=key, i=i), known)
                for i, v in enumerate(value, start=1)]

    def texts(self, key: str) -> list[str]:
        """A list of texts; in CSV one cell with items separated by ``;`` or ``；``."""
        value = self.data.get(key)
        if value in (None, ""):
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.replace("；", ";").split(";") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, N_("应为文本列表"))
        return [v.strip() for v in value if v.strip()]

    def mapping(self, key: str, required: bool = True) -> Mapping[str, Any]:
        value = self.data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, N_("应为对象"))
        return value
