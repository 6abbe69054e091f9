"""Templates and the single shape of every refusal (a page, or JSON under ``/api/``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from certdesk.web.i18n import Words, request_lang

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

STATUS_MESSAGES = {400: "bad_request", 404: "page_not_found", 405: "bad_request",
                   413: "too_large", 422: "bad_request"}
"""What the visitor reads for an HTTP error raised by the framework (or the body limit)."""


def wants_json(path: str) -> bool:
    return path.startswith(("/api/", "/.well-known/"))


def own_path(path: str) -> str:
    """``path`` as a link that stays on this site: one leading slash, percent-encoded. A
    request for ``//evil.example/x`` must not become a link to evil.example."""
    return quote("/" + path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")


def lang_switch(request: Request, words: Words) -> str:
    """This page's relative URL in the other language (the token and the rest kept)."""
    url = request.url.include_query_params(lang=words.other)
    return f"{own_path(request.scope['path'])}?{url.query}"


def page(request: Request, name: str, words: Words, status_code: int = 200, **context):
    """A public page in the visitor's language, with the link to the other language."""
    return templates.TemplateResponse(request, name, {
        "t": words, "switch_url": lang_switch(request, words), **context},
        status_code=status_code)


def error_response(request: Request, status_code: int, key: str, title: str = "error_title",
                   **params) -> Response:
    """A refusal in the visitor's language: ``{"error", "detail"}`` for the API, else a page."""
    words = Words(request_lang(request))
    if wants_json(request.url.path):
        return JSONResponse({"error": key, "detail": words(key, **params)}, status_code)
    return page(request, "error.html", words, status_code, title=words(title),
                message=words(key, **params))
