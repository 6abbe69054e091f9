"""Many certificates through one LibreOffice load: merge, convert once, split.

LibreOffice spends most of a warm conversion on loading and laying out a document, not on
its pages: one more certificate inside a merged document costs ~9 ms, a conversion of its
own ~100 ms. ``convert_many`` therefore joins the rendered .docx of a batch into one
document (each certificate its own section, so each starts on a new page with its own page
set-up), converts it to PDF/A-2b once, and splits the PDF into one file per certificate.

Nothing may be mis-assigned: each certificate's first page must carry its own number (found
in the page text), in order, with no page left blank and no later certificate's number
inside its range. Anything else — a template that cannot be merged safely (headers,
footers, fields, list numbering, footnotes: they would run on across certificates), a
merged conversion LibreOffice refuses, a split that fails the check — falls back to one
conversion per certificate, where a failure is that certificate's alone.

Each split file is PDF/A-2b on its own: the merged file's XMP metadata, output intent and
document information (which the XMP mirrors) are copied into it, and only the fonts and
images its pages use. The fonts are the merged document's subsets (a glyph of another
certificate of the batch may be present). The structure tree (tags) is not carried over:
it spans the whole merged document, and PDF/A-2b does not require it.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from lxml import etree

from certdesk.common.errors import CertdeskError, ConversionError
from certdesk.documents.converter import Converter

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
DOCUMENT = "word/document.xml"
DOCUMENT_RELS = "word/_rels/document.xml.rels"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"

RUNS_ON = ("headerReference", "footerReference", "numPr", "fldSimple", "instrText",
           "footnoteReference", "endnoteReference", "commentReference")
"""Elements whose effect runs on from one certificate into the next in a merged document
(list and page numbers, footnote numbers) or that one section break cannot keep apart."""

PER_DOCUMENT = (DOCUMENT, DOCUMENT_RELS)
"""Parts that differ between certificates of one template; every other part (styles,
settings, fonts, numbering, content types, properties) must be the same bytes."""


class NotMergeable(CertdeskError):
    """The documents cannot share one conversion; each is converted on its own."""


class SplitMismatch(CertdeskError):
    """The merged PDF's pages do not map one to one onto the certificates."""


@dataclass(frozen=True)
class Part:
    """One certificate to convert: ``name`` is its number, printed on its first page."""

    name: str
    docx: bytes


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _numbered_styles(styles: bytes | None) -> set[str]:
    """Paragraph styles that number their paragraphs, directly or by inheritance."""
    if styles is None:
        return set()
    based: dict[str, str] = {}
    numbered: set[str] = set()
    for style in etree.fromstring(styles).iter(_q("style")):
        sid = style.get(_q("styleId")) or ""
        parent = style.find(_q("basedOn"))
        if parent is not None:
            based[sid] = parent.get(_q("val")) or ""
        if style.find(f"{_q('pPr')}/{_q('numPr')}") is not None:
            numbered.add(sid)
    for sid in list(based):
        seen, cur = set(), sid
        while cur in based and cur not in seen and cur not in numbered:
            seen.add(cur)
            cur = based[cur]
        if cur in numbered:
            numbered.add(sid)
    return numbered


def _body(xml: bytes, numbered: set[str]
          ) -> tuple[etree._Element, etree._Element, list[etree._Element]]:
    """Root, final section properties and the content of a document.xml."""
    root = etree.fromstring(xml)
    body = root.find(_q("body"))
    if body is None or len(body) == 0 or body[-1].tag != _q("sectPr"):
        raise NotMergeable("document.xml has no body section properties")
    content = list(body)[:-1]
    for tag in RUNS_ON:
        if body.find(f".//{_q(tag)}") is not None:
            raise NotMergeable(f"the template uses w:{tag}")
    if any(style.get(_q("val")) in numbered for style in body.iter(_q("pStyle"))):
        raise NotMergeable("the template uses a numbered paragraph style")
    if body.find(f".//{_q('pPr')}/{_q('sectPr')}") is not None:
        raise NotMergeable("the template has several sections")
    return root, body[-1], content


