"""``/healthz``: what a load balancer or an orchestrator asks each web process. It answers
200 while this process serves and reaches the database, 503 otherwise, so traffic goes to
the processes that can answer; it reads nothing else (no certificate, no blob)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

router = APIRouter()


@router.get("/healthz", summary="This process serves and reaches the database",
            responses={503: {"description": "The database cannot be reached"}})
def health(request: Request) -> JSONResponse:
    """``{"ok": true}``, or 503 with ``{"ok": false, "database": "unreachable"}``."""
    try:
        with request.app.state.reader.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
    return JSONResponse({"ok": True, "database": "ok"})
