"""The one answer to "may I rely on this certificate today?" — shared by ``certdesk verify``,
``POST /verify``, ``POST /api/v1/verify`` and the page a QR code opens (``/v/<number>``).

Pure: built from facts the callers have already read (signature checks, archive rows,
the QR token check). Two questions are kept apart and both answered:

* **integrity** (``verdict``): ``genuine`` (ours, intact, archived), ``tampered`` (ours but
  changed, or a forged QR token for one of our numbers) or ``unknown`` (not ours);
* **status** of the certificate *today*: valid, not yet valid, suspended, revoked,
  cancelled, expired, superseded — for a genuine certificate only.

The headline is the status word when genuine, the integrity word otherwise; green only
when ``reliable_now``. Every reason has a stable code and a Chinese and an English text,
so no page shows another language's sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict

from certdesk.domain.status import STATUS_LABELS

VERDICTS = ("genuine", "tampered", "unknown")


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Signer:
    """One approval signature as listed to the reader: who, in what role, when."""

    role: str | None
    name: str | None
    signed_at: datetime | None
    final: bool = False
    kid: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "signed_at": self.signed_at,
                "final": self.final, "kid": self.kid}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    """genuine | tampered | unknown"""
    reason: Reason
    sha256: str | None = None
    """The checked file's hash (None on the certificate page, where no file is checked)."""
    status: str | None = None
    """The certificate's status today (STATUS_LABELS key); None unless a genuine certificate."""
    kind: str = "certificate"
    """``certificate``, or the archived record type of a genuine non-certificate record."""
    kind_label: tuple[str, str] | None = None
    number: str | None = None
    holder: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    current_number: str | None = None
    """Where to look instead: the current certificate of a superseded one."""
    signers: tuple[Signer, ...] = ()
    problems: tuple[str, ...] = ()
    """Technical findings of the signature checks (English, for staff and the JSON)."""
    signature: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

    @property
    def genuine(self) -> bool:
        return self.verdict == "genuine"

    @property
    def reliable_now(self) -> bool:
        """A genuine certificate, valid today. Never a record: a genuine notice or decision
        is no certificate to rely on, whatever a client reading only this field assumes."""
        return self.genuine and self.kind == "certificate" and self.status == "valid"

    @property
    def tone(self) -> str:
        """The headline's colour class: a status, ``record`` or ``bad`` (red)."""
        if not self.genuine:
            return "bad"
        if self.kind != "certificate":
            return "record"
        return self.status or "bad"

    def headline(self, lang: str) -> str:
        i = 0 if lang == "zh" else 1
        if not self.genuine:
            return HEADLINES[self.reason.code if self.reason.code in HEADLINES
                             else self.verdict][i]
        if self.kind != "certificate":
            label = (self.kind_label or (self.kind, self.kind))[i]
            return ("本机构存档记录：{}", "Archived record: {}")[i].format(label)
        assert self.status is not None, "a genuine certificate's verdict carries its status"
        word = STATUS_LABELS[self.status][i]
        return word if i == 0 else word.capitalize()

    def as_dict(self) -> dict[str, Any]:
        labels = STATUS_LABELS.get(self.status) if self.status else None
        return {
            "verdict": self.verdict, "genuine": self.genuine, "status": self.status,
            "status_label": {"zh": labels[0], "en": labels[1]} if labels else None,
            "reliable_now": self.reliable_now,
            "headline": {"zh": self.headline("zh"), "en": self.headline("en")},
            "reason": self.reason.as_dict(), "kind": self.kind, "sha256": self.sha256,
            "number": self.number, "holder": self.holder, "issue_date": self.issue_date,
            "expiry_date": self.expiry_date, "current_number": self.current_number,
            "signers": [s.as_dict() for s in self.signers], "problems": list(self.problems),
            "signature": dict(self.signature) if self.signature is not None else None,
        }


HEADLINES = {
    "tampered": ("文件已被篡改", "The file was tampered with"),
    "unknown": ("无法确认为本机构签发的证书", "Not a certificate this body issued"),
    "token_invalid": ("二维码验证失败", "QR code check failed"),
}

