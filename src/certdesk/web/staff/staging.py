"""An organisations file kept between its per-row preview and the confirmation that issues
it, so the clerk does not upload it twice: a ``stagedupload`` row (who, which scheme, the
file's hash, the rows previewed, the issue form's one-time token, the bytes) in the
database, so the confirmation may land on another web process than the upload. Only the
session that uploaded it can read it; confirming removes it; what nobody confirmed is
removed after a day."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.store.staging import StagedUpload, add_staged, drop_staged, get_staged
from certdesk.web.staff.sessions import Visit

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


def stage(engine: Engine, current: Visit, *, filename: str, profile: str, data: bytes,
          form_token: str, rows: list[dict[str, Any]]) -> Staged:
    key = secrets.token_urlsafe(16)
    sha = hashlib.sha256(data).hexdigest()
    add_staged(engine, StagedUpload(
        key=key, owner=current.token_hash, filename=filename, profile=profile, sha256=sha,
        form_token=form_token, rows_json=json.dumps(rows, ensure_ascii=False, default=str),
        data=data))
    return Staged(key, filename, profile, sha, form_token, rows, data)


def load(engine: Engine, current: Visit, key: str) -> Staged:
    """The upload staged under ``key`` by this session, or ``InputError`` saying it is
    gone."""
    row = get_staged(engine, key) if _KEY.fullmatch(key) else None
    if row is None or row.owner != current.token_hash:
        raise InputError(GONE)
    return Staged(key, row.filename, row.profile, row.sha256, row.form_token,
                  json.loads(row.rows_json), row.data)


def drop(engine: Engine, key: str) -> None:
    drop_staged(engine, key)
