"""The wording of the notices to a certified (or refused) organisation.

A notice context carries its title, opening sentence and consequences as text (see
``documents.schema.NOTICE``), so one Word template serves every notice and a body changes
wording here, or layout in its own template, independently.

``services.transitions.TRANSITIONS`` (``certdesk status``) takes the four status notices'
texts from here; ``certdesk surveillance --report`` issues the maintenance notice. Both, and
``certdesk render``, make a notice's context with ``notice_context`` from a ``Notice``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from certdesk.documents.context import CNCA_NOTICE, body_context, cn_date, full_scope
from certdesk.domain.profiles import Profile


@dataclass(frozen=True)
class Wording:
    title: str
    body: str
    """Opening sentence; ``{date}`` and, where used, ``{application}``/``{changes}``."""
    consequences: tuple[str, ...]
    """``{until}`` is the end of a suspension."""
    clause: str
    key: str = ""
    """Its key in ``WORDING``; the notice's document kind is ``<key>_notice``."""


_WORDING: dict[str, Wording] = {
    "suspension": Wording(
        "暂停认证证书通知书",
        "经审查，贵组织的下列认证证书自{date}起暂停使用。",
        ("暂停期间认证证书暂时无效，贵组织不得以任何方式使用认证证书、认证标志或引用认证信息。",
         "暂停期限至{until}。请在暂停期限内完成纠正并书面报告；期满仍未满足要求的，将撤销认证证书。"),
        "CACQ 9.1, DNI 6.7, ZPIC 7.2, XBHT 8.2"),
    "restoration": Wording(
        "恢复认证证书通知书",
        "经验证，导致暂停的问题已得到纠正，贵组织的下列认证证书自{date}起恢复有效。",
        ("认证证书恢复后，贵组织应继续按规定接受监督审查。",),
        "CACQ 9.1, DNI 6.8, ZPIC 7.2, XBHT 8.2.3"),
    "revocation": Wording(
        "撤销认证证书通知书",
        "贵组织的下列认证证书自{date}起撤销，原认证证书编号废止，不再使用。",
        ("请立即停止使用认证证书及认证标志，并在收到本通知后交回认证证书。",),
        "CACQ 9.2, DNI 6.9, ZPIC 7.3, XBHT 8.3, XBHT A.5"),
    "cancellation": Wording(
        "注销认证证书通知书",
        "根据贵组织的申请，贵组织的下列认证证书自{date}起注销。",
        ("注销后贵组织不得继续使用认证证书及认证标志。",),
        "CACQ 9.2.2, XBHT 8.4"),
    "refusal": Wording(
        "不予认证注册通知",
        "经审定，贵组织{application}的认证申请不予认证注册。",
        ("如对本决定有异议，可向本机构提出申诉；本机构将在收到申诉后60日内书面答复处理结果。",
         "贵组织的申请文件和有关资料已按保密要求归档保存。"),
        "DNI 6.2, CACQ 7.10.9, XBHT 7.5.1, 7.2.4; appeals CACQ 10.3, ZPIC 9.2"),
    "maintenance": Wording(
        "保持认证注册资格通知书",
        "经监督审查，贵组织的售后服务体系持续满足认证要求，本机构自{date}起保持贵组织下列认证证书的认证注册资格。",
        ("本通知书须与认证证书一并使用，认证证书方继续有效。",
         "贵组织应继续按规定接受监督审查；监督审查不合格或未按期接受监督审查的，认证证书将被暂停或撤销。"),
        "XBHT 7.8.2(6) 注; DNI 6.3.2 1)"),
    "reissue": Wording(
        "换证通知书",
        "因{changes}，本机构于{date}为贵组织换发下列认证证书，证书编号和有效期保持不变。",
        ("请在收到换发的认证证书后交回原证书，并停止以原证书及原认证信息进行宣传。",
         "收到换发的认证证书后，方可按新证书进行认证信息宣传及认证标志使用。"),
        "CACQ 9.5.3, 9.5.4; DNI 6.4-6.6; XBHT A.3"),
}
WORDING: dict[str, Wording] = {k: replace(w, key=k) for k, w in _WORDING.items()}


def document_title(profile: Profile, kind: str, default: str) -> str:
    """A document kind's title: the profile's ``[templates.titles]`` entry, else ``default``."""
    titles = profile.templates.get("titles", {})
    return titles.get(kind, default) if isinstance(titles, Mapping) else default


@dataclass(frozen=True)
class NoticeCertificate:
    number: str
    scope: str
    """The certificate's own scope (printed with the scheme's suffix)."""
    expiry_date: date


@dataclass(frozen=True)
class Notice:
    """What a notice to an organisation states."""

    wording: Wording
    reference: str
    on: date
    reason: str
    holder: str
    uscc: str
    certificates: tuple[NoticeCertificate, ...]
    until: date | None = None
    """The end of a suspension."""
    application: str = ""
    """A refused application's number."""
    changes: str = ""
    """What a re-issue changed."""


def notice_context(profile: Profile, notice: Notice) -> dict[str, Any]:
    """The context of every notice template (``documents.schema.NOTICE``)."""
    w = notice.wording
    text = w.body.format(
        date=cn_date(notice.on),
        application=f"（申请编号 {notice.application}）" if notice.application else "",
        changes=notice.changes)
    return {"body": body_context(profile),
            "org": {"name": notice.holder, "uscc": notice.uscc},
            "notice": {"title": document_title(profile, f"{w.key}_notice", w.title),
                       "reference": notice.reference, "body": text, "reason": notice.reason,
                       "date": cn_date(notice.on),
                       "consequences": [c.format(until=cn_date(notice.until))
                                        for c in w.consequences]},
            "certificates": [{"number": c.number, "scope": full_scope(profile, c.scope),
                              "expiry_date": cn_date(c.expiry_date)}
                             for c in notice.certificates],
            "cnca_notice": CNCA_NOTICE}
