"""The template sheet for organisations files: the loader's own columns (``inputs.COLUMNS``)
under their Chinese headers, with one example row, as ``.xlsx`` or as CSV (UTF-8 with a
BOM, so Excel on Chinese Windows opens it without garbling)."""

from __future__ import annotations

import csv
import io

from certdesk.common.errors import InputError
from certdesk.common.i18n import DEFAULT, N_, Msg, translate
from certdesk.services.inputs import COLUMNS

MEDIA_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".csv": "text/csv; charset=utf-8"}
SHEET = N_("组织")
GUIDE = N_("填写说明")
# The headers stay Chinese in every language: they are what the loader reads (English field
# names are read too, and listed in the guide); the guide sheet is in the reader's language.


def template_bytes(suffix: str, lang: str = DEFAULT) -> bytes:
    """The template as ``suffix`` (``.xlsx`` or ``.csv``), its guide sheet in ``lang``."""
    if suffix not in MEDIA_TYPES:
        raise InputError(N_("模板只能是 .xlsx 或 .csv，不能是 {suffix}"),
                         suffix=repr(suffix) if suffix else Msg(N_("无后缀")))
    return _csv() if suffix == ".csv" else _xlsx(lang)


def _rows() -> list[list[str]]:
    return [[c.zh[0] for c in COLUMNS], [c.example for c in COLUMNS]]


def _csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_rows())
    return out.getvalue().encode("utf-8-sig")


def _xlsx(lang: str) -> bytes:
    # lazy: openpyxl costs ~0.3 s to import (measured); only this sheet needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(translate(lang, SHEET))  # the first sheet: the one the loader reads
    for row in _rows():
        sheet.append(row)
    for index, header in enumerate(_rows()[0], start=1):
        sheet.cell(1, index).font = Font(bold=True)
        for line in (1, 2):  # text cells: a credit code or a date stays as typed
            sheet.cell(line, index).number_format = "@"
        sheet.column_dimensions[get_column_letter(index)].width = max(
            12, len(header) * 3, len(COLUMNS[index - 1].example) * 2 + 2)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(translate(lang, GUIDE))
    guide.append([translate(lang, N_("表头")), "English header", translate(lang, N_("必填")),
                  translate(lang, N_("也可写作"))])
    required, also = translate(lang, N_("是")), translate(lang, N_("、"))
    for c in COLUMNS:
        guide.append([c.zh[0], c.field, required if c.required else "", also.join(c.zh[1:])])
    guide.append([])
    guide.append([translate(lang, N_("每个场所一行；统一社会信用代码相同的行是同一组织。"
                                     "格式说明：docs/input-format.md"))])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