def _relations(xml: bytes) -> list[etree._Element]:
    return list(etree.fromstring(xml))


def _section_break(content: list[etree._Element], sect: etree._Element) -> None:
    """End ``content`` with ``sect`` as a next-page section break. Carried by its last
    paragraph: an extra empty paragraph could spill onto a page of its own."""
    sect = deepcopy(sect)
    for kind in sect.findall(_q("type")):  # default: next page (odd/even would add blanks)
        sect.remove(kind)
    last = content[-1] if content else None
    if last is None or last.tag != _q("p"):
        last = etree.SubElement(etree.Element(_q("body")), _q("p"))
        content.append(last)
    ppr = last.find(_q("pPr"))
    if ppr is None:
        ppr = etree.Element(_q("pPr"))
        last.insert(0, ppr)
    change = ppr.find(_q("pPrChange"))
    if change is not None:
        change.addprevious(sect)
    else:
        ppr.append(sect)


def merge_docx(docs: Sequence[bytes]) -> bytes:
    """One .docx holding ``docs`` (rendered from one template) in order, each in its own
    section starting on a new page. ``NotMergeable`` when that would change how any of
    them prints."""
    if not docs:
        raise NotMergeable("nothing to merge")
    with contextlib.ExitStack() as opened:  # closed also when a part refuses the merge
        zips = [opened.enter_context(zipfile.ZipFile(io.BytesIO(d))) for d in docs]
        return _merged(zips)


def _merged(zips: list[zipfile.ZipFile]) -> bytes:
    base = zips[0]
    shared = {n: base.read(n) for n in base.namelist()
              if n not in PER_DOCUMENT and not n.startswith("word/media/")}
    numbered = _numbered_styles(shared.get("word/styles.xml"))
    root, last_sect, _ = _body(base.read(DOCUMENT), numbered)
    body = root.find(_q("body"))
    assert body is not None  # checked by _body
    rels_root = etree.fromstring(base.read(DOCUMENT_RELS))
    base_rels = {(r.get("Id"), r.get("Type"), r.get("Target")) for r in rels_root
                 if r.get("Type") != IMAGE_REL}
    for r in list(rels_root):
        rels_root.remove(r)
    media: dict[str, bytes] = {}
    merged: list[etree._Element] = []
    for i, z in enumerate(zips):
        for n in z.namelist():
            if n not in PER_DOCUMENT and not n.startswith("word/media/") \
                    and z.read(n) != shared.get(n):
                raise NotMergeable(f"document {i + 1} differs from the first in {n}")
        if set(shared) - set(z.namelist()):
            raise NotMergeable(f"document {i + 1} lacks parts of the first")
        _, sect, content = _body(z.read(DOCUMENT), numbered)
        renamed = _take_relations(z, i, base_rels, rels_root, media)
        _rename_references(content, renamed, offset=(i + 1) * 100_000)
        if i < len(zips) - 1:
            _section_break(content, sect)
        else:
            last_sect = sect
        merged.extend(content)
    for child in list(body):
        body.remove(child)
    body.extend(merged)
    body.append(last_sect)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in base.namelist():
            if name == DOCUMENT:
                dst.writestr(name, etree.tostring(root, xml_declaration=True,
                                                  encoding="UTF-8", standalone=True))
            elif name == DOCUMENT_RELS:
                dst.writestr(name, etree.tostring(rels_root, xml_declaration=True,
                                                  encoding="UTF-8", standalone=True))
            elif name in shared:
                dst.writestr(name, shared[name])
        for name, data in media.items():
            dst.writestr(name, data)
    return out.getvalue()


