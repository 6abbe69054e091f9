"""What the services need of a converter: Word (.docx bytes) in, PDF/A bytes out.

``documents.convert.ConverterPool`` (warm LibreOffice workers) is the real one; tests whose
subject is the orchestration around a conversion hand the services a fake that makes a
small PDF of the document's text (tests/documents/fakes.py).
"""

from __future__ import annotations

from typing import Protocol


class Converter(Protocol):
    @property
    def size(self) -> int:
        """Conversions that may run at once: batches start this many threads."""
        ...

    def convert_bytes(self, docx: bytes, name: str = "document", documents: int = 1) -> bytes:
        """The PDF of ``docx``; ``name`` names the document in errors
        (``ConversionError``); ``documents``: how many documents a merged ``docx`` holds
        (they count towards recycling a worker)."""
        ...

    def prestart(self) -> None:
        """Start converting in the background before the first document is ready."""
        ...

    def close(self) -> None:
        """Stop converting; conversions under way fail. Idempotent."""
        ...
