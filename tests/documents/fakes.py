"""A stand-in ``Converter`` for tests whose subject is what happens around a conversion
(numbers drawn, records archived, signatures, state changes): it makes a small real PDF of
the document's text, so the result can be signed, archived, verified and searched for its
words, in milliseconds and without LibreOffice.

What only LibreOffice can show (PDF/A conformance, fonts, layout, the QR image) stays in the
``office`` tests on the real ``ConverterPool``.
"""

from __future__ import annotations

import io
import threading
import zipfile

import pikepdf
from lxml import etree

from certdesk.common.errors import ConversionError
from certdesk.documents.untrusted import strip_external

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
LINES_PER_PAGE = 60


def docx_lines(docx: bytes, name: str = "document") -> list[str]:
    """The text of each paragraph of the body (tables and text boxes included), in order.

    A text box is written twice in Word's XML (the drawing and a VML fallback): only the
    first counts.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            root = etree.fromstring(package.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        # The real converter names the document it refuses; so does the fake.
        raise ConversionError(f"fake converter refused {name}: {exc}") from None
    texts: dict[etree._Element, list[str]] = {}
    for t in root.iter(f"{W}t"):
        if any(a.tag == FALLBACK for a in t.iterancestors()):
            continue
        paragraph = next(t.iterancestors(f"{W}p"), None)
        texts.setdefault(paragraph, []).append(t.text or "")
    return ["".join(parts) for parts in texts.values()]


def _to_unicode() -> bytes:
    """A CMap mapping every 2-byte code to the same Unicode code point (BMP), so text
    extraction reads back the characters written as their code points."""
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256)
              if not 0xD8 <= hi <= 0xDF]
    blocks = "".join(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange\n"
                     for chunk in (ranges[i:i + 100] for i in range(0, len(ranges), 100)))
    return ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CMapName /certdesk-fake-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            f"{blocks}endcmap CMapName currentdict /CMap defineresource pop end end\n"
            ).encode()


def text_pdf(lines: list[str]) -> bytes:
    """A PDF (A4) with ``lines`` as text: a non-embedded CID font, codes = code points."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name.SimSun,
        Encoding=pikepdf.Name("/Identity-H"), ToUnicode=pdf.make_stream(_to_unicode()),
        DescendantFonts=[pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name.SimSun, CIDToGIDMap=pikepdf.Name.Identity,
            CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                             Ordering=pikepdf.String("Identity"),
                                             Supplement=0),
            FontDescriptor=pikepdf.Dictionary(
                Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name.SimSun, Flags=6,
                FontBBox=[0, -120, 1000, 880], ItalicAngle=0, Ascent=880, Descent=-120,
                CapHeight=700, StemV=80))]))
    pages = [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    for page_lines in pages or [[]]:
        ops = ["BT /F1 10 Tf 12 TL 40 800 Td"]
        for line in page_lines:
            codes = "".join(f"{ord(c):04X}" for c in line if ord(c) <= 0xFFFF)
            ops.append(f"<{codes}> Tj T*")
        ops.append("ET")
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream("\n".join(ops).encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


class FakeConverter:
    """A ``documents.converter.Converter``: the document's text as a PDF. Thread-safe;
    records what it converted (by name) so tests can say what was produced."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.converted: list[str] = []
        self._lock = threading.Lock()
        self._closed = False

    def prestart(self) -> None:
        """Nothing to start."""

    def convert_bytes(self, docx: bytes, name: str = "document", documents: int = 1) -> bytes:
        if self._closed:
            raise ConversionError("the converter pool is closed")
        docx, _removed = strip_external(docx)  # as the real one: every package is untrusted
        pdf = text_pdf(docx_lines(docx, name))
        with self._lock:
            self.converted.append(name)
        return pdf

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> FakeConverter:  # commands hold their own pool in a with-block
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