def _take_relations(z: zipfile.ZipFile, i: int, base_rels: set, rels_root: etree._Element,
                    media: dict[str, bytes]) -> dict[str, str]:
    """Add document ``i``'s relationships to ``rels_root`` (its pictures renamed apart from
    the others'); the ids to rewrite in its body."""
    renamed: dict[str, str] = {}
    for rel in _relations(z.read(DOCUMENT_RELS)):
        key = (rel.get("Id"), rel.get("Type"), rel.get("Target"))
        if key in base_rels:
            if i == 0:
                rels_root.append(rel)
            continue
        if rel.get("Type") != IMAGE_REL or rel.get("TargetMode") == "External":
            raise NotMergeable(f"document {i + 1} has a relationship of its own "
                               f"({rel.get('Type', '').rsplit('/', 1)[-1]})")
        target = rel.get("Target", "")
        new_target = f"media/d{i}_{Path(target).name}"
        media[f"word/{new_target}"] = z.read(f"word/{target}")
        new_id = f"rIdD{i}x{rel.get('Id')}"
        renamed[str(rel.get("Id"))] = new_id
        rel.set("Id", new_id)
        rel.set("Target", new_target)
        rels_root.append(rel)
    return renamed


def _rename_references(content: list[etree._Element], renamed: dict[str, str],
                       offset: int) -> None:
    """Point ``content`` at its renamed relationships; drawing ids made unique."""
    for top in content:
        for el in top.iter():
            for attr, value in el.attrib.items():
                if isinstance(attr, str) and attr.startswith(f"{{{R}}}") and value in renamed:
                    el.set(attr, renamed[value])
            if el.tag == f"{{{WP}}}docPr" and (el.get("id") or "").isdigit():
                el.set("id", str(offset + int(el.get("id") or 0)))


# -- splitting the merged PDF ------------------------------------------------------------

_HEX_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_HEX_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BREAKS = frozenset({"ET", "Td", "TD", "T*", "Tm", "'", '"'})


def _unhex(h: bytes) -> str:
    return bytes.fromhex(h.decode()).decode("utf-16-be", errors="replace")


