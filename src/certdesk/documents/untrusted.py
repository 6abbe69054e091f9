"""Word and OpenDocument packages made safe to open: nothing in them may make LibreOffice
read a file or a URL outside the package.

A .docx can point outside itself in several ways, each of which LibreOffice follows while it
opens or exports the document: relationships with ``TargetMode="External"`` (linked images
``r:link``, linked OLE objects, an attached template, sub-documents, frames), VML ``src`` /
``o:href`` attributes, and fields that include other files (``INCLUDEPICTURE``,
``INCLUDETEXT``, ``LINK``, ``DDE`` …). An .odt does it with ``xlink:href``. All of these are
removed here, before LibreOffice sees the bytes; hyperlinks stay (LibreOffice only writes
them into the PDF, it never opens them). The converter's profile also tells LibreOffice not
to load links (``documents.convert``), so a way missed here is still not followed.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import cast

from lxml import etree

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
VML_NS = "urn:schemas-microsoft-com:vml"
OFFICE_NS = "urn:schemas-microsoft-com:office:office"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ODF_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODF_DRAW_NS = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"

KEPT_EXTERNAL = ("/hyperlink",)
"""Relationship types that may point outside: a hyperlink is only written into the PDF."""

ALT_CHUNK = "/aFChunk"
"""An embedded foreign document (HTML, RTF) imported as it stands: it can link anywhere."""

FETCHING_FIELDS = frozenset({"INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "IMPORT", "LINK",
                             "DDE", "DDEAUTO", "DATABASE"})
"""Word fields whose result is read from another file or program."""

_SCHEME = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:|[\\/]{2})")
"""A URL with a scheme (``http:``, ``file:``, ``smb:``) or a network path (``//host``)."""

WORD_MARKERS = (b"urn:schemas-microsoft-com:", b"instrText", b"fldSimple", b"mailMerge")
"""Bytes without which a part holds nothing to strip (VML or OLE, fields, a mail merge)
other than references to dropped relationships: parsing every styles and theme part of
every certificate would cost more than the check."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _points_outside(target: str) -> bool:
    return bool(_SCHEME.match(target)) or target.lstrip().startswith(("/", "\\", ".."))


def _source_part(rels_name: str) -> str:
    """``word/_rels/document.xml.rels`` → ``word/document.xml``."""
    folder, _, base = rels_name.rpartition("_rels/")
    return folder + base.removesuffix(".rels")


def _first_word(instruction: str) -> str:
    words = instruction.split()
    return words[0].upper() if words else ""


def _strip_rels(xml: bytes) -> tuple[bytes, set[str | None]]:
    root = etree.fromstring(xml, _PARSER)
    dropped: set[str | None] = set()
    for rel in root.findall(f"{{{PKG_REL_NS}}}Relationship"):
        kind = rel.get("Type", "")
        outside = rel.get("TargetMode") == "External" or _SCHEME.match(rel.get("Target", ""))
        if (outside and not kind.endswith(KEPT_EXTERNAL)) or kind.endswith(ALT_CHUNK):
            dropped.add(rel.get("Id"))
            root.remove(rel)
    if not dropped:
        return xml, dropped
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), dropped


def _neutralise_fields(root) -> int:
    """Blank the instruction of every fetching field; its last shown result stays."""
    count = 0
    for simple in root.iter(f"{{{W_NS}}}fldSimple"):
        if _first_word(simple.get(f"{{{W_NS}}}instr", "")) in FETCHING_FIELDS:
            simple.set(f"{{{W_NS}}}instr", " ")
            count += 1
    # A complex field's instruction may be split over several runs and fields nest: collect
    # the instruction texts of each open field until its separator or end.
    stack: list[list] = []
    for el in root.iter(f"{{{W_NS}}}fldChar", f"{{{W_NS}}}instrText"):
        if el.tag.endswith("instrText"):
            if stack:
                stack[-1].append(el)
            continue
        kind = el.get(f"{{{W_NS}}}fldCharType")
        if kind == "begin":
            stack.append([])
        elif kind in ("separate", "end") and stack:
            parts = stack.pop() if kind == "end" else stack[-1]
            if _first_word("".join(p.text or "" for p in parts)) in FETCHING_FIELDS:
                for p in parts:
                    p.text = " "
                count += 1
            if kind == "separate":
                stack[-1] = []  # its instruction is done; the result follows
    return count


def _strip_word_part(xml: bytes, dropped_ids: set[str | None]) -> tuple[bytes, int]:
    root = etree.fromstring(xml, _PARSER)
    removed = 0
    if dropped_ids:  # references to the relationships just removed
        attrs = cast("list[etree._ElementUnicodeResult]",
                     root.xpath("//@r:*", namespaces={"r": R_NS}))
        for attr in attrs:
            if attr in dropped_ids:
                parent, name = attr.getparent(), attr.attrname
                assert parent is not None and name is not None, "an attribute result has both"
                del parent.attrib[name]
                removed += 1
    for el in root.iter(f"{{{VML_NS}}}*", f"{{{OFFICE_NS}}}*"):  # VML: src="…", o:href="…"
        for name in [n for n, v in el.attrib.items()
                     if str(n).rsplit("}", 1)[-1] in ("src", "href") and v.strip()]:
            del el.attrib[name]
            removed += 1
    for tag in (f"{{{OFFICE_NS}}}OLEObject", f"{{{W_NS}}}mailMerge"):
        for el in list(root.iter(tag)):
            if tag.endswith("mailMerge") or el.get("Type") == "Link":
                el.getparent().remove(el)
                removed += 1
    removed += _neutralise_fields(root)
    if not removed:
        return xml, 0
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), removed


def _strip_odf_part(xml: bytes) -> tuple[bytes, int]:
    root = etree.fromstring(xml, _PARSER)
    removed = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        href = el.get(XLINK_HREF)
        if href is None or el.tag in (f"{{{ODF_TEXT_NS}}}a", f"{{{ODF_DRAW_NS}}}a"):
            continue
        if _points_outside(href):
            del el.attrib[XLINK_HREF]
            removed += 1
    for el in list(root.iter(f"{{{ODF_TEXT_NS}}}section-source")):
        el.getparent().remove(el)
        removed += 1
    if not removed:
        return xml, 0
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), removed


def strip_external(data: bytes) -> tuple[bytes, int]:
    """(the package without its outward links, how many were removed). Anything that is not
    a .docx or .odt package comes back unchanged, as does a package with nothing to remove."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = z.namelist()
    except zipfile.BadZipFile:
        return data, 0
    with z:
        if "word/document.xml" in names:
            parts = _strip_docx(z, names)
        elif "content.xml" in names and "mimetype" in names:
            parts = {n: _strip_odf_part(z.read(n)) for n in ("content.xml", "styles.xml")
                     if n in names}
        else:
            return data, 0
        removed = sum(n for _, n in parts.values())
        if not removed:
            return data, 0
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in z.infolist():
                body = parts[info.filename][0] if info.filename in parts \
                    else z.read(info.filename)
                # ODF wants its mimetype first and stored; keep every entry's own method
                dst.writestr(info, body, compress_type=info.compress_type)
        return out.getvalue(), removed


def _strip_docx(z: zipfile.ZipFile, names: list[str]) -> dict[str, tuple[bytes, int]]:
    parts: dict[str, tuple[bytes, int]] = {}
    dropped: dict[str, set[str | None]] = {}
    for name in names:
        if name.endswith(".rels"):
            xml, ids = _strip_rels(z.read(name))
            parts[name] = (xml, len(ids))
            dropped[_source_part(name)] = ids
    for name in names:
        if name.endswith(".xml") and not name.startswith(("customXml/", "docProps/")) \
                and name != "[Content_Types].xml":
            xml, ids = z.read(name), dropped.get(name, set())
            if ids or any(marker in xml for marker in WORD_MARKERS):
                parts[name] = _strip_word_part(xml, ids)
    return parts
