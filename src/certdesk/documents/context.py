"""Template contexts: plain dicts of strings built from profile and certificate values.

The shape of every context is declared in ``documents.schema``; templates may use exactly
those keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from certdesk.common.errors import InputError
from certdesk.documents.render import Image
from certdesk.domain.profiles import Profile

CNCA_NOTICE = "本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询"


def cn_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def num(value: Decimal | Fraction | float | int | None) -> str:
    """A figure as printed: ``2.5``, ``3``, ``87.5`` (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    if isinstance(value, Fraction):
        value = round(float(value), 2)
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def body_context(profile: Profile) -> dict[str, Any]:
    b = profile.body
    return {"name": b.name, "short_name": b.short_name, "name_en": b.name_en,
            "address": b.address, "website": b.website, "phone": b.phone,
            "approval_number": b.approval_number, "signatory": b.signatory}


def scheme_context(profile: Profile) -> dict[str, Any]:
    s = profile.scheme
    return {"name": s.name, "code": s.code, "certificate_title": s.certificate_title,
            "standards": list(s.standards)}


def site_context(site: Mapping[str, Any], label: int | str = "") -> dict[str, Any]:
    """A site as every template sees it; issuing passes address/scope/temporary only."""
    return {"label": str(label), "name": site.get("name") or "", "address": site["address"],
            "scope": site.get("scope") or "", "temporary": bool(site.get("temporary"))}


NO_SITE = {"label": "", "name": "", "address": "", "scope": "", "temporary": False}


def sites_context(sites: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [site_context(s, i) for i, s in enumerate(sites, start=1)]


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


def covered_sites(profile: Profile, facts: CertificateFacts) -> tuple[dict, ...]:
    """The sites a certificate covers: those given, else the registered address — every
    certificate prints a covered address [CACQ 8.1 2), DNI 5.5.1(2), ZPIC 8.1.1 4),
    XBHT 7.8.2(6)a)]. Where the body names the sites of a multi-site certificate
    (``site_names``: DNI 5.5.1(2) "若覆盖多场所，表述…场所的名称和地址信息") each needs a name."""
    spec = profile.certificate
    sites = facts.sites or ({"address": facts.registered_address, "scope": facts.scope},)
    if spec.site_names and len(sites) > 1:
        unnamed = [str(i) for i, s in enumerate(sites, start=1) if not s.get("name")]
        if unnamed:
            raise InputError(f"{facts.holder_name}: site {', '.join(unnamed)} has no name; "
                             f"{profile.body.short_name} certificates covering several sites "
                             f"print each site's name and address [{spec.site_names_clause}]")
    return sites


UNVERIFIED_LABELS = {"name": "名称", "short_name": "简称", "name_en": "英文名称", "address": "地址",
                     "website": "网址", "phone": "电话", "approval_number": "批准号",
                     "accreditation_code": "认可代码", "signatory": "签发人",
                     "certificate.mark": "认证标志"}


def unverified_notice(profile: Profile) -> str:
    """What a certificate printed with unconfirmed body values says about them (empty when
    every value is confirmed); issuing one needs the install's explicit consent. Only what
    the certificate prints is named: rule values (a reporting period) are not on it."""
    printed = [UNVERIFIED_LABELS[k] for k in profile.unverified if k in UNVERIFIED_LABELS]
    if not printed:
        return ""
    labels = "、".join(printed)
    return f"本证书所载认证机构{labels}未经认证机构确认，仅供测试或演示，不作为认证证明"


@cache
def _png(path: Path) -> bytes:
    return path.read_bytes()


MARK_WIDTH_MM = 22


def mark_image(profile: Profile) -> Image | None:
    """The body's certification mark for its certificates, if its profile has one."""
    path = profile.mark_path()
    return Image(_png(path), MARK_WIDTH_MM) if path else None


def certificate_context(profile: Profile, facts: CertificateFacts, qr: Any, *,
                        sites_in_annex: bool = False, draft: bool = False) -> dict[str, Any]:
    """The certificate, sub-certificate and site annex context.

    ``sites_in_annex``: the certificate names the number of sites and refers to the site
    annex instead of listing them (organisations with many sites). ``draft``: rendered
    for review, not issued; the template says so on the page.
    """
    sites = sites_context(covered_sites(profile, facts))
    site = NO_SITE
    if facts.site is not None:
        index = next((i for i, s in enumerate(facts.sites, start=1) if s == facts.site), "")
        site = site_context(facts.site, index)
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
            "site_count": len(sites),
            "sites_in_annex": sites_in_annex,
            "draft": draft,
            "unverified": unverified_notice(profile),
        },
        "sites": sites,
        "site": site,
        "cnca_notice": CNCA_NOTICE,
        "qr": qr,
        "mark": mark_image(profile),
    }
