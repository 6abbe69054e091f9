"""ASGI middleware guarding the public app: security headers, a per-address rate limit and
an upload size cap. Each refuses *before* the request body is read, so a flood or an
oversized upload costs the server next to nothing."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from certdesk.store import limits

Reject = Callable[..., Response]
"""``reject(scope, status_code, message_key, **params)`` → the error response to send."""

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
"""The pages need no script at all, so none may run; nothing may frame them."""

SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    # Verification URLs carry a token; no other site needs to learn them.
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
    b"cross-origin-opener-policy": b"same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                if not static and b"cache-control" not in present:
                    # A status page must never be served stale from a cache.
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenBucket:
    """Per-client token buckets: ``burst`` tokens at most, refilled at ``per_minute``.

    Memory stays bounded: past ``max_clients`` the least recently seen client is dropped
    (it comes back with a full bucket, which only ever favours the client).
    """

    def __init__(self, per_minute: int, burst: int, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens: 0.0 if granted, else the seconds until they would be."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / self.rate if self.rate > 0 else math.inf
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    def charge(self, client: str, cost: float) -> None:
        """Take ``cost`` tokens for work already done, into debt if need be (down to one
        burst below zero): the client's next requests wait until it is paid off."""
        if cost <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            self._buckets[client] = (max(-self.burst, tokens - cost), now)


class SharedBucket:
    """Per-client token buckets in the database (``store.limits``): every web process on
    it, on any host, takes from the same bucket. A write per take, so it guards only the
    requests that cost far more than that (PDF checks, searches, sign-ins); page views take
    from each process's ``TokenBucket`` and the reverse proxy's limit (docs/deployment.md).
    """

    FORGET_EVERY = 500
    """Takes (in this process) between two sweeps of buckets that have refilled."""

    def __init__(self, engine: Engine, prefix: str, per_minute: int, burst: int, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.prefix = engine, prefix
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._takes = 0

    def _key(self, client: str) -> str:
        return f"{self.prefix}:{client}"[:80]

    def take(self, client: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens: 0.0 if granted, else the seconds until they would be."""
        now = self.clock()
        self._takes += 1
        if self._takes % self.FORGET_EVERY == 0:
            limits.forget_full(self.engine, self.rate, self.burst, now)
        return limits.take(self.engine, self._key(client), cost, self.rate, self.burst, now)

    def charge(self, client: str, cost: float) -> None:
        """Take ``cost`` tokens for work already done, into debt if need be."""
        limits.charge(self.engine, self._key(client), cost, self.rate, self.burst, self.clock())


UPLOAD_COST = 5.0
"""A PDF check costs five page views up front: validating a signature is the expensive
request."""
SEARCH_COST = 3.0
"""A search by organisation costs three: it lists certificates, and listing the register
out by name prefixes is what the limit must make slow."""
SEARCH_PATHS = ("/search", "/api/v1/search")

INCLUDED_SECONDS = 0.5
WORK_COST_PER_SECOND = 10.0
"""Beyond the first half second, each CPU second the check took costs ten page views more,
charged afterwards: a file that runs into the time limit (3 s) costs an address its whole
burst, so hostile files can be sent twice a minute, not twelve times."""


def work_cost(seconds: float) -> float:
    """The tokens charged after an upload check that took ``seconds``."""
    return max(0.0, seconds - INCLUDED_SECONDS) * WORK_COST_PER_SECOND


def client_of(scope: Scope) -> str:
    return (scope.get("client") or ("unknown", 0))[0]


def shared(scope: Scope) -> bool:
    """Whether a request takes from the shared bucket: a PDF check or a search."""
    return scope["method"] == "POST" or scope["path"] in SEARCH_PATHS


def cost(scope: Scope) -> float:
    """The tokens a request takes up front."""
    if scope["method"] == "POST":
        return UPLOAD_COST
    return SEARCH_COST if scope["path"] in SEARCH_PATHS else 1.0


EXEMPT = ("/static/", "/staff")
"""Not public: static files need no limit, and the staff desk (signed-in users uploading
scans) applies its own body limit and sign-in rate limit."""


async def take_both(bucket: TokenBucket, shared_bucket: SharedBucket | None, client: str,
                    cost: float) -> float:
    """The shared bucket decides (when given); this process's bucket is charged the same,
    so its next page views count the expensive request too."""
    if shared_bucket is None:
        return bucket.take(client, cost)
    wait = await run_in_threadpool(shared_bucket.take, client, cost)
    if not wait:
        bucket.charge(client, cost)
    return wait


def too_many(scope: Scope, reject: Reject, wait: float) -> Response:
    seconds = max(1, math.ceil(min(wait, 3600)))
    response = reject(scope, 429, "rate_limited", seconds=seconds)
    response.headers["Retry-After"] = str(seconds)
    return response


class RateLimit:
    """Per-address limit of the public pages: page views in this process's ``bucket``; PDF
    checks and searches in ``shared`` (one count across processes) when given."""

    def __init__(self, app: ASGIApp, bucket: TokenBucket, reject: Reject,
                 shared: SharedBucket | None = None) -> None:
        self.app, self.bucket, self.reject, self.shared = app, bucket, reject, shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            return await self.app(scope, receive, send)
        wait = await take_both(self.bucket, self.shared if shared(scope) else None,
                               client_of(scope), cost(scope))
        if not wait:
            return await self.app(scope, receive, send)
        await too_many(scope, self.reject, wait)(scope, receive, send)


class BodyLimit:
    """Refuse a body over ``max_bytes``: at once by Content-Length, else while it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int, reject: Reject) -> None:
        self.app, self.max_bytes, self.reject = app, max_bytes, reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS")
                or scope["path"].startswith(EXEMPT)):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self.reject(scope, 413, "too_large")(scope, receive, send)
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # Raised inside the endpoint's body parsing; FastAPI passes HTTPException
                # through to the app's handler, which answers with the 413 page.
                raise HTTPException(413, "too_large")
            return message

        await self.app(scope, counting_receive, send)


class LocalRedirects:
    """Every redirect stays on this site: an absolute ``Location`` (Starlette builds its
    trailing-slash redirects from the request's Host header) becomes its path and query,
    with one leading slash, so neither a forged Host nor a ``//host`` path leads away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_local(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, local_location(v) if k.lower() == b"location" else v)
                           for k, v in message.get("headers", [])]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_local)


def local_location(value: bytes) -> bytes:
    url = urlsplit(value.decode("latin-1"))
    path = "/" + url.path.lstrip("/\\")
    return (path + (f"?{url.query}" if url.query else "")).encode("latin-1")
