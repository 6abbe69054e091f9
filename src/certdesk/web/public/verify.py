"""The PDF check (``/verify``, ``/api/v1/verify``) and the published token keys.

Endpoints are plain ``def``s: FastAPI runs them in its thread pool, so signature checks and
database reads never block the event loop. An uploaded PDF is parsed and validated in a
bounded worker process (``signing.sandbox``); the thread only waits for it.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from certdesk.common.errors import CheckBusy, TooComplex
from certdesk.common.settings import Settings
from certdesk.services.verification import Verdict, verify_file
from certdesk.signing.tokens import keyset
from certdesk.web.guards import client_of, work_cost
from certdesk.web.i18n import Words, request_lang
from certdesk.web.public.deps import LangQuery, SessionDep, SettingsDep
from certdesk.web.responses import error_response, page

router = APIRouter()

PDF_MAGIC = b"%PDF-"
PDF_HEADER_WINDOW = 1024
"""ISO 32000 lets the header start anywhere in the first 1024 bytes."""


@router.get("/verify", include_in_schema=False)
def verify_form(request: Request, settings: SettingsDep, lang: LangQuery = None):
    return page(request, "verify.html", Words(request_lang(request)), mb=settings.upload_max_mb)


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
    """Uploads cost rate tokens in proportion to the work their check took (in this
    process's bucket and in the one the web processes share)."""
    for name in ("rate_bucket", "shared_bucket"):
        bucket = getattr(request.app.state, name, None)
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
    return page(request, "verdict.html", Words(request_lang(request)), verdict=verdict)


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
