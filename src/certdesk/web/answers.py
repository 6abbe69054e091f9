"""The certificate page and API answers, kept per process and keyed on the database.

Building an answer costs several queries and a template; serving it again costs one query:
the log head's sequence number. Every change to what the public sees of a certificate —
its row, its organisation, its main or sub-certificates, its history — appends to the
hash-chained log in the same transaction, so the head moves with it, whichever process
made the change. The head is read before the rows, so an answer is never filed under a
newer head than the data it shows. The day in China is part of the key too (a certificate
expires by the calendar, not by a change).

The token check is not cached: it runs on every request, and its result is part of the
answer's key (answers to a refused token are not kept at all). Answers carry an ETag and
``Cache-Control: no-cache``: a client or proxy may keep a copy but asks every time, and
gets a 304 while nothing changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from starlette.requests import Request
from starlette.responses import Response

from certdesk.store.ledger import CHINA

LOG_HEAD = "SELECT seq FROM loghead WHERE id = 1"

ANSWERS_KEPT = 4096
"""Certificates and answers kept per process (a few KB each)."""

REVALIDATE = "no-cache"
"""May be stored, never used without asking: a status change shows on the next request."""


@dataclass(frozen=True)
class Stamp:
    """What a cached answer is valid for."""

    log_seq: int | None
    today: date


class LogHead:
    """Reads the log head's sequence number on a database connection of each thread's own,
    kept open between requests: a pool checkout and reset (and on PostgreSQL the ping
    before it) cost three times the query itself. The connection is detached from the pool,
    so it takes no slot there and is closed with its thread. Each read is its own
    transaction (SQLite connections are in autocommit mode here, PostgreSQL's are put in
    it), so it sees every commit made before it, by any process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()

    def _connect(self) -> DBAPIConnection:
        pooled = self.engine.raw_connection()
        pooled.detach()
        conn = pooled.dbapi_connection
        assert conn is not None  # a fresh checkout has its connection
        if self.engine.dialect.name == "postgresql":
            conn.autocommit = True
        return conn

    def _read(self) -> int | None:
        conn = getattr(self._local, "conn", None) or self._connect()
        self._local.conn = conn
        try:
            cursor = conn.cursor()
            cursor.execute(LOG_HEAD)
            row = cursor.fetchone()
            cursor.close()
        except self.engine.dialect.loaded_dbapi.Error:
            self._local.conn = None
            with suppress(Exception):  # broken already: the query's error is the one to tell
                conn.close()
            raise
        return row[0] if row else None

    def seq(self) -> int | None:
        """The head's sequence number (None before the first entry)."""
        try:
            return self._read()
        except self.engine.dialect.loaded_dbapi.Error:
            # A connection the server dropped (a database restart): once more, on a new one.
            return self._read()


def stamp(head: LogHead) -> Stamp:
    """The log head now and the day in China. Read before the rows an answer is built
    from (which may then be newer, never older)."""
    return Stamp(head.seq(), datetime.now(CHINA).date())


V = TypeVar("V")


class Memo(Generic[V]):
    """A bounded least-recently-used map, shared by the server's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, response: Response) -> Answer:
        body = bytes(response.body)
        return cls(response.status_code, body, response.headers["content-type"],
                   f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def send(request: Request, answers: Memo[Answer], key: Hashable | None,
         build: Callable[[], Response]) -> Response:
    """The answer filed under ``key`` (built and filed if new), or 304 if the client has it.
    With no key the answer is built and not filed (refusals: made-up tokens must not crowd
    out the answers people scan)."""
    answer = answers.get(key) if key is not None else None
    if answer is None:
        answer = Answer.of(build())
        if key is not None:
            answers.put(key, answer)
    headers = {"ETag": answer.etag, "Cache-Control": REVALIDATE}
    if answer.status_code == 200 and _matches(request.headers.get("if-none-match"),
                                              answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, answer.status_code, headers={
        **headers, "Content-Type": answer.content_type})
