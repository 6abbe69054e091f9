"""An untrusted Word file (records intake, a template a staff member brings) cannot make the
converter read a server file or fetch a URL: the package is stripped of its outward links,
and LibreOffice's profile tells it not to follow links anyway — each wall holds alone.

The probes are real: a linked picture on an HTTP server on 127.0.0.1 (which records every
request) and a linked ``file://`` picture of a distinctive size that must not reach the PDF.
"""

from __future__ import annotations

import http.server
import io
import re
import threading
import zipfile

import pikepdf
import pytest
from docx import Document
from docx.shared import Mm
from PIL import Image

from certdesk.common.settings import Settings
from certdesk.documents import convert
from certdesk.documents.convert import ConverterPool
from certdesk.documents.render import render_docx
from certdesk.documents.untrusted import strip_external
from certdesk.services.ingest import to_pdf

SECRET_SIZE = (517, 389)  # no image certdesk itself places has this size


def _png(color: str, size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def _rewrite(docx: bytes, edit: dict) -> bytes:
    """``docx`` with ``edit[part](text)`` applied to the named parts."""
    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename in edit:
                data = edit[info.filename](data.decode()).encode()
            dst.writestr(info, data)
    return out.getvalue()


def plain_docx(text: str) -> bytes:
    doc = Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def linked_pictures(targets: list[str], text: str = "linked pictures follow") -> bytes:
    """A .docx whose pictures are only links (``r:link`` to external relationships), as
    Word writes "Insert picture → Link to file"."""
    doc = Document()
    doc.add_paragraph(text)
    for _ in targets:
        doc.add_paragraph().add_run().add_picture(io.BytesIO(_png("white", (8, 8))),
                                                  width=Mm(40))
    buf = io.BytesIO()
    doc.save(buf)

    def document(xml: str) -> str:
        for i, rid in enumerate(re.findall(r'<a:blip r:embed="(rId\d+)"', xml)):
            xml = xml.replace(f'<a:blip r:embed="{rid}"', f'<a:blip r:link="rIdX{i}"', 1)
        return xml

    def rels(xml: str) -> str:
        extra = "".join(
            f'<Relationship Id="rIdX{i}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/image" Target="{t}" TargetMode="External"/>'
            for i, t in enumerate(targets))
        return xml.replace("</Relationships>", extra + "</Relationships>")

    return _rewrite(buf.getvalue(), {"word/document.xml": document,
                                     "word/_rels/document.xml.rels": rels})


@pytest.fixture
def probe_server():
    """An HTTP server on 127.0.0.1 that answers every GET with a picture and records it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            body = _png("red", (300, 300))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def hostile(tmp_path, probe_server):
    """(a hostile .docx, the requests the probe server saw)."""
    base, hits = probe_server
    secret = tmp_path / "secret.png"
    secret.write_bytes(_png("blue", SECRET_SIZE))
    return linked_pictures([f"{base}/probe.png", secret.as_uri()]), hits


def images(pdf: bytes) -> list[tuple[int, int]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [(img.Width, img.Height) for page in doc.pages
                for img in page.get_images().values()]


# -- the package: what is stripped, what stays -----------------------------------------------


def test_external_relationships_and_linked_pictures_are_removed_from_the_package():
    docx = linked_pictures(["http://127.0.0.1:9/probe.png", "file:///etc/secret.png"])
    clean, removed = strip_external(docx)
    parts = zipfile.ZipFile(io.BytesIO(clean))
    rels = parts.read("word/_rels/document.xml.rels").decode()
    body = parts.read("word/document.xml").decode()
    assert removed == 4  # two relationships, two r:link attributes
    assert 'TargetMode="External"' not in rels and "file:" not in rels
    assert "r:link" not in body and "linked pictures follow" in body


def test_fields_that_include_other_files_lose_their_instruction_but_keep_their_text():
    plain = plain_docx("x")
    split = ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDEPIC'
             '</w:instrText></w:r><w:r><w:instrText>TURE "http://127.0.0.1:9/a.png" \\d'
             '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>'
             'cached</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    simple = ('<w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;file:///etc/passwd&quot; ">'
              '<w:r><w:t>shown</w:t></w:r></w:fldSimple></w:p>')
    page = ('<w:p><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>')
    docx = _rewrite(plain, {"word/document.xml": lambda x: x.replace(
        "<w:sectPr", split + simple + page + "<w:sectPr", 1)})
    clean, removed = strip_external(docx)
    body = zipfile.ZipFile(io.BytesIO(clean)).read("word/document.xml").decode()
    assert removed == 2
    assert "INCLUDE" not in body and "127.0.0.1" not in body and "passwd" not in body
    assert "cached" in body and "shown" in body and "PAGE" in body


def test_linked_ole_vml_sources_and_an_attached_template_are_removed():
    plain = plain_docx("x")
    vml = ('<w:p><w:r><w:object xmlns:v="urn:schemas-microsoft-com:vml" '
           'xmlns:o="urn:schemas-microsoft-com:office:office"><v:shape id="s1">'
           '<v:imagedata src="file:///etc/x.emf" o:href="http://127.0.0.1:9/x.emf"/></v:shape>'
           '<o:OLEObject Type="Link" ProgID="Excel.Sheet.12" ShapeID="s1" r:id="rIdOle"/>'
           '</w:object></w:r></w:p>')
    ole_rel = ('<Relationship Id="rIdOle" Type="http://schemas.openxmlformats.org/'
               'officeDocument/2006/relationships/oleObject" Target="file:///srv/book.xlsx" '
               'TargetMode="External"/>')
    link = ('<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/hyperlink" Target="https://example.org/" '
            'TargetMode="External"/>')
    template = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
                '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                'Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/attachedTemplate" Target="http://127.0.0.1:9/t.dotm" '
                'TargetMode="External"/></Relationships>')
    docx = _rewrite(plain, {
        "word/document.xml": lambda x: x.replace("<w:sectPr", vml + "<w:sectPr", 1),
        "word/_rels/document.xml.rels": lambda x: x.replace(
            "</Relationships>", ole_rel + link + "</Relationships>"),
        "word/settings.xml": lambda x: x.replace(
            "<w:defaultTabStop", '<w:attachedTemplate r:id="rIdT"/><w:defaultTabStop', 1)})
    docx = _add_part(docx, "word/_rels/settings.xml.rels", template)
    clean, _ = strip_external(docx)
    parts = zipfile.ZipFile(io.BytesIO(clean))
    text = "".join(parts.read(n).decode() for n in parts.namelist() if n.endswith(
        (".xml", ".rels")))
    assert "file:" not in text and "127.0.0.1" not in text and "OLEObject" not in text
    assert "https://example.org/" in text  # a hyperlink is never opened by the converter


def _add_part(docx: bytes, name: str, text: str) -> bytes:
    out = io.BytesIO(docx)
    with zipfile.ZipFile(out, "a") as z:
        z.writestr(name, text)
    return out.getvalue()


def test_an_opendocument_picture_linked_outside_the_package_is_removed():
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:xlink="http://www.w3.org/1999/xlink"><office:body><office:text>'
               '<draw:frame><draw:image xlink:href="http://127.0.0.1:9/p.png"/></draw:frame>'
               '<draw:frame><draw:image xlink:href="Pictures/own.png"/></draw:frame>'
               '<text:p><text:a xlink:href="https://example.org/">link</text:a></text:p>'
               '</office:text></office:body></office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
    clean, removed = strip_external(out.getvalue())
    text = zipfile.ZipFile(io.BytesIO(clean)).read("content.xml").decode()
    assert removed == 1
    assert "127.0.0.1" not in text and "Pictures/own.png" in text and "example.org" in text


def test_a_package_without_outward_links_and_a_non_package_come_back_unchanged():
    plain = plain_docx("plain")
    assert strip_external(plain) == (plain, 0)
    assert strip_external(b"{\\rtf1 plain}") == (b"{\\rtf1 plain}", 0)


# -- the converter: nothing is fetched, nothing read -----------------------------------------


@pytest.mark.office
def test_records_intake_of_a_word_file_with_linked_pictures_fetches_and_reads_nothing(
        pool, hostile):
    docx, hits = hostile
    pdf, kind = to_pdf(docx, "client-scan.docx", pool)
    assert kind == "docx" and pdf.startswith(b"%PDF")
    assert hits == []
    assert SECRET_SIZE not in images(pdf) and images(pdf) == []


@pytest.mark.office
def test_a_template_with_linked_pictures_renders_without_fetching_anything(
        pool, hostile, tmp_path):
    docx, hits = hostile
    template = tmp_path / "certificate.docx"
    template.write_bytes(docx)
    pdf = pool.convert_bytes(render_docx(template, {}), "uploaded-template")
    assert hits == [] and images(pdf) == []


@pytest.mark.office
@pytest.mark.parametrize("wall", ["package stripped", "office profile"])
def test_each_wall_alone_keeps_the_links_closed(wall, hostile, monkeypatch):
    docx, hits = hostile
    if wall == "package stripped":
        monkeypatch.setattr(convert, "PROFILE_SETTINGS", {})
    else:
        monkeypatch.setattr(convert, "strip_external", lambda data: (data, 0))
    with ConverterPool(size=1, settings=Settings()) as own:  # a fresh profile
        pdf = own.convert_bytes(docx, "hostile")
    assert hits == [] and images(pdf) == []

