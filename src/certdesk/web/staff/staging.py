"""An organisations file kept between its per-row preview and the confirmation that issues
it, so the clerk does not upload it twice: ``<home>/staging/<key>.json`` (who, which
scheme, the file's hash, the rows previewed, the issue form's one-time token) beside
``<key>.upload`` (the bytes). Only the session that uploaded it can read it; confirming
removes it; what nobody confirmed is removed after a day."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certdesk.common.errors import InputError
from certdesk.common.files import private_dir, write_atomically
from certdesk.common.i18n import N_
from certdesk.common.settings import Settings
from certdesk.web.staff.sessions import Visit

KEEP_SECONDS = 24 * 3600
_KEY = re.compile(r"[A-Za-z0-9_-]{22}")
GONE = N_("这份预览已失效（已签发、已过期或不是本次登录上传的），请重新上传文件。")


@dataclass(frozen=True)
class Staged:
    key: str
    filename: str
    profile: str
    sha256: str
    form_token: str
    rows: list[dict[str, Any]]
    """The rows as previewed (``PlannedRow.as_dict``)."""
    data: bytes


def _folder(settings: Settings) -> Path:
    return private_dir(settings.home / "staging")


def stage(settings: Settings, current: Visit, *, filename: str, profile: str, data: bytes,
          form_token: str, rows: list[dict[str, Any]]) -> Staged:
    folder = _folder(settings)
    _prune(folder)
    key = secrets.token_urlsafe(16)
    sha = hashlib.sha256(data).hexdigest()
    meta = {"owner": current.token_hash, "filename": filename, "profile": profile,
            "sha256": sha, "form_token": form_token, "rows": rows}
    write_atomically(folder / f"{key}.upload", data)
    write_atomically(folder / f"{key}.json",
                     json.dumps(meta, ensure_ascii=False, default=str).encode())
    return Staged(key, filename, profile, sha, form_token, rows, data)


def load(settings: Settings, current: Visit, key: str) -> Staged:
    """The upload staged under ``key`` by this session, or ``InputError`` saying it is
    gone."""
    if not _KEY.fullmatch(key):
        raise InputError(GONE)
    folder = _folder(settings)
    try:
        meta = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        data = (folder / f"{key}.upload").read_bytes()
    except (OSError, ValueError):
        raise InputError(GONE) from None
    if meta.get("owner") != current.token_hash:
        raise InputError(GONE)
    return Staged(key, meta["filename"], meta["profile"], meta["sha256"], meta["form_token"],
                  meta["rows"], data)


def drop(settings: Settings, key: str) -> None:
    folder = _folder(settings)
    for suffix in (".json", ".upload"):
        (folder / f"{key}{suffix}").unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another request pruned it first
            continue
