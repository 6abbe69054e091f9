"""Which failures from below (database driver, operating system) are known conditions.

Transient ones (a dropped connection, a serialization failure, SQLite busy) are worth a
retry (``store.db.retrying``); known lasting ones become one line that says what happened
and what to do (``known_failure``), never "internal error"."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from certdesk.common.errors import CertdeskError, DatabaseUnavailable, DiskError, DiskFull
from certdesk.common.settings import get_settings

_TRANSIENT_SQLSTATES = {"40001", "40P01",  # serialization failure, deadlock detected
                        "57P01", "57P02", "57P03"}  # shut down, crashed, not up yet
_TRANSIENT_WORDS = ("database is locked", "database is busy", "connection is bad",
                    "server closed the connection", "connection reset", "connection refused",
                    "terminating connection", "could not connect", "connection is closed",
                    "consuming input failed", "the database system is starting up",
                    "not yet accepting connections", "the database system is in recovery mode",
                    "the database system is shutting down", "ssl connection has been closed",
                    "connection timed out", "no connection to the server", "broken pipe")
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device",
                    "could not extend file", "disk full")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _db_error(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError)


def _text(exc: BaseException) -> str:
    return " ".join(str(e) for e in _chain(exc)).lower()


def _disk_io(exc: BaseException) -> bool:
    """SQLite's "disk I/O error" (on a full disk its shared-memory file cannot grow)."""
    return _db_error(exc) and "disk i/o error" in _text(exc)


def _home_full(min_free: int = 1 << 20) -> bool:
    path = Path(get_settings().home)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free < min_free
    except OSError:
        return False


def is_disk_full(exc: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
               for e in _chain(exc)) or (_db_error(exc) and any(
                   w in _text(exc) for w in _DISK_FULL_WORDS)) or (
                       _disk_io(exc) and _home_full())


def is_transient(exc: BaseException) -> bool:
    """A database error that may well not happen again if the step is re-run."""
    if not _db_error(exc) or is_disk_full(exc):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return (state in _TRANSIENT_SQLSTATES or (state or "").startswith("08")  # connection
            or any(w in _text(exc) for w in _TRANSIENT_WORDS))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def known_failure(exc: BaseException) -> CertdeskError | None:
    """The one-line error for a known condition, or None (then it is a bug)."""
    if isinstance(exc, CertdeskError):
        return exc
    if is_disk_full(exc):
        return DiskFull(f"磁盘已满：{_first_line(exc)}; free space on the disk holding "
                        "CERTDESK_HOME (database, blobs, out/) and run the command again "
                        "(then `certdesk archive recover`)")
    if _disk_io(exc):
        return DiskError(f"磁盘读写错误：{_first_line(exc)}; check the disk holding "
                         "CERTDESK_HOME, then run the command again")
    if is_transient(exc) and any(w in _text(exc) for w in ("locked", "busy")):
        return DatabaseUnavailable(
            f"数据库忙：{_first_line(exc)}; another certdesk process held the database's "
            "write lock for too long; run the command again")
    if is_transient(exc) or (_db_error(exc) and "operationalerror" in type(exc).__name__.lower()
                             and "connect" in _text(exc)):
        return DatabaseUnavailable(
            f"数据库无法连接：{_first_line(exc)}; check that the database server is running "
            "and CERTDESK_DATABASE_URL is right, then run the command again "
            "(then `certdesk archive recover`)")
    return None
