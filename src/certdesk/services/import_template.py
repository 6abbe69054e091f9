"""The template sheet for organisations files: the loader's own columns (``inputs.COLUMNS``)
under their Chinese headers, with one example row, as ``.xlsx`` or as CSV (UTF-8 with a
BOM, so Excel on Chinese Windows opens it without garbling)."""

from __future__ import annotations

import csv
import io

from certdesk.common.errors import InputError
from certdesk.services.inputs import COLUMNS

MEDIA_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".csv": "text/csv; charset=utf-8"}
SHEET = "组织"
GUIDE = "填写说明"


def template_bytes(suffix: str) -> bytes:
    """The template as ``suffix`` (``.xlsx`` or ``.csv``)."""
    if suffix not in MEDIA_TYPES:
        raise InputError(f"a template is .xlsx or .csv, not {suffix or 'no suffix'!r}")
    return _csv() if suffix == ".csv" else _xlsx()


def _rows() -> list[list[str]]:
    return [[c.zh[0] for c in COLUMNS], [c.example for c in COLUMNS]]


def _csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_rows())
    return out.getvalue().encode("utf-8-sig")


def _xlsx() -> bytes:
    # lazy: openpyxl costs ~0.3 s to import (measured); only this sheet needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(SHEET)  # the first sheet: the one the loader reads
    for row in _rows():
        sheet.append(row)
    for index, header in enumerate(_rows()[0], start=1):
        sheet.cell(1, index).font = Font(bold=True)
        for line in (1, 2):  # text cells: a credit code or a date stays as typed
            sheet.cell(line, index).number_format = "@"
        sheet.column_dimensions[get_column_letter(index)].width = max(
            12, len(header) * 3, len(COLUMNS[index - 1].example) * 2 + 2)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE)
    guide.append(["表头", "English header", "必填", "也可写作"])
    for c in COLUMNS:
        guide.append([c.zh[0], c.field, "是" if c.required else "", "、".join(c.zh[1:])])
    guide.append([])
    guide.append(["每个场所一行；统一社会信用代码相同的行是同一组织。格式说明：docs/input-format.md"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
