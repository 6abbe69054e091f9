"""Public pages of a certificate: the home page and its lookup form, the page a scanned QR
code opens, the same as JSON, and the API description (``/docs``).

The certificate page and API are the hot path (every scanned QR code): ``async``, without
the session dependency, answering from ``answers`` after one read of the log head and the
token check — less work than a thread hand-off and FastAPI's dependency machinery would
add. Only building a new answer goes to the thread pool.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from certdesk.common.errors import InvalidNumber, NotFound
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import STATUS_LABELS
from certdesk.web.answers import Stamp, send, stamp
from certdesk.web.i18n import Words, request_lang
from certdesk.web.public.deps import LANG, TOKEN, LangQuery
from certdesk.web.public.views import (
    PublicCertificate,
    TokenResult,
    certificate_page_verdict,
    check_token,
    public_certificate,
)
from certdesk.web.responses import error_response, page

router = APIRouter()


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
    return page(request, "home.html", Words(request_lang(request)))


@router.get("/v", include_in_schema=False)
def lookup(request: Request, number: str = "", lang: LangQuery = None):
    """The home page's form: go to the certificate's own page (in the form's language)."""
    suffix = "?lang=en" if request_lang(request) == "en" else ""
    return RedirectResponse(f"/v/{quote(number.strip(), safe='')}{suffix}", status_code=303)


@router.get("/v/{number}", summary="Certificate page (HTML, for people)",
            response_class=Response, responses={404: {"description": "Unknown or malformed"},
                                                400: {"description": "Bad QR token"}},
            openapi_extra=_described(("lang", LANG), ("t", TOKEN)))
async def certificate_page(request: Request):
    """The page a scanned QR code opens: status, facts, sub-certificates and history."""
    number, t = request.path_params["number"], request.query_params.get("t")
    words = Words(request_lang(request))
    now = stamp(request.app.state.log_head)
    cert = await _lookup(request, number, now)
    if isinstance(cert, Response):
        return cert
    token = check_token(request.app.state.token_keys, t, cert) if t is not None else None
    return send(request, request.app.state.answers,
                None if _bad(token) else ("page", request.scope["path"],
                                          request.scope["query_string"], words.lang, now,
                                          token),
                lambda: page(request, "certificate.html", words,
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
    now = stamp(request.app.state.log_head)
    cert = await _lookup(request, number, now)
    if isinstance(cert, Response):
        return cert
    token = check_token(request.app.state.token_keys, t, cert) if t is not None else None

    def build() -> Response:
        zh, en = STATUS_LABELS[cert.status]
        body = {**cert.as_dict(), "status_label": {"zh": zh, "en": en},
                "token": token.as_dict() if token else None,
                "verdict": certificate_page_verdict(cert, token).as_dict()}
        return JSONResponse(jsonable_encoder(body), 400 if _bad(token) else 200)

    return send(request, request.app.state.answers,
                None if _bad(token) else ("json", number, now, token), build)


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, lang: LangQuery = None):
    """The OpenAPI description rendered on the server: no CDN, no script."""
    return page(request, "docs.html", Words(request_lang(request)), api=request.app.openapi())
