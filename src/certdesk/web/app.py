"""The FastAPI app factory and its error pages.

Every refusal — unknown page, malformed number, bad token, oversized or non-PDF upload,
rate limit — is a 4xx page in the visitor's language (or JSON under ``/api/``); an
unexpected failure is a plain 500 page, never a traceback.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Scope

from certdesk.common.settings import Settings, get_settings
from certdesk.documents.converter import Converter
from certdesk.domain.profiles import installed_profiles
from certdesk.signing.tokens import local_keys
from certdesk.store.db import get_engine, reader
from certdesk.web.answers import ANSWERS_KEPT, LogHead, Memo
from certdesk.web.guards import (
    BodyLimit,
    LocalRedirects,
    RateLimit,
    SecurityHeaders,
    SharedBucket,
    TokenBucket,
)
from certdesk.web.i18n import RememberLang, Words
from certdesk.web.public import certificates, health, notices, search, verify
from certdesk.web.responses import HERE, STATUS_MESSAGES, error_response
from certdesk.web.staff import router as staff_desk
from certdesk.web.staff.gate import StaffGate


def create_app(settings: Settings | None = None, engine: Engine | None = None, *,
               staff: bool = True, pool: Converter | None = None) -> FastAPI:
    """The public verification app; with ``staff`` the staff desk is mounted at /staff
    (``pool`` lets it share a warm LibreOffice pool)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="certdesk public verification",
        description="Check a certificate's current status, a QR token, or a certificate PDF. "
                    "Public data only: what the certificate itself states.",
        version="1",
        docs_url=None, redoc_url=None,  # /docs is served by certdesk itself: no CDN, no script
    )
    app.state.settings = settings
    app.state.engine = engine or get_engine(settings.db_url)
    app.state.profiles = installed_profiles(settings)
    app.state.reader = reader(app.state.engine)
    app.state.answers = Memo(ANSWERS_KEPT)
    app.state.log_head = LogHead(app.state.engine)
    app.state.token_keys = local_keys(settings)  # parsed once; re-read for a new kid
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(certificates.router)
    app.include_router(verify.router)
    app.include_router(notices.router)
    app.include_router(search.router)
    app.include_router(health.router)
    if staff:
        staff_desk.mount(app, settings, app.state.engine, pool=pool,
                         profiles=app.state.profiles)

    def refuse(request: Request, status_code: int, key: str, **params) -> Response:
        if key == "too_large":  # every "too large" states the limit
            params["mb"] = settings.upload_max_mb
        return error_response(request, status_code, key, **params)

    def reject(scope: Scope, status_code: int, key: str, **params) -> Response:
        return refuse(Request(scope), status_code, key, **params)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return refuse(request, exc.status_code, STATUS_MESSAGES.get(exc.status_code,
                                                                    "bad_request"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, "bad_request")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Logged with its traceback by the server; the visitor gets one sentence.
        return HTMLResponse(f"<!doctype html><title>500</title><p>{Words('zh')('server_error')}"
                            f"<br>{Words('en')('server_error')}</p>", status_code=500)

    # Outermost last: headers go on every answer, including refusals by the guards.
    if staff:
        app.add_middleware(StaffGate, settings=settings, engine=app.state.engine,
                           reject=reject)
    app.add_middleware(BodyLimit, max_bytes=settings.upload_max_bytes, reject=reject)
    # The routes charge an upload's work to the same buckets once it is known.
    app.state.rate_bucket = TokenBucket(settings.public_rate_per_minute,
                                        settings.public_rate_burst)
    app.state.shared_bucket = SharedBucket(app.state.engine, "public",
                                           settings.public_rate_per_minute,
                                           settings.public_rate_burst)
    app.add_middleware(RateLimit, reject=reject, bucket=app.state.rate_bucket,
                       shared=app.state.shared_bucket)
    app.add_middleware(LocalRedirects)
    app.add_middleware(RememberLang)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    return app
