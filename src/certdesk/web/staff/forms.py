"""Reading the desk's form fields and uploads: dates, months, files — each refusal a sentence
naming the field (``label``: a msgid) or the file the user chose."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import UploadFile

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_, Msg
from certdesk.domain.profiles import Profiles

MAX_UPLOAD = 32 * 1024 * 1024
"""Largest file taken (a scanned original, an organisations list); a page says so beyond."""


def day(text: str, label: str) -> date | None:
    """A date field, None when left empty."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(N_("{label}“{text}”不是日期（格式 YYYY-MM-DD）。"), label=Msg(label),
                         text=text) from None


def required_day(text: str, label: str) -> date:
    """A date field the form must have."""
    value = day(text, label)
    if value is None:
        raise InputError(N_("请填写{label}。"), label=Msg(label))
    return value


def months(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= 12:
        raise InputError(N_("暂停期限“{text}”应为 1–12 的整数（月）。"), text=text)
    return int(text)


def upload_bytes(upload: UploadFile) -> tuple[str, bytes]:
    """The uploaded file's own name (no path) and its bytes, within the size limit."""
    name = Path(upload.filename or "").name
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(N_("{name}：文件超过 {mb} MB，请分批上传。"), name=name,
                         mb=MAX_UPLOAD // 2**20)
    return name, data


def known_profile(profiles: Profiles, profile: str) -> None:
    if profile not in profiles:
        raise InputError(N_("没有认证方案配置“{profile}”。"), profile=profile)


def read_upload(upload: UploadFile, load: Callable[[Path], list[Any]],
                suffixes: tuple[str, ...], wrong_type: str) -> tuple[str, list[Any]]:
    """Parse an upload as the matching command reads a file: errors then name the file the
    user chose, not a temporary one."""
    name, data = upload_bytes(upload)
    return name, load_upload(name, data, load, suffixes, wrong_type)


def load_upload(name: str, data: bytes, load: Callable[[Path], list[Any]],
                suffixes: tuple[str, ...], wrong_type: str) -> list[Any]:
    """``read_upload`` of bytes already read (an upload kept for its confirmation)."""
    if Path(name).suffix.lower() not in suffixes:
        raise InputError(wrong_type)  # a msgid
    with tempfile.TemporaryDirectory(prefix="certdesk-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return load(path)
