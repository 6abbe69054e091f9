"""Helpers for the document tests (tests/docgen, tests/templates): example records,
rendering a kind through the session converter pool, reading PDFs with poppler (the
independent check), finding the LibreOffice processes a certdesk process started."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import REPO
from tests.shipped import SHIPPED

EXAMPLES = REPO / "examples" / "documents"


def example(kind: str) -> dict:
    return json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))[0]


def contexts(profile_id: str, kind_id: str, record: dict) -> list:
    from certdesk.common.settings import Settings
    from certdesk.documents.kinds import Build, kind

    return kind(kind_id).contexts(Build(SHIPPED.get(profile_id), Settings(), 1), record,
                                  "test record")


def render_pdf(pool, profile_id: str, kind_id: str, record: dict, out: Path) -> Path:
    """Render the record's first document of ``kind_id`` and convert it to ``out``."""
    from certdesk.documents.render import render_docx

    rendition = contexts(profile_id, kind_id, record)[0]
    docx = render_docx(SHIPPED.get(profile_id).template_path(kind_id), rendition.context)
    out.write_bytes(pool.convert_bytes(docx, rendition.stem))
    return out


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdffonts(pdf: Path) -> list[dict]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    # name type encoding emb sub uni id gen: the name never has spaces, the type may
    return [{"name": line.split()[0], "emb": line.split()[-5]} for line in out if line.strip()]


def office_pids(owner: int) -> list[int]:
    """soffice.bin processes started by the certdesk process ``owner`` (its pipe names
    carry the owner's pid), wherever they were reparented to."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"soffice" in cmd and f"pipe,name=certdesk-{owner}-".encode() in cmd:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")
