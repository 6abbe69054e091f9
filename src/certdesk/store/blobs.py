"""Write-once, content-addressed blob stores: a local folder (default) or an S3 bucket.

Both keep a blob under its sha256 (``ab/cd/abcd…``), never overwrite one, and offer the
same small interface (``BlobStore`` and ``S3BlobStore`` are interchangeable; ``open_store``
picks one from ``CERTDESK_BLOB_URL``). Locally a blob is written to a temporary file,
fsynced, then linked into place and made read-only. On S3 each blob is put under object
lock (COMPLIANCE mode) until the earliest day its record may be disposed of, so not even
the bucket's owner can erase it sooner.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlparse

from certdesk.common.errors import ArchiveError, ConfigError
from certdesk.common.files import private_dir
from certdesk.common.i18n import N_, Said
from certdesk.common.proc import pid_alive
from certdesk.common.settings import Settings

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import HeadObjectOutputTypeDef

T = TypeVar("T")

QUARANTINE = ".quarantine"
CHUNK = 1 << 20
_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_key(sha: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def sha_of_key(key: str) -> str | None:
    """The sha256 a key stands for, or None for a name that is not a blob's."""
    m = _KEY.fullmatch(key)
    return m.group(3) if m and m.group(3).startswith(m.group(1) + m.group(2)) else None


class Store(Protocol):
    """What the archive needs from a blob store."""

    url: str

    def put(self, data: bytes, retain_until: date | None = None) -> str: ...
    def read(self, sha: str) -> bytes: ...
    def exists(self, sha: str) -> bool: ...
    def digest(self, sha: str) -> str | None:
        """sha256 of the stored bytes (re-read now), None when the blob is missing."""
    def erase(self, sha: str) -> None: ...
    def names(self) -> Iterator[str]:
        """Every stored name, blob or not, outside the quarantine."""
    def quarantine(self, key: str) -> str:
        """Move ``key`` out of the store; returns where it went."""
    def restore(self, sha: str) -> bool:
        """Move a quarantined blob back; False if the quarantine does not hold it."""


