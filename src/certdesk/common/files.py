"""Reading the user's files and writing results, with one-line errors."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from certdesk.common.errors import InputError


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
"""The home holds password hashes, sessions and signing keys: its owner's eyes only."""


def private_dir(path: Path) -> Path:
    """``path`` and any missing parent made readable by the owner only, whatever the umask
    (``mkdir(parents=True)`` would give the parents the umask's mode)."""
    path = Path(path)
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        missing.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then keeps the mode,
    and gives it to its -wal and -shm files too)."""
    private_dir(Path(path).parent)
    # O_EXCL: an existing file is never opened here, since closing any descriptor of a live
    # SQLite database drops every POSIX lock this process holds on it.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return path


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
