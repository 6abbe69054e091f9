"""Body profiles: one folder per body/scheme holding ``profile.toml`` and ``rules.toml``.

A profile is data: who the body is, how it numbers, which templates it uses, its retention
rule and its rule tables (man-days, sampling, scoring, dates…), parsed once when the
profile loads. Adding a body means adding a folder, not Python. The folders searched are
named by ``CERTDESK_PROFILE_DIRS`` (a body can keep its profiles outside the code); the
shipped ``certdesk/profiles/`` is searched last. ``Profiles`` is the loaded collection,
passed to whatever needs a profile by the id a record names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from certdesk.common.errors import ConfigError, InvalidNumber, ProfileNotFound
from certdesk.common.i18n import N_
from certdesk.domain.dates import DateRules, date_rules
from certdesk.domain.decision import DecisionRules, decision_rules
from certdesk.domain.followup import FollowUpSpec, follow_up_rules
from certdesk.domain.guards import StatusSpec, status_rules
from certdesk.domain.mandays import ManDayRules, man_day_rules
from certdesk.domain.numbering import SCHEMES, body_code_from_approval
from certdesk.domain.reporting import ReportingSpec, reporting_rules
from certdesk.domain.sampling import SamplingRules, sampling_rules
from certdesk.domain.scoring import ScoringRules, scoring_rules
from certdesk.domain.spec import RuleText, build
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
    """The certification mark image (PNG, relative to the profiles folder) printed on the
    certificate, supplied by the body [ZPIC 8.1.1 1), 8.2.1]; empty: none printed."""
    mark_clause: str = ""
    unverified: tuple[str, ...] = ()
    """Values here not confirmed by the body (a placeholder mark: ``["mark"]``)."""


@dataclass(frozen=True)
class RuleBook:
    """A profile's ``rules.toml``, parsed once when the profile loads."""

    dates: DateRules
    man_days: ManDayRules
    sampling: SamplingRules
    scoring: ScoringRules
    decision: DecisionRules
    status: StatusSpec
    reporting: ReportingSpec
    follow_up: FollowUpSpec

    @classmethod
    def parse(cls, text: RuleText) -> RuleBook:
        return cls(date_rules(text), man_day_rules(text), sampling_rules(text),
                   scoring_rules(text), decision_rules(text), status_rules(text),
                   reporting_rules(text), follow_up_rules(text))


@dataclass(frozen=True)
class Profile:
    id: str
    body: Body
    scheme: Scheme
    numbering: NumberingSpec
    retention: RetentionSpec
    templates: Mapping[str, Any]
    """Kind -> template file, and ``titles`` (kind -> document title)."""
    folder: Path
    rules: RuleBook
    certificate: CertificateSpec = CertificateSpec()
    roots: tuple[Path, ...] = (TEMPLATES_DIR,)
    """Where the relative paths of ``templates`` and the mark are looked up, in order: the
    folder holding this profile's folder, then the shipped one (``base/…`` templates)."""

    @property
    def unverified(self) -> tuple[str, ...]:
        """Every printed value of this profile its body has not confirmed."""
        return (*self.body.unverified, *(f"certificate.{k}" for k in self.certificate.unverified))

    def require_verified(self, allowed: bool) -> None:
        """Refuse to issue real certificates with unconfirmed body values unless the install
        allows it explicitly (``CERTDESK_ALLOW_UNVERIFIED_PROFILE``)."""
        if self.unverified and not allowed:
            raise ConfigError(
                N_("方案 {profile!r} 含有{body}尚未确认的值（{values}）：请在 "
                   "{folder}/profile.toml 中确认并从 'unverified' 中删除，或在测试环境中设置 "
                   "CERTDESK_ALLOW_UNVERIFIED_PROFILE=1（其证书会注明）；参见 "
                   "`certdesk profiles check`"), profile=self.id, body=self.body.short_name,
                values=", ".join(self.unverified), folder=self.folder)

    def find(self, rel: str) -> Path | None:
        """The file a relative path of this profile names, first found along ``roots``."""
        return next((p for p in ((r / rel).resolve() for r in self.roots) if p.is_file()), None)

    def template_path(self, kind: str) -> Path:
        try:
            rel: str = self.templates[kind]
        except KeyError:
            raise ConfigError(N_("方案 {profile!r} 没有指定 {kind!r} 的模板"), profile=self.id,
                              kind=kind) from None
        path = self.find(rel)
        if path is None:
            raise ConfigError(N_("方案 {profile!r}：{kind!r} 的模板 {rel!r} 不存在"),
                              profile=self.id, rel=rel, kind=kind)
        return path

    def mark_path(self) -> Path | None:
        """The certification mark printed on certificates, if the profile names one."""
        mark = self.certificate.mark
        return self.find(mark) if mark else None

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


