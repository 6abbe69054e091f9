"""Public routes: the verification page, the PDF check, the JSON API, the published keys.

Endpoints are plain ``def``s: FastAPI runs them in its thread pool, so signature checks and
database reads never block the event loop. An uploaded PDF is parsed and validated in a
bounded worker process (``signing.sandbox``); the thread only waits for it. The database
session comes from ``get_session`` (tests override it, the SQLModel way); the public pages
only read, so it is a reader's.

The certificate page and API are the exception, being the hot path (every scanned QR code):
``async``, without the session dependency, answering from ``answers`` after one read of the
log head and the token check — less work than a thread hand-off and FastAPI's dependency
machinery would add. Only building a new answer goes to the thread pool.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from certdesk.common.errors import CheckBusy, InvalidNumber, NotFound, TooComplex
from certdesk.common.settings import Settings
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import STATUS_LABELS
from certdesk.services.verification import Verdict, verify_file
from certdesk.signing.tokens import keyset
from certdesk.web.answers import Stamp, send, stamp
from certdesk.web.guards import client_of, work_cost
from certdesk.web.i18n import Words
from certdesk.web.responses import error_response, page
from certdesk.web.views import (
    PublicCertificate,
    TokenResult,
    certificate_page_verdict,
    check_token,
    public_certificate,
)

router = APIRouter()

PDF_MAGIC = b"%PDF-"
PDF_HEADER_WINDOW = 1024
"""ISO 32000 lets the header start anywhere in the first 1024 bytes."""


async def get_session(request: Request) -> AsyncIterator[Session]:
    # async: opening and closing a session is too short to be worth a thread hand-off.
    with Session(request.app.state.reader) as session:
        yield session


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LANG = "zh (default) or en"
TOKEN = "The signed token from the QR code."
LangQuery = Annotated[str | None, Query(description=LANG)]
TokenQuery = Annotated[str | None, Query(description=TOKEN)]


def _described(*query: tuple[str, str]) -> dict:
    """The OpenAPI parameters of a hot endpoint, which reads them from the request itself
    (FastAPI's parameter machinery cost a fifth of the answer's CPU)."""
    return {"parameters": [
        {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}},
        *({"name": name, "in": "query", "required": False, "description": text,
           "schema": {"type": "string"}} for name, text in query)]}


def _read_certificate(engine: Engine, profiles: Profiles, number: str,
                      now: Stamp) -> PublicCertificate:
    with Session(engine) as session:
        return public_certificate(session, profiles, number, now.today)


async def _lookup(request: Request, number: str, now: Stamp) -> PublicCertificate | Response:
    key = ("certificate", number, now)
    if cert := request.app.state.answers.get(key):
        return cert
    try:
        cert = await run_in_threadpool(_read_certificate, request.app.state.reader,
                                       request.app.state.profiles, number, now)
    except InvalidNumber:
        return error_response(request, 404, "malformed", title="malformed_title",
                              number=number[:64])
    except NotFound:
        return error_response(request, 404, "not_found", title="not_found_title",
                              number=number[:64])
    request.app.state.answers.put(key, cert)
    return cert


@router.get("/", include_in_schema=False)
def home(request: Request, lang: LangQuery = None):
    return page(request, "home.html", Words(lang))


@router.get("/v", include_in_schema=False)
def lookup(number: str = "", lang: LangQuery = None):
    """The home page's form: go to the certificate's own page."""
    suffix = "?lang=en" if lang == "en" else ""
    return RedirectResponse(f"/v/{quote(number.strip(), safe='')}{suffix}", status_code=303)


@router.get("/v/{number}", summary="Certificate page (HTML, for people)",
            response_class=Response, responses={404: {"description": "Unknown or malformed"},
                                                400: {"description": "Bad QR token"}},
            openapi_extra=_described(("lang", LANG), ("t", TOKEN)))
async def certificate_page(request: Request):
    """The page a scanned QR code opens: status, facts, sub-certificates and history."""
    number, lang, t = (request.path_params["number"], request.query_params.get("lang"),
                       request.query_params.get("t"))
    now = stamp(request.app.state.reader)
    cert = await _lookup(request, number, now)
    if isinstance(cert, Response):
        return cert
    token = check_token(request.app.state.settings, t, cert) if t is not None else None
    return send(request, request.app.state.answers,
                None if _bad(token) else ("page", request.scope["path"],
                                          request.scope["query_string"], now, token),
                lambda: page(request, "certificate.html", Words(lang),
                             400 if _bad(token) else 200, cert=cert, token=token,
                             verdict=certificate_page_verdict(cert, token)))


def _bad(token: TokenResult | None) -> bool:
    return token is not None and token.state == "invalid"


@router.get("/api/v1/certificates/{number}", summary="Certificate status (JSON)",
            responses={404: {"description": "Unknown or malformed number"},
                       400: {"description": "The token is not genuine"}},
            openapi_extra=_described(("t", TOKEN)))
async def certificate_json(request: Request):
    """The public facts and current status of a certificate; with ``t``, the token check."""
    number, t = request.path_params["number"], request.query_params.get("t")
    now = stamp(request.app.state.reader)
    cert = await _lookup(request, number, now)
    if isinstance(cert, Response):
        return cert
    token = check_token(request.app.state.settings, t, cert) if t is not None else None

    def build() -> Response:
        zh, en = STATUS_LABELS[cert.status]
        body = {**cert.as_dict(), "status_label": {"zh": zh, "en": en},
                "token": token.as_dict() if token else None,
                "verdict": certificate_page_verdict(cert, token).as_dict()}
        return JSONResponse(jsonable_encoder(body), 400 if _bad(token) else 200)

    return send(request, request.app.state.answers,
                None if _bad(token) else ("json", number, now, token), build)


@router.get("/verify", include_in_schema=False)
def verify_form(request: Request, settings: SettingsDep, lang: LangQuery = None):
    return page(request, "verify.html", Words(lang), mb=settings.upload_max_mb)


def _check_upload(request: Request, file: UploadFile | None, settings: Settings,
                  session: Session) -> Verdict | Response:
    if file is None or not file.filename:
        return error_response(request, 400, "no_file")
    data = file.file.read(settings.upload_max_bytes + 1)
    if len(data) > settings.upload_max_bytes:
        return error_response(request, 413, "too_large", mb=settings.upload_max_mb)
    if PDF_MAGIC not in data[:PDF_HEADER_WINDOW]:
        return error_response(request, 415, "not_pdf")
    try:
        verdict, seconds = verify_file(data, settings, session.get_bind())
    except TooComplex as exc:
        _charge(request, max(exc.spent_seconds, exc.limit_seconds))  # a refusal: the full limit
        return error_response(request, 422, "too_complex")
    except CheckBusy:
        wait = math.ceil(settings.upload_check_seconds)
        response = error_response(request, 503, "check_busy", seconds=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    _charge(request, seconds)
    return verdict


def _charge(request: Request, seconds: float) -> None:
    """Uploads cost rate tokens in proportion to the work their check took."""
    bucket = getattr(request.app.state, "rate_bucket", None)
    if bucket is not None:
        bucket.charge(client_of(request.scope), work_cost(seconds))


@router.post("/verify", summary="Check a certificate PDF (HTML answer)", response_class=Response,
             responses={400: {"description": "No file"}, 413: {"description": "Too large"},
                        415: {"description": "Not a PDF"},
                        422: {"description": "Too complex to check within the time limit"},
                        503: {"description": "Too many checks at once"}})
def verify_page(request: Request, session: SessionDep, settings: SettingsDep,
                file: Annotated[UploadFile | None, File(description="The PDF")] = None,
                lang: LangQuery = None):
    """Answers genuine / tampered / superseded / unknown, with the reason."""
    verdict = _check_upload(request, file, settings, session)
    if isinstance(verdict, Response):
        return verdict
    return page(request, "verdict.html", Words(lang), verdict=verdict)


@router.post("/api/v1/verify", summary="Check a certificate PDF (JSON answer)",
             responses={400: {"description": "No file"}, 413: {"description": "Too large"},
                        415: {"description": "Not a PDF"},
                        422: {"description": "Too complex to check within the time limit"},
                        503: {"description": "Too many checks at once"}})
def verify_json(request: Request, session: SessionDep, settings: SettingsDep,
                file: Annotated[UploadFile | None, File(description="The PDF")] = None):
    """The verdict (genuine / tampered / superseded / unknown), reason and signature facts."""
    verdict = _check_upload(request, file, settings, session)
    if isinstance(verdict, Response):
        return verdict
    return JSONResponse(jsonable_encoder(verdict.as_dict()))


@router.get("/.well-known/certdesk-keys.json", summary="The body's published token keys")
def published_keys(settings: SettingsDep):
    """Ed25519 keys (JWK) that sign QR tokens, current and retired, and the CA certificate:
    what an offline verifier needs (``certdesk token verify --keys``)."""
    return JSONResponse(keyset(settings), headers={"Cache-Control": "public, max-age=3600"})


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, lang: LangQuery = None):
    """The OpenAPI description rendered on the server: no CDN, no script."""
    return page(request, "docs.html", Words(lang), api=request.app.openapi())