REASONS: dict[str, tuple[str, str]] = {
    # genuine certificates, by status today
    "valid": ("真实的证书文件，与本机构存档一致；证书当前有效。",
              "A genuine certificate file matching our archive; the certificate is valid "
              "today."),
    "not_yet_valid": ("真实的证书文件，但证书自{issue}起生效，目前尚未生效。",
                      "A genuine certificate file, but the certificate takes effect on "
                      "{issue}: it is not valid yet."),
    "suspended": ("真实的证书文件，但证书已暂停：暂停期间证书无效，不得使用。",
                  "A genuine certificate file, but the certificate is suspended: it is "
                  "invalid while suspended and may not be used."),
    "revoked": ("真实的证书文件，但证书已撤销：证书无效，编号作废。",
                "A genuine certificate file, but the certificate was revoked: it is invalid "
                "and its number void."),
    "cancelled": ("真实的证书文件，但证书已注销：证书无效。",
                  "A genuine certificate file, but the certificate was cancelled: it is no "
                  "longer valid."),
    "expired": ("真实的证书文件，但证书已于{expiry}到期：证书无效。",
                "A genuine certificate file, but the certificate expired on {expiry}: it is "
                "no longer valid."),
    "reissued": ("本机构签发过此文件，但证书已换证，此文件为旧版本；"
                 "请以证书 {current} 的当前记录为准。",
                 "We issued this file, but the certificate has been re-issued since: this is "
                 "an old version; rely on the current record of {current}."),
    "recertified": ("本机构签发过此文件，但证书已在再认证时换发新证书 {current}；请以新证书为准。",
                    "We issued this file, but the certificate was replaced on "
                    "re-certification by {current}; rely on the new certificate."),
    # the certificate page (QR code)
    "token_ok": ("二维码由本机构签发，与存档记录一致。",
                 "The QR code was issued by this body and matches the archived record."),
    "no_token": ("证书状态以本机构存档记录为准。",
                 "The certificate's status as this body's archive records it."),
    "token_differs": ("二维码由本机构签发，但与当前存档记录不一致：证书已换证，所持证书为旧版本；"
                      "请以本机构存档记录为准。",
                      "The QR code was issued by this body but differs from the archived "
                      "record: the certificate was re-issued and the copy at hand is an old "
                      "version; rely on this body's archived record."),
    "token_invalid": ("二维码不是本机构为此证书签发的，可能是伪造或被篡改的；它不能证明任何证书。"
                      "请仅以下方本机构存档记录为准。",
                      "This QR code was not issued by this body for this certificate: it may "
                      "be forged or altered and proves nothing. Only this body's archived "
                      "record below counts."),
    # genuine records that are not certificates
    "record": ("真实的本机构存档记录（{kind}），不是证书。",
               "A genuine archived record of this body ({kind}); it is not a certificate."),
    "approved": ("真实的本机构存档记录（{kind}）：{count} 个审批签名均由本机构密钥签署，"
                 "签名之间只增加了审批签名。",
                 "A genuine archived record of this body ({kind}): all {count} approval "
                 "signatures were made with this body's keys, and nothing but approval "
                 "signatures was added between them."),
    "approval_open": ("审批签名均为本机构的，但审批尚未完成（没有最终签名）；"
                      "只有最终存档的文件算数。",
                      "The approval signatures are this body's, but the approval is not "
                      "complete (no final signature); only the final archived file counts."),
    # tampered
    "tampered_content": ("文件在签名后被修改（签名摘要不符），不能使用。",
                         "The file was changed after it was signed (digest mismatch): do not "
                         "use it."),
    "tampered_update": ("文件在签名后被追加修改（增量更新），不能使用。",
                        "The file was changed after it was signed (incremental update): do "
                        "not use it."),
    "tampered_approval": ("审批签名之后有签名以外的修改，不能使用。",
                          "Something other than an approval signature was changed after a "
                          "signature: do not use it."),
    "archived_invalid": ("本机构存档的文件，但其签名未通过校验，不能使用。",
                         "A file in this body's archive, but its signature does not validate: "
                         "do not use it."),
    # unknown
    "unreadable": ("无法读取该 PDF 文件，不能确认为本机构签发的证书。",
                   "The PDF cannot be read: it cannot be confirmed as issued by this body."),
    "unsigned": ("文件没有本机构的电子签名，不是本机构签发的证书。",
                 "The file carries no signature of this body: it is not a certificate this "
                 "body issued."),
    "untrusted": ("签名所用的密钥不是本机构的，不是本机构签发的证书。",
                  "Signed with a key this body does not trust: not a certificate this body "
                  "issued."),
    "not_archived": ("签名为本机构密钥，但本机构存档中没有此文件，不能确认。",
                     "Signed with this body's key, but our archive has no such file: it "
                     "cannot be confirmed."),
}


def reason(code: str, **params: object) -> Reason:
    zh, en = REASONS[code]
    zh_params = {k: v[0] if isinstance(v, tuple) else _zh(v) for k, v in params.items()}
    en_params = {k: v[1] if isinstance(v, tuple) else v for k, v in params.items()}
    return Reason(code, zh.format(**zh_params), en.format(**en_params))


def _zh(value: object) -> object:
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return value


def certificate_verdict(status: str, *, number: str, holder: str | None,
                        issue_date: date | None, expiry_date: date | None,
                        reissued: bool = False, successor: str | None = None,
                        **extra: Any) -> Verdict:
    """A genuine certificate file: its status today, or superseded when a newer file or a
    re-certified certificate replaces it."""
    current = None
    if reissued:
        status, current, code = "superseded", number, "reissued"
    elif status == "superseded" or successor:
        status, current, code = "superseded", successor or number, "recertified"
    else:
        code = status
    return Verdict("genuine", reason(code, issue=issue_date, expiry=expiry_date,
                                     current=current), status=status, number=number,
                   holder=holder, issue_date=issue_date, expiry_date=expiry_date,
                   current_number=current, **extra)


class _Facts(TypedDict):
    number: str
    holder: str
    issue_date: date
    expiry_date: date


def page_verdict(status: str, *, number: str, holder: str, issue_date: date,
                 expiry_date: date, successor: str | None, token: str | None) -> Verdict:
    """What the certificate page (a scanned QR code) answers. ``token`` is the QR token's
    check: None (no token), ``ok``, ``differs`` (genuine, but an older version) or
    ``invalid`` (forged or altered: the warning is the headline, not the status)."""
    facts = _Facts(number=number, holder=holder, issue_date=issue_date,
                   expiry_date=expiry_date)
    if token == "invalid":
        return Verdict("tampered", reason("token_invalid"), **facts)
    if token == "differs" and status == "valid":  # a revoked (…) status outranks it
        return Verdict("genuine", reason("token_differs"), status="superseded",
                       current_number=number, **facts)
    if token == "differs":
        return Verdict("genuine", reason("token_differs"), status=status, **facts)
    current = successor if status == "superseded" else None
    return Verdict("genuine", reason("token_ok" if token == "ok" else "no_token"),
                   status=status, current_number=current, **facts)
