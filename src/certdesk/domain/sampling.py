"""Multi-site sampling (抽样): y = ⌈n·√x⌉, never more than x [CACQ 7.3.4.3(2),
ZPIC 4.2.2, XBHT 7.2.2.9.2].

Pure: the ``[sampling]`` section of a profile's ``rules.toml`` and the site count in,
the sample size out. Each audit has a coefficient range ``[low, high]``: CACQ and ZPIC fix
n (1, 0.6, 0.8), XBHT lets the body choose inside a range. The ceiling is computed exactly
(n is a decimal fraction, y is the least integer with y² >= n²·x), so 0.6·√25 is 3, not 4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from certdesk.common.errors import ConfigError, InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.spec import Audit, RuleText, build, section


def _frac(value: Any) -> Fraction:
    # via str so that 0.6 is exactly 3/5
    return Fraction(str(value))


@dataclass(frozen=True)
class CoefficientRange:
    low: Fraction
    high: Fraction
    default: Fraction | None = None
    """The coefficient used when none is given; None means the top of the range."""

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.high:
            raise ValueError(f"coefficient range [{self.low}, {self.high}] is not 0 < low <= high")
        if self.default is not None and not self.low <= self.default <= self.high:
            raise ValueError(f"default coefficient {self.default} is outside the range")

    @property
    def chosen_default(self) -> Fraction:
        return self.high if self.default is None else self.default

    def label(self) -> str:
        low, high = float(self.low), float(self.high)
        return f"fixed at {low:g}" if low == high else f"[{low:g}, {high:g}]"


@dataclass(frozen=True)
class SamplingRules:
    profile: str
    clause: str
    stages: Mapping[Audit, CoefficientRange]
    central_office: str
    central_office_visited: bool = False
    """The central office is visited at every audit besides the sampled sites (ZPIC)."""
    random_share: Fraction = Fraction(0)
    """At least this share of the sample is drawn at random (XBHT: 25 %)."""
    surveillance_coverage_clause: str = ""
    """Set where the surveillances of a cycle together visit every site (XBHT 7.2.2.9.2);
    the due list then warns when the cycle would end with sites unvisited."""
    product_coverage_clause: str = ""
    """Set where the surveillances of a cycle together cover every product and service of
    the scope (CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4): the programme plans it, the due list warns."""


def sampling_rules(text: RuleText) -> SamplingRules:
    """The sampling rules of a body profile (parsed once, when the profile loads)."""
    where = text.where("sampling")
    data = dict(section(text, "sampling"))
    stages = {}
    for audit in Audit:
        if audit.value not in data:
            raise ConfigError(f"{where}: no coefficient for {audit.value}")
        stages[audit] = build(CoefficientRange, data.pop(audit.value), f"{where} {audit.value}",
                              low=_frac, high=_frac, default=_frac)
    return build(SamplingRules, {**data, "profile": text.profile, "stages": stages}, where,
                 random_share=_frac)


def ceil_times_sqrt(n: Fraction, x: int) -> int:
    """⌈n·√x⌉ exactly, for n > 0 and x >= 0."""
    p, q = n.numerator, n.denominator
    target = p * p * x
    root = math.isqrt(target)
    if root * root < target:
        root += 1  # root = ⌈√(p²x)⌉, and ⌈⌈a⌉/q⌉ = ⌈a/q⌉
    return -(-root // q)


@dataclass(frozen=True)
class Sample:
    profile: str
    audit: Audit
    sites: int
    coefficient: Fraction
    coefficient_range: CoefficientRange
    sample: int
    capped: bool
    random_at_least: int
    central_office: str
    site_visits: int
    clause: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "audit": self.audit.value,
            "sample": self.sample,
            "sites": self.sites,
            "coefficient": float(self.coefficient),
            "coefficient_range": [float(self.coefficient_range.low),
                                  float(self.coefficient_range.high)],
            "formula": "ceil(n * sqrt(x)), at most x",
            "n_sqrt_x": round(float(self.coefficient) * math.sqrt(self.sites), 4),
            "capped": self.capped,
            "random_at_least": self.random_at_least,
            "central_office": self.central_office,
            "site_visits": self.site_visits,
            "clause": self.clause,
        }


def sample_size(
    rules: SamplingRules, audit: Audit, sites: int, coefficient: Fraction | None = None
) -> Sample:
    """How many of ``sites`` eligible sites to audit; a coefficient outside the audit's
    range is refused with the range and the clause."""
    if sites < 1:
        raise InputError(N_("--sites 至少为 1，不能为 {sites}"), sites=sites)
    rng = rules.stages[audit]
    if coefficient is None:
        coefficient = rng.chosen_default
    elif not rng.low <= coefficient <= rng.high:
        raise RuleViolation(N_("系数 {coefficient:g} 超出 {audit} 审核的允许范围 {range} "
                               "[{clause}]"),
                            coefficient=float(coefficient), audit=audit.value,
                            range=rng.label(), clause=rules.clause)
    raw = ceil_times_sqrt(coefficient, sites)
    sample = max(1, min(sites, raw))
    visits = sample + (1 if rules.central_office_visited else 0)
    return Sample(rules.profile, audit, sites, coefficient, rng, sample, raw > sites,
                  math.ceil(rules.random_share * sample), rules.central_office, visits,
                  rules.clause)
