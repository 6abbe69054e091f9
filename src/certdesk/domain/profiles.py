"""Body profiles: one folder per body/scheme under ``templates/`` holding ``profile.toml``.

A profile is data: who the body is, how it numbers, which templates it uses and its
retention rule. Adding a body means adding a folder, not Python. Rule tables (man-days,
sampling, scoring, dates) live beside it in ``rules.toml`` and are read by ``rules``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from certdesk.common.errors import ConfigError, ProfileNotFound
from certdesk.domain.numbering import SCHEMES, body_code_from_approval
from certdesk.profiles import TEMPLATES_DIR


@dataclass(frozen=True)
class Body:
    name: str
    short_name: str
    name_en: str
    address: str
    website: str
    phone: str
    approval_number: str
    accreditation_code: str
    signatory: str = ""
    unverified: tuple[str, ...] = ()
    """Fields whose values are not from the seed and must be confirmed by the body."""

    @property
    def body_code(self) -> str:
        return body_code_from_approval(self.approval_number)


@dataclass(frozen=True)
class Scheme:
    name: str
    code: str
    business_code: str
    standards: tuple[str, ...]
    scope_suffix: str
    graded: bool
    certificate_title: str


@dataclass(frozen=True)
class NumberingSpec:
    sequence_width: int = 4
    recert_redraw: bool = True
    """On re-certification draw a new year/sequence (default) or keep them, only R+1."""


@dataclass(frozen=True)
class RetentionSpec:
    rule: str
    """``after_end``: N years after expiry/revocation/cancellation; ``cycles``: cycles, capped."""
    years: int = 2
    cycles: int = 0
    cycle_years: int = 3
    """Length of one certification cycle for the ``cycles`` rule (the certificate's validity)."""
    cap_years: int | None = None
    refused_years: int = 3
    refused_clause: str = ""
    """Where the period for refused or withdrawn applications comes from."""
    clause: str = ""
    seed_default: bool = False
    """True when the seed names no period and this is certdesk's default (CACQ's rule)."""


@dataclass(frozen=True)
class CertificateSpec:
    """What a body's certificates must print beyond the common content (``[certificate]``)."""

    site_names: bool = False
    """Every covered site is printed with its name, so each needs one (DNI 5.5.1(2))."""
    site_names_clause: str = ""
    mark: str = ""
    """The certification mark image (PNG, relative to ``templates/``) printed on the
    certificate, supplied by the body [ZPIC 8.1.1 1), 8.2.1]; empty: none printed."""
    mark_clause: str = ""
    unverified: tuple[str, ...] = ()
    """Values here not confirmed by the body (a placeholder mark: ``["mark"]``)."""

    def mark_path(self) -> Path | None:
        return (TEMPLATES_DIR / self.mark).resolve() if self.mark else None


@dataclass(frozen=True)
class Profile:
    id: str
    body: Body
    scheme: Scheme
    numbering: NumberingSpec
    retention: RetentionSpec
    templates: MappingProxyType[str, Any]
    """Kind -> template file, and ``titles`` (kind -> document title)."""
    folder: Path
    rules: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    certificate: CertificateSpec = CertificateSpec()

    @property
    def unverified(self) -> tuple[str, ...]:
        """Every printed value of this profile its body has not confirmed."""
        return (*self.body.unverified, *(f"certificate.{k}" for k in self.certificate.unverified))

    def require_verified(self, allowed: bool) -> None:
        """Refuse to issue real certificates with unconfirmed body values unless the install
        allows it explicitly (``CERTDESK_ALLOW_UNVERIFIED_PROFILE``)."""
        if self.unverified and not allowed:
            raise ConfigError(
                f"profile {self.id!r} holds values {self.body.short_name} has not confirmed "
                f"({', '.join(self.unverified)}): confirm them in templates/{self.id}/"
                "profile.toml and drop them from 'unverified', or set "
                "CERTDESK_ALLOW_UNVERIFIED_PROFILE=1 on a test install (its certificates "
                "then say so); see `certdesk profiles check`")

    def template_path(self, kind: str) -> Path:
        try:
            rel: str = self.templates[kind]
        except KeyError:
            raise ConfigError(f"profile {self.id!r} names no template for {kind!r}") from None
        path = (TEMPLATES_DIR / rel).resolve()
        if not path.is_file():
            raise ConfigError(f"profile {self.id!r}: template {rel!r} for {kind!r} is missing")
        return path

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "body": self.body.name,
            "body_en": self.body.name_en,
            "body_code": self.body.body_code,
            "approval_number": self.body.approval_number,
            "accreditation_code": self.body.accreditation_code,
            "scheme": self.scheme.name,
            "scheme_code": self.scheme.code,
            "business_code": self.scheme.business_code,
            "standards": list(self.scheme.standards),
            "retention": {
                "rule": self.retention.rule,
                "years": self.retention.years,
                "cycles": self.retention.cycles,
                "cap_years": self.retention.cap_years,
                "clause": self.retention.clause,
                "seed_default": self.retention.seed_default,
            },
            "templates": dict(self.templates),
            "unverified": list(self.unverified),
        }


def _section(data: dict[str, Any], name: str, pid: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"profile {pid!r}: section [{name}] is missing")
    return value


def _build(pid: str, data: dict[str, Any], rules: dict[str, Any], folder: Path) -> Profile:
    try:
        body = Body(**{**_section(data, "body", pid), "unverified": tuple(
            data["body"].get("unverified", ()))})
        sch = _section(data, "scheme", pid)
        scheme = Scheme(**{**sch, "standards": tuple(sch["standards"])})
        numbering = NumberingSpec(**data.get("numbering", {}))
        retention = RetentionSpec(**_section(data, "retention", pid))
        templates = MappingProxyType(dict(_section(data, "templates", pid)))
        cert = data.get("certificate", {})
        certificate = CertificateSpec(**{**cert, "unverified": tuple(cert.get("unverified", ()))})
    except TypeError as exc:
        raise ConfigError(f"profile {pid!r}: {exc}") from None
    if scheme.code not in SCHEMES:
        raise ConfigError(f"profile {pid!r}: scheme code {scheme.code!r} is unknown")
    if numbering.sequence_width not in (4, 5):
        raise ConfigError(f"profile {pid!r}: sequence_width must be 4 or 5")
    body.body_code  # noqa: B018 - validates the approval number early
    mark = certificate.mark_path()
    if mark is not None and not mark.is_file():
        raise ConfigError(f"profile {pid!r}: certificate mark {certificate.mark!r} is missing")
    return Profile(pid, body, scheme, numbering, retention, templates, folder,
                   MappingProxyType(rules), certificate)


def _load_toml(path: Path, pid: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profile {pid!r}: {path.name}: {exc}") from None


@cache
def load_profile(pid: str) -> Profile:
    folder = TEMPLATES_DIR / pid
    path = folder / "profile.toml"
    if not pid or "/" in pid or not path.is_file():
        known = ", ".join(profile_ids()) or "none"
        raise ProfileNotFound(f"unknown profile {pid!r} (known: {known})")
    rules_path = folder / "rules.toml"
    rules = _load_toml(rules_path, pid) if rules_path.is_file() else {}
    return _build(pid, _load_toml(path, pid), rules, folder)


def profile_ids() -> list[str]:
    return sorted(p.parent.name for p in TEMPLATES_DIR.glob("*/profile.toml"))


def all_profiles() -> list[Profile]:
    return [load_profile(pid) for pid in profile_ids()]
