"""Reading the user's files and writing results, with one-line errors."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from common.errors import InputError


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def write_atomically(path: Path, data: bytes) -> None:
    """A half-written file must never sit under the final name (Ctrl-C, a full disk)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
