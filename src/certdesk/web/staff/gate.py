"""The gate in front of the staff desk (an ASGI middleware of the whole app: the desk's own
router runs only after FastAPI has read a request's body).

A request without a signed-in session is anonymous: it is rate-limited per address, and its
body is never read — a form post other than the sign-in form is sent to the sign-in page at
once, and the sign-in form may be a few kilobytes at most. So an anonymous 120 MB upload
costs the server its headers only.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from certdesk.common.settings import Settings
from certdesk.web.guards import Reject, SharedBucket, TokenBucket, client_of, take_both, too_many
from certdesk.web.staff import sessions

PREFIX = "/staff"
SIGN_IN = "/staff/login"
SIGN_IN_MAX_BYTES = 16 * 1024
"""A sign-in form is a name, a password and two tokens."""


class StaffGate:
    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine, reject: Reject,
                 bucket: TokenBucket | None = None) -> None:
        self.app, self.settings, self.engine, self.reject = app, settings, engine, reject
        self.bucket = bucket or TokenBucket(settings.staff_rate_per_minute,
                                            settings.staff_rate_per_minute)
        # Sign-in posts count across every web process (each costs an argon2 check).
        self.shared = SharedBucket(engine, "staff", settings.staff_rate_per_minute,
                                   settings.staff_rate_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")) \
                or path.startswith(PREFIX + "/static/"):
            return await self.app(scope, receive, send)
        if await run_in_threadpool(self._signed_in, scope):
            return await self.app(scope, receive, send)
        posted = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        wait = await take_both(self.bucket, self.shared if posted else None, client_of(scope),
                               1.0)
        if wait:
            return await too_many(scope, self.reject, wait)(scope, receive, send)
        if posted:
            if path != SIGN_IN:
                return await RedirectResponse(SIGN_IN, status_code=303)(scope, receive, send)
            length = dict(scope["headers"]).get(b"content-length")
            if length is None or not length.isdigit() or int(length) > SIGN_IN_MAX_BYTES:
                return await self.reject(scope, 413, "too_large")(scope, receive, send)
        await self.app(scope, receive, send)

    def _signed_in(self, scope: Scope) -> bool:
        cookie = SimpleCookie()
        for name, value in scope["headers"]:
            if name == b"cookie":
                try:
                    cookie.load(value.decode("latin-1"))
                except CookieError:  # a malformed cookie header: no session then
                    return False
        morsel = cookie.get(sessions.COOKIE)
        if morsel is None:
            return False
        current = sessions.load(self.engine, self.settings, morsel.value)
        return current is not None and current.user is not None