def _section(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: section [{name}] is missing")
    return value


def _build(pid: str, data: Mapping[str, Any], rules: RuleText, folder: Path) -> Profile:
    where = f"profile {pid!r}: {folder / 'profile.toml'}"
    body = build(Body, _section(data, "body", where), f"{where} [body]", unverified=tuple)
    scheme = build(Scheme, _section(data, "scheme", where), f"{where} [scheme]",
                   standards=tuple)
    numbering = build(NumberingSpec, data.get("numbering", {}), f"{where} [numbering]")
    retention = build(RetentionSpec, _section(data, "retention", where), f"{where} [retention]")
    templates = MappingProxyType(dict(_section(data, "templates", where)))
    certificate = build(CertificateSpec, data.get("certificate", {}), f"{where} [certificate]",
                        unverified=tuple)
    if scheme.code not in SCHEMES:
        raise ConfigError(f"{where} [scheme] code: {scheme.code!r} is unknown")
    if numbering.sequence_width not in (4, 5):
        raise ConfigError(f"{where} [numbering] sequence_width: must be 4 or 5")
    try:
        body.body_code  # noqa: B018 - validates the approval number early
    except InvalidNumber as exc:
        raise ConfigError(N_("{where} [body] approval_number：{error}"), where=where,
                          error=exc) from None
    roots = tuple(dict.fromkeys((folder.parent.resolve(), TEMPLATES_DIR)))
    profile = Profile(pid, body, scheme, numbering, retention, templates, folder,
                      RuleBook.parse(rules), certificate, roots)
    if certificate.mark and profile.mark_path() is None:
        raise ConfigError(f"{where} [certificate] mark: {certificate.mark!r} is missing")
    return profile


def _load_toml(path: Path, pid: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profile {pid!r}: {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"profile {pid!r}: {path}: cannot be read ({exc})") from None


def load_profile_folder(folder: Path) -> Profile:
    """One profile from its folder (``profile.toml`` and ``rules.toml``); a ConfigError
    naming the file and field when either is malformed."""
    pid = folder.name
    rules_path = folder / "rules.toml"
    if not rules_path.is_file():
        raise ConfigError(f"profile {pid!r}: {rules_path} is missing")
    rules = RuleText(pid, str(rules_path), _load_toml(rules_path, pid))
    return _build(pid, _load_toml(folder / "profile.toml", pid), rules, folder)


@dataclass(frozen=True)
class Profiles:
    """The body profiles of an install, by id. Load it once (``load_profiles``) and pass it
    to whatever meets a profile id in a record or an option."""

    folders: tuple[Path, ...]
    """The folders searched, in order (the shipped one last)."""
    by_id: Mapping[str, Profile]

    def get(self, pid: str) -> Profile:
        try:
            return self.by_id[pid]
        except KeyError:
            known = ", ".join(self.ids())
            raise ProfileNotFound(N_("未知的方案 {profile!r}（已有：{known}）") if known else
                                  N_("未知的方案 {profile!r}（一个方案也没有）"),
                                  profile=pid, known=known) from None

    def ids(self) -> list[str]:
        return sorted(self.by_id)

    def __iter__(self) -> Iterator[Profile]:
        return (self.by_id[pid] for pid in self.ids())

    def __contains__(self, pid: object) -> bool:
        return pid in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)


def load_profiles(folders: Sequence[Path] = ()) -> Profiles:
    """Every profile in ``folders`` and then in the shipped folder; where two folders hold
    the same id the earlier wins (a body's own copy overrides the shipped one)."""
    searched = tuple(dict.fromkeys((*(Path(f).expanduser().resolve() for f in folders),
                                    TEMPLATES_DIR)))
    found: dict[str, Profile] = {}
    for root in searched:
        if not root.is_dir():
            raise ConfigError(f"CERTDESK_PROFILE_DIRS: {root} is not a folder")
        for path in sorted(root.glob("*/profile.toml")):
            if path.parent.name not in found:
                found[path.parent.name] = load_profile_folder(path.parent)
    return Profiles(searched, MappingProxyType(found))


class ProfileSettings(Protocol):
    """What the loader reads of ``common.settings.Settings`` (the domain imports no settings)."""

    @property
    def profile_folders(self) -> tuple[Path, ...]: ...


@lru_cache(maxsize=4)
def _installed(folders: tuple[Path, ...]) -> Profiles:
    return load_profiles(folders)


def installed_profiles(settings: ProfileSettings) -> Profiles:
    """The install's profiles from the folders its settings name, loaded once per process
    (the CLI, the web app and the Publisher share it)."""
    return _installed(settings.profile_folders)
