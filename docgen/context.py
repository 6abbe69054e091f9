"""Template contexts: plain dicts of strings built from profile and certificate values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from templates.profiles import Profile

CNCA_NOTICE = "本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询"


def cn_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def body_context(profile: Profile) -> dict[str, Any]:
    b = profile.body
    return {"name": b.name, "short_name": b.short_name, "name_en": b.name_en,
            "address": b.address, "website": b.website, "phone": b.phone,
            "approval_number": b.approval_number, "signatory": b.signatory}


def scheme_context(profile: Profile) -> dict[str, Any]:
    s = profile.scheme
    return {"name": s.name, "code": s.code, "certificate_title": s.certificate_title,
            "standards": list(s.standards)}


@dataclass(frozen=True)
class CertificateFacts:
    """What one printed certificate (main or sub) states."""

    number: str
    main_number: str | None
    holder_name: str
    uscc: str
    registered_address: str
    scope: str
    grade: str | None
    issue_date: date
    expiry_date: date
    sites: tuple[dict, ...]
    site: dict | None = None
    reissue_date: date | None = None


def full_scope(profile: Profile, scope: str) -> str:
    """``XXX`` → ``XXX的售后服务`` (or the scheme's suffix) unless already worded so."""
    suffix = profile.scheme.scope_suffix
    return scope if scope.endswith(suffix) else f"{scope}{suffix}"


def certificate_context(profile: Profile, facts: CertificateFacts, qr: Any) -> dict[str, Any]:
    return {
        "body": body_context(profile),
        "scheme": scheme_context(profile),
        "org": {"name": facts.holder_name, "uscc": facts.uscc,
                "registered_address": facts.registered_address},
        "cert": {
            "number": facts.number,
            "main_number": facts.main_number or "",
            "is_sub": facts.main_number is not None,
            "grade": facts.grade if profile.scheme.graded else None,
            "scope": full_scope(profile, facts.scope),
            "issue_date": cn_date(facts.issue_date),
            "expiry_date": cn_date(facts.expiry_date),
            "reissue_date": cn_date(facts.reissue_date),
        },
        "sites": [dict(s, label=str(i)) for i, s in enumerate(facts.sites, start=1)],
        "site": facts.site or {},
        "cnca_notice": CNCA_NOTICE,
        "qr": qr,
    }