class BlobStore:
    """The local folder store."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        self.url = self.root.as_uri() if self.root.is_absolute() else str(self.root)

    def path(self, sha: str) -> Path:
        return self.root / blob_key(sha)

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes, retain_until: date | None = None) -> str:
        """Store ``data`` durably; ``retain_until`` is enforced by the database locally."""
        sha = sha256_hex(data)
        dest = self.path(sha)
        if dest.exists():
            if self.digest(sha) != sha:
                raise ArchiveError(N_("文件 {sha} 已存在但内容不同：请运行 archive audit"), sha=sha)
            return sha
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name lets recover remove it as soon as the writer is gone.
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix=f"{os.getpid()}-")
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
            raise ArchiveError(N_("存储中缺少文件 {sha}"), sha=sha) from None

    def digest(self, sha: str) -> str | None:
        h = hashlib.sha256()
        try:
            with open(self.path(sha), "rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
        except FileNotFoundError:
            return None
        return h.hexdigest()

    def erase(self, sha: str) -> None:
        path = self.path(sha)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(self.root)
            for name in sorted(filenames):
                yield (rel / name).as_posix()

    def quarantine(self, key: str) -> str:
        dest = self.root / QUARANTINE / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.root / key, dest)
        _fsync_dir(dest.parent)
        return str(dest)

    def restore(self, sha: str) -> bool:
        src = self.root / QUARANTINE / blob_key(sha)
        if not src.is_file():
            return False
        self.path(sha).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, self.path(sha))
        _fsync_dir(self.path(sha).parent)
        return True

    def remove_stale_temp(self, older_than: float) -> int:
        """Delete partial writes a killed process left behind (its pid no longer runs, or
        older than ``older_than`` seconds); returns how many."""
        if not self.tmp.is_dir():
            return 0
        cutoff = time.time() - older_than

        def stale_one(p: Path) -> bool:
            owner = p.name.split("-", 1)[0]
            return (owner.isdigit() and not pid_alive(int(owner))) or p.stat().st_mtime < cutoff

        stale = [p for p in self.tmp.iterdir() if stale_one(p)]
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3BlobStore:
    """A bucket with object lock enabled (versioned). Keys live under an optional prefix."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "", url: str = "") -> None:
        self.s3 = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = url or f"s3://{bucket}/{self.prefix}"

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> S3BlobStore:
        """``s3://BUCKET[/PREFIX][?endpoint=http://host:port&region=R]``."""
        # lazy: boto3 and botocore cost ~0.3 s to import (measured); only S3 installs use them
        import boto3
        from botocore.config import Config

        parts = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not parts.netloc:
            raise ConfigError(N_("CERTDESK_BLOB_URL {url} 没有指明存储桶"), url=repr(url))
        client = boto3.client(
            "s3", endpoint_url=query.get("endpoint"), region_name=query.get("region", "us-east-1"),
            aws_access_key_id=settings.s3_access_key, aws_secret_access_key=settings.s3_secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))
        return cls(client, parts.netloc, parts.path, url)

    def _key(self, sha: str) -> str:
        return self.prefix + blob_key(sha)

    def _call(self, what: Said, fn: Callable[..., T], **kw: Any) -> T:
        # lazy as in from_url, which has loaded botocore by now
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kw)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise ArchiveError(N_("S3 拒绝{what}：{detail}"), what=what,
                               detail=f"{err.get('Code')}: {err.get('Message', '')}".rstrip(": "),
                               ) from None
        except BotoCoreError as exc:
            raise ArchiveError(N_("尝试{what}时无法连接 S3 存储：{error}"), what=what,
                               error=exc) from None

    def _head(self, key: str) -> HeadObjectOutputTypeDef | None:
        # lazy as in from_url, which has loaded botocore by now
        from botocore.exceptions import ClientError

        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise ArchiveError(N_("S3 拒绝查询 {key}：{error}"), key=key, error=exc) from None

    def exists(self, sha: str) -> bool:
        return self._head(self._key(sha)) is not None

    def put(self, data: bytes, retain_until: date | None = None) -> str:
        sha = sha256_hex(data)
        key = self._key(sha)
        if self._head(key) is not None:
            if self.digest(sha) != sha:
                raise ArchiveError(N_("文件 {sha} 已存在但内容不同：请运行 archive audit"), sha=sha)
            return sha
        lock = {}
        if retain_until is not None:
            # Until the start (UTC) of the last day to keep: a disposal on the next local
            # day, in any time zone, is never refused by the lock.
            lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate":
                    datetime.combine(retain_until, dtime.min, tzinfo=UTC)}
        # The server checks the body against our sha256 before it stores anything.
        self._call(Said(N_("存入 {sha}"), sha=sha),
                   self.s3.put_object, Bucket=self.bucket, Key=key, Body=data,
                   ChecksumSHA256=base64.b64encode(bytes.fromhex(sha)).decode(), **lock)
        return sha

    def read(self, sha: str) -> bytes:
        if self._head(self._key(sha)) is None:
            raise ArchiveError(N_("存储中缺少文件 {sha}"), sha=sha)
        obj = self._call(Said(N_("读取 {sha}"), sha=sha), self.s3.get_object, Bucket=self.bucket,
                         Key=self._key(sha))
        return obj["Body"].read()

    def digest(self, sha: str) -> str | None:
        if self._head(self._key(sha)) is None:
            return None
        obj = self._call(Said(N_("读取 {sha}"), sha=sha), self.s3.get_object, Bucket=self.bucket,
                         Key=self._key(sha))
        h = hashlib.sha256()
        for chunk in obj["Body"].iter_chunks(CHUNK):
            h.update(chunk)
        return h.hexdigest()

    def retention(self, sha: str) -> datetime | None:
        """The object lock's retain-until date of the current version, if any."""
        head = self._head(self._key(sha))
        return head.get("ObjectLockRetainUntilDate") if head else None

    def _erase_key(self, key: str) -> None:
        """Delete every version of ``key`` (a plain delete would only hide it)."""
        listing = self._call(Said(N_("列出 {key} 的版本"), key=key), self.s3.list_object_versions,
                             Bucket=self.bucket, Prefix=key)
        for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
            if v["Key"] == key:
                self._call(Said(N_("抹除 {key}"), key=key),
                           self.s3.delete_object, Bucket=self.bucket, Key=key,
                           VersionId=v["VersionId"])

    def erase(self, sha: str) -> None:
        self._erase_key(self._key(sha))

    def names(self) -> Iterator[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                  Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"][len(self.prefix):]
                if not key.startswith(QUARANTINE + "/"):
                    yield key

    def quarantine(self, key: str) -> str:
        head = self._head(self.prefix + key)
        until = head.get("ObjectLockRetainUntilDate") if head else None
        if until is not None and until > datetime.now(UTC):
            raise ArchiveError(N_("{key} 处于对象锁定期，至 {until}；不能移除"), key=key,
                               until=f"{until:%Y-%m-%d}")
        dest = self.prefix + QUARANTINE + "/" + key
        self._call(Said(N_("把 {key} 复制到隔离区"), key=key), self.s3.copy_object,
                   Bucket=self.bucket, Key=dest,
                   CopySource={"Bucket": self.bucket, "Key": self.prefix + key})
        self._erase_key(self.prefix + key)
        return f"s3://{self.bucket}/{dest}"

    def restore(self, sha: str) -> bool:
        src = self.prefix + QUARANTINE + "/" + blob_key(sha)
        if self._head(src) is None:
            return False
        self._call(Said(N_("恢复 {sha}"), sha=sha),
                   self.s3.copy_object, Bucket=self.bucket, Key=self._key(sha),
                   CopySource={"Bucket": self.bucket, "Key": src})
        self._erase_key(src)
        return True


def open_store(settings: Settings) -> BlobStore | S3BlobStore:
    """The store ``CERTDESK_BLOB_URL`` names: ``s3://…``, or the local folder by default."""
    url = settings.blob_url
    if not url:  # in the home, which is private whichever database is used
        return BlobStore(private_dir(settings.blob_dir))
    if url.startswith("s3://"):
        return S3BlobStore.from_url(url, settings)
    if url.startswith("file://"):
        return BlobStore(Path(urlparse(url).path))
    raise ConfigError(N_("CERTDESK_BLOB_URL {url}：请使用 s3://bucket[/prefix] 或 file:///path"),
                      url=repr(url))
