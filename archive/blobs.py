"""Write-once, content-addressed blob store on a local folder.

A blob is written to a temporary file, fsynced, then linked into place under its sha256
(``ab/cd/abcd….pdf``) and made read-only. An existing blob is never overwritten; writing
the same bytes again is a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from common.errors import ArchiveError


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes) -> str:
        sha = sha256_hex(data)
        dest = self.path(sha)
        if dest.exists():
            if sha256_hex(dest.read_bytes()) != sha:
                raise ArchiveError(f"blob {sha} exists with different content: run archive audit")
            return sha
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o444)
            with contextlib.suppress(FileExistsError):  # a racing writer stored the same bytes
                os.link(tmp_name, dest)  # link fails rather than overwrite: write-once
            _fsync_dir(dest.parent)
        finally:
            os.unlink(tmp_name)
        return sha

    def read(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            raise ArchiveError(f"blob {sha} is missing from the store") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
