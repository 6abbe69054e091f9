"""Records made elsewhere (scanned signed originals, Word files) into archivable PDF.

A PDF is kept byte for byte (its signatures stay valid). Word, OpenDocument and RTF files
become PDF/A through the warm LibreOffice; images (scans) are placed one frame per page in
a Word document first, since only LibreOffice Writer is installed. The format is read from
the content, never from the name: LibreOffice would open almost anything as plain text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import pikepdf
from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Mm
from PIL import Image, ImageSequence, UnidentifiedImageError
from sqlalchemy.engine import Engine

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.common.settings import Settings
from certdesk.documents.converter import Converter
from certdesk.domain.text import clean_text
from certdesk.store.blobs import Store, sha256_hex
from certdesk.store.db import session_scope
from certdesk.store.records import Filing, add_record
from certdesk.store.rows import stored_id

ACCEPTED = "PDF, Word (.docx, .doc), OpenDocument text, RTF, images (PNG, JPEG, TIFF, BMP, GIF)"
ENCRYPTED = N_("无法归档 {name}：PDF 已加密（档案记录须无需密码即可阅读）")
IMAGE_FORMATS = {"PNG", "JPEG", "TIFF", "BMP", "GIF"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument".encode("utf-16-le")


def sniff(data: bytes) -> str | None:
    """pdf | docx | odt | doc | rtf | image, or None for anything else."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "word/document.xml" in names:
                    return "docx"
                if "mimetype" in names and \
                        z.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text":
                    return "odt"
        except zipfile.BadZipFile:
            return None
        return None
    if data.startswith(OLE_MAGIC):
        return "doc" if WORD_STREAM in data else None
    if data.startswith(b"{\\rtf"):
        return "rtf"
    return "image" if _image_format(data) in IMAGE_FORMATS else None


def _image_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def check_pdf(data: bytes, name: str) -> None:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise InputError(ENCRYPTED, name=name)
            if not pdf.pages:
                raise InputError(N_("无法归档 {name}：PDF 无法读取（没有页面）"), name=name)
    except pikepdf.PasswordError:
        raise InputError(ENCRYPTED, name=name) from None
    except pikepdf.PdfError as exc:
        raise InputError(N_("无法归档 {name}：PDF 无法读取（{error}）"), name=name,
                         error=exc) from None


def images_docx(data: bytes) -> bytes:
    """One page per image frame (multi-page TIFF scans included), each fitted to A4."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(10))
    box_w, box_h = 190, 270  # mm, leaves room for the paragraph LibreOffice adds
    with Image.open(io.BytesIO(data)) as img:
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(img)]
    for i, frame in enumerate(frames):
        png = io.BytesIO()
        frame.save(png, "PNG")
        scale = min(box_w / frame.width, box_h / frame.height)
        run = doc.add_paragraph().add_run()
        run.add_picture(png, width=Mm(frame.width * scale), height=Mm(frame.height * scale))
        if i < len(frames) - 1:
            run.add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(data: bytes, name: str, pool: Converter) -> tuple[bytes, str]:
    """(PDF bytes, the source format); ``pool`` is used only when there is something to
    convert, so a lazily started one costs nothing for PDFs."""
    kind = sniff(data)
    if kind is None:
        raise InputError(N_("无法归档 {name}：certdesk 不接受这种格式（{accepted}）"),
                         name=name, accepted=ACCEPTED)
    if kind == "pdf":
        check_pdf(data, name)
        return data, kind
    source = images_docx(data) if kind == "image" else data
    return pool.convert_bytes(source, PurePath(name).stem or "record"), kind


@dataclass(frozen=True)
class Added:
    record: int
    sha256: str
    filename: str
    converted_from: str | None
    new: bool
    """False when these bytes were already archived (nothing stored twice)."""

    def as_dict(self) -> dict:
        return {"id": self.record, "sha256": self.sha256, "filename": self.filename,
                "converted_from": self.converted_from, "new": self.new}


def take_in(engine: Engine, store: Store, settings: Settings, pool: Converter, raw: bytes,
            name: str, *, record_type: str, filing: Filing, signer: str | None,
            actor: str) -> Added:
    """One file made elsewhere into the archive (its own transaction): converted when it
    is not a PDF, its source's name, format and hash logged with it."""
    name = clean_text(name, "filename")  # shown on pages, in the log and on terminals
    signer = clean_text(signer.strip(), "signer") if signer and signer.strip() else None
    pdf, kind = to_pdf(raw, name, pool)
    converted = None if kind == "pdf" else kind
    filename = name if converted is None else f"{PurePath(name).stem or 'record'}.pdf"
    with session_scope(engine) as s:
        row, new = add_record(
            s, store, settings, pdf, record_type=record_type, filename=filename,
            filing=filing, signer=signer, actor=actor,
            source={"source_name": name, "source_format": kind,
                    "source_sha256": None if converted is None else sha256_hex(raw)})
        return Added(stored_id(row.id), row.sha256, row.filename, converted, new)
