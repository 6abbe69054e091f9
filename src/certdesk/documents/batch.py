"""Render one document kind for many input records: Word template → PDF/A-2b files.

Records are independent: a record that fails (bad input, a rule it breaks, a document
LibreOffice cannot convert) is reported with its reason and the others go on. The output
is unsigned: drafts for review. Signed records come from ``certdesk issue`` and
``certdesk status``, which archive what they sign.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certdesk.common.batch import reason, run_jobs
from certdesk.common.files import write_atomically
from certdesk.common.i18n import N_, Said
from certdesk.common.settings import Settings
from certdesk.documents.converter import Converter
from certdesk.documents.kinds import Build, DocumentKind
from certdesk.documents.render import render_docx
from certdesk.domain.profiles import Profile


@dataclass(frozen=True)
class Rendered:
    index: int
    record: str
    pdf: Path

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "record": self.record, "pdf": str(self.pdf)}


@dataclass(frozen=True)
class Failed:
    index: int
    record: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "record": self.record, "reason": self.reason}


@dataclass
class BatchResult:
    rendered: list[Rendered] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    interrupted: bool = False


class _Names:
    """Output names unique within a batch (two records may share a reference)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, stem: str) -> str:
        with self._lock:
            name, n = stem, 1
            while name in self._taken:
                n += 1
                name = f"{stem}-{n}"
            self._taken.add(name)
            return name


def _record(source: str, index: int) -> Said:
    """A record of a batch file, named in its reader's language."""
    return Said(N_("{source}：第 {n} 条记录"), source=source, n=index)


def render_batch(kind: DocumentKind, profile: Profile, records: Sequence[Any], out_dir: Path,
                 pool: Converter, *, settings: Settings, source: str = "input",
                 on_done: Callable[[str, int, str | None], None] | None = None) -> BatchResult:
    """Render every record; ``on_done(record, documents, error)`` after each.

    On Ctrl-C no new record is started; the ones under way finish (their conversions take
    a fraction of a second) and the result says ``interrupted``. A second Ctrl-C while
    waiting kills the converters at once.
    """
    template = profile.template_path(kind.id)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = _Names()
    result = BatchResult()

    def one(index: int, record: Any, where: str) -> list[Rendered]:
        job = Build(profile, settings, index)
        out = []
        for rendition in kind.contexts(job, record, where):
            pdf = pool.convert_bytes(render_docx(template, rendition.context), rendition.stem)
            path = out_dir / f"{names.claim(rendition.stem)}.pdf"
            write_atomically(path, pdf)
            out.append(Rendered(index, where, path))
        return out

    def record_outcome(job: tuple[int, Any], fut: Future) -> None:  # in this thread
        index = job[0]
        where = _record(source, index)
        exc = fut.exception()
        if exc is None:
            result.rendered.extend(fut.result())
        else:
            why = reason(exc)
            # Input errors already name the record; others get it in front.
            if not why.startswith(where):
                why = Said(N_("{where}：{error}"), where=where, error=why)
            result.failed.append(Failed(index, where, why))
        if on_done:
            on_done(where, len(fut.result()) if exc is None else 0,
                    None if exc is None else result.failed[-1].reason)

    # A second Ctrl-C closes the pool: the running conversions fail at once.
    result.interrupted = run_jobs(
        enumerate(records, start=1), lambda job: one(job[0], job[1], _record(source, job[0])),
        pool.size, record_outcome, name="render", on_second_interrupt=pool.close)
    result.rendered.sort(key=lambda r: r.index)
    result.failed.sort(key=lambda f: f.index)
    return result