def _to_unicode(font: pikepdf.Object) -> tuple[int, dict[bytes, str]]:
    """Code width and code → text of a font, from its ToUnicode CMap (bfchar and simple
    bfrange entries: what LibreOffice writes)."""
    if "/ToUnicode" not in font:
        return 1, {}
    cmap = font.ToUnicode.read_bytes()
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap)
    width = len(space.group(1)) // 2 if space else 2
    table: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, uni in _HEX_PAIR.findall(block):
            table[bytes.fromhex(code.decode())] = _unhex(uni)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, uni in _HEX_RANGE.findall(block):
            first, last, base = int(lo, 16), int(hi, 16), int(uni, 16)
            for n in range(first, min(last, first + 0xFFFF) + 1):
                table[n.to_bytes(len(lo) // 2, "big")] = chr(base + n - first)
    return width, table


def page_text(page: pikepdf.Page, fonts: dict) -> str:
    """The text a page shows, read from its content stream through the fonts' ToUnicode
    maps (cached in ``fonts`` across the pages that share them); a line break wherever
    text is moved, so separate words do not run together."""
    out: list[str] = []
    table: dict[bytes, str]
    width, table = 1, {}
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    font_dict = resources.get("/Font", pikepdf.Dictionary())
    for instruction in pikepdf.parse_content_stream(page, "Tf Tj TJ ' \" ET Td TD T* Tm"):
        operands, operator = instruction.operands, instruction.operator
        op = str(operator)
        if op == "Tf":
            font = font_dict.get(str(operands[0]))
            if font is None:
                width, table = 1, {}
                continue
            key = font.objgen if font.is_indirect else id(font)
            if key not in fonts:
                fonts[key] = _to_unicode(font)
            width, table = fonts[key]
        elif op in ("Tj", "TJ", "'", '"'):
            for item in (operands[-1] if op == "TJ" else operands[-1:]):
                if isinstance(item, pikepdf.String):
                    raw = bytes(item)
                    out.extend(table.get(raw[i:i + width], "") if table
                               else raw[i:i + width].decode("latin-1")
                               for i in range(0, len(raw), width))
        if op in _BREAKS:
            out.append("\n")
    return "".join(out)


def page_texts(pdf: pikepdf.Pdf) -> list[str]:
    """The text of every page of ``pdf``."""
    fonts: dict = {}
    return [page_text(page, fonts) for page in pdf.pages]


def _mentions(text: str, name: str) -> bool:
    # The whole number: a main number is the start of its sub-certificates' numbers.
    return re.search(rf"(?<![0-9A-Za-z-]){re.escape(name)}(?![0-9A-Za-z-])", text) is not None


def page_ranges(texts: Sequence[str], names: Sequence[str]) -> list[range]:
    """Which pages belong to which certificate: each starts on the first page after the
    previous one's start that names it. ``SplitMismatch`` unless every certificate is
    found, in order, every page has text, and no page names a later certificate than its
    own."""
    starts: list[int] = []
    for name in names:
        first = (starts[-1] + 1) if starts else 0
        page = next((p for p in range(first, len(texts)) if _mentions(texts[p], name)), None)
        if page is None:
            raise SplitMismatch(f"{name} not found in the merged PDF after page {first}")
        starts.append(page)
    if not starts or starts[0] != 0:
        raise SplitMismatch("the merged PDF does not start with the first certificate")
    ranges = [range(a, b) for a, b in zip(starts, [*starts[1:], len(texts)], strict=True)]
    for i, pages in enumerate(ranges):
        for p in pages:
            if not texts[p].strip():
                raise SplitMismatch(f"page {p + 1} of the merged PDF is blank")
            if any(_mentions(texts[p], later) for later in names[i + 1:]):
                raise SplitMismatch(f"page {p + 1} names a later certificate than "
                                    f"{names[i]}")
    return ranges


DOCUMENT_KEYS = ("/Metadata", "/OutputIntents", "/Lang", "/ViewerPreferences")
"""Catalogue entries a split file keeps: PDF/A's XMP identification and output intent."""


def _indirect(pdf: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    # copy_foreign copies indirect objects only; LibreOffice writes some entries inline.
    return obj if obj.is_indirect else pdf.make_indirect(obj)


def split_pdf(src: pikepdf.Pdf, ranges: Sequence[range]) -> list[bytes]:
    """One PDF/A file per page range of ``src`` (see the module's notes)."""
    out: list[bytes] = []
    for pages in ranges:
        with pikepdf.new() as dst:
            for p in pages:
                dst.pages.append(src.pages[p])
            for key in DOCUMENT_KEYS:
                if key in src.Root:
                    dst.Root[key] = dst.copy_foreign(_indirect(src, src.Root[key]))
            # The information dictionary mirrors the XMP (dates, producer): PDF/A
            # requires them to agree, so it is copied as it is.
            dst.trailer.Info = dst.copy_foreign(_indirect(src, src.trailer.Info))
            for page in dst.pages:
                # Keys into the merged document's structure tree, not carried over.
                if "/StructParents" in page.obj:
                    del page.obj["/StructParents"]
                page.remove_unreferenced_resources()
            buf = io.BytesIO()
            dst.save(buf, min_version=src.pdf_version, fix_metadata_version=False)
            out.append(buf.getvalue())
    return out


# -- the whole path -------------------------------------------------------------------------

Outcome = bytes | CertdeskError
"""A certificate's PDF/A, or why it could not be converted."""


def convert_each(pool: Converter, parts: Sequence[Part]) -> list[Outcome]:
    """One conversion per part; a failure stays with its part."""
    out: list[Outcome] = []
    for part in parts:
        try:
            out.append(pool.convert_bytes(part.docx, part.name))
        except CertdeskError as exc:
            out.append(exc)
    return out


def convert_merged(pool: Converter, parts: Sequence[Part]) -> list[bytes]:
    """Merge, convert once, split; raises when any step cannot vouch for the result."""
    merged = merge_docx([p.docx for p in parts])
    pdf = pool.convert_bytes(merged, f"{parts[0].name}+{len(parts) - 1}", len(parts))
    with pikepdf.open(io.BytesIO(pdf)) as src:
        ranges = page_ranges(page_texts(src), [p.name for p in parts])
        return split_pdf(src, ranges)


def convert_many(pool: Converter, parts: Sequence[Part]) -> list[Outcome]:
    """PDF/A for each part, in order: merged when it can be vouched for, else one by one."""
    if len(parts) < 2:
        return convert_each(pool, parts)
    try:
        return list(convert_merged(pool, parts))
    except (NotMergeable, SplitMismatch, ConversionError):
        return convert_each(pool, parts)
