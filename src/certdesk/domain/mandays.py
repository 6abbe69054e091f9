"""Audit time (人日) from each body's own table [CACQ appendix A, DNI annex 3,
ZPIC 4.2.1, XBHT 10].

Pure: the ``[man_days]`` section of a profile's ``rules.toml`` and the audit facts in,
man-days out. The tables, the surveillance/re-certification fractions, the rounding, the
per-site rule and the extrapolation beyond the last row are all data; an extrapolated
result says so (``extrapolated``) because no seed defines "follow the progression".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from certdesk.common.errors import ConfigError, InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.spec import Audit, RuleText, build, section


def _dec(value: Any) -> Decimal:
    # via str so that TOML's 1.5 becomes exactly Decimal("1.5")
    return Decimal(str(value))


def _frac(value: Any) -> Fraction:
    return Fraction(str(value))


def _days(value: Decimal | Fraction) -> float:
    return float(value)


@dataclass(frozen=True)
class Band:
    """An inclusive range of counts; ``high`` None means "and above" (e.g. 21 个以上)."""

    low: int
    high: int | None

    def __contains__(self, n: int) -> bool:
        return self.low <= n and (self.high is None or n <= self.high)

    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"

    def as_dict(self) -> dict[str, int | None]:
        return {"from": self.low, "to": self.high}


def _bands(rows: Sequence[Sequence[int]], where: str) -> tuple[Band, ...]:
    """Contiguous bands from 1 up; only the last may be open-ended."""
    bands = []
    expected = 1
    for i, row in enumerate(rows):
        low, high = int(row[0]), (int(row[1]) if len(row) > 1 else None)
        if low != expected or (high is not None and high < low):
            raise ConfigError(f"{where}: band {list(row)} should start at {expected}")
        if high is None and i != len(rows) - 1:
            raise ConfigError(f"{where}: only the last band may be open-ended")
        bands.append(Band(low, high))
        expected = (high or low) + 1
    if not bands:
        raise ConfigError(f"{where}: the table is empty")
    return tuple(bands)


@dataclass(frozen=True)
class Beyond:
    """What happens above the last row: ``extend`` by ``step`` days per ``width`` people
    (a started band counts when ``partial_band_counts``), or ``refuse``."""

    mode: str
    clause: str
    width: int = 0
    step: Decimal = Decimal(0)
    partial_band_counts: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("extend", "refuse"):
            raise ValueError(f"beyond.mode must be 'extend' or 'refuse', not {self.mode!r}")
        if self.mode == "extend" and (self.width < 1 or self.step <= 0):
            raise ValueError("beyond: extend needs width >= 1 and step > 0")


@dataclass(frozen=True)
class PeopleTable:
    columns: tuple[str, ...]
    bands: tuple[Band, ...]
    values: tuple[tuple[Decimal, ...], ...]
    beyond: Beyond


@dataclass(frozen=True)
class FeatureTable:
    """CACQ's service-feature days: products (rows) x service items (columns)."""

    clause: str
    products: tuple[Band, ...]
    service_items: tuple[Band, ...]
    days: tuple[tuple[Decimal | None, ...], ...]
    """``None`` where the seed prints no value; ``fill_missing`` stands in for it."""
    fill_missing: Decimal | None = None
    fill_clause: str = ""


@dataclass(frozen=True)
class Rounding:
    """Derived man-days go to a multiple of ``step`` (``up`` or ``nearest``, halves up),
    and never below ``minimum``."""

    step: Decimal
    mode: str
    minimum: Decimal

    def __post_init__(self) -> None:
        if self.mode not in ("up", "nearest") or self.step <= 0:
            raise ValueError("rounding needs step > 0 and mode 'up' or 'nearest'")

    def apply(self, value: Fraction) -> Decimal:
        units = value / _frac(self.step)
        whole = math.ceil(units) if self.mode == "up" else math.floor(units + Fraction(1, 2))
        return max(self.step * whole, self.minimum)

    def describe(self) -> str:
        how = "rounded up" if self.mode == "up" else "rounded to the nearest"
        return f"{how} multiple of {self.step} day, at least {self.minimum}"


@dataclass(frozen=True)
class ManDayRules:
    profile: str
    clause: str
    table: PeopleTable
    per_site: bool
    """The table gives days for one site and every audited site counts them (CACQ)."""
    extra_site_days: Decimal
    """Days added for every audited site after the first, at every audit (DNI)."""
    fractions: Mapping[Audit, Fraction]
    fraction_clause: str
    rounding: Rounding
    feature: FeatureTable | None = None
    coverage: Mapping[str, Fraction] | None = None
    """Share of total staff counted as effective people, by company type (XBHT)."""
    coverage_clause: str = ""
    extra_site_clause: str = ""
    max_reduction: Fraction | None = None
    on_site_share: Fraction | None = None


def _people_table(data: Mapping[str, Any], where: str) -> PeopleTable:
    columns = tuple(data.get("columns", ("initial",)))
    if not columns or columns[0] != Audit.INITIAL.value or not set(columns) <= set(Audit):
        raise ConfigError(f"{where}: columns must start with 'initial' and name audits")
    rows = data.get("rows") or []
    if any(len(r) != 2 + len(columns) for r in rows):
        raise ConfigError(f"{where}: every row is [from, to, {', '.join(columns)}]")
    bands = _bands([r[:2] for r in rows], where)
    if bands[-1].high is None:
        raise ConfigError(f"{where}: the last row needs an upper bound; use `beyond`")
    values = tuple(tuple(_dec(v) for v in r[2:]) for r in rows)
    beyond = build(Beyond, data.get("beyond", {}), f"{where} beyond", step=_dec)
    return PeopleTable(columns, bands, values, beyond)


def _feature_table(data: Mapping[str, Any], where: str) -> FeatureTable:
    products = _bands(data.get("products", []), f"{where} products")
    items = _bands(data.get("service_items", []), f"{where} service_items")
    rows = data.get("days", [])
    if len(rows) != len(products) or any(len(r) > len(items) for r in rows):
        raise ConfigError(f"{where}: days must be {len(products)} rows of <= {len(items)} values")
    days = tuple(tuple(_dec(v) for v in r) + (None,) * (len(items) - len(r)) for r in rows)
    fill = data.get("fill_missing")
    if fill is None and any(v is None for r in days for v in r):
        raise ConfigError(f"{where}: short rows need fill_missing")
    return FeatureTable(data.get("clause", ""), products, items, days,
                        None if fill is None else _dec(fill), data.get("fill_clause", ""))


def man_day_rules(text: RuleText) -> ManDayRules:
    """The man-day rules of a body profile (parsed once, when the profile loads)."""
    where = text.where("man_days")
    data = dict(section(text, "man_days"))
    table = _people_table(data.pop("table", {}), f"{where}.table")
    feature_data = data.pop("feature", None)
    feature = _feature_table(feature_data, f"{where}.feature") if feature_data else None
    if feature and len(table.columns) > 1:
        raise ConfigError(f"{where}: stage columns and a feature table do not combine")
    rules = build(
        ManDayRules, {**data, "profile": text.profile, "table": table, "feature": feature}, where,
        extra_site_days=_dec,
        fractions=lambda d: {Audit(k): _frac(v) for k, v in d.items()},
        rounding=lambda d: build(Rounding, d, f"{where} rounding", step=_dec, minimum=_dec),
        coverage=lambda d: {k: _frac(v) for k, v in d.items()},
        max_reduction=_frac,
        on_site_share=_frac,
    )
    derived = {Audit.SURVEILLANCE, Audit.RECERTIFICATION} - set(rules.fractions)
    if derived:
        raise ConfigError(f"{where}: fractions needs {', '.join(sorted(derived))}")
    return rules


# -- lookup --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowHit:
    band: Band
    values: Mapping[str, Decimal]
    """Printed column values; an extrapolated row has only ``initial``."""
    extrapolated: bool


def lookup(table: PeopleTable, people: int, *, clause: str) -> RowHit:
    """The row for ``people`` effective people, extrapolated past the last row."""
    for band, values in zip(table.bands, table.values, strict=True):
        if people in band:
            return RowHit(band, dict(zip(table.columns, values, strict=True)), False)
    last, top = table.bands[-1], table.values[-1][0]
    beyond = table.beyond
    if beyond.mode == "refuse":
        raise RuleViolation(N_("有效人数 {people} 超出人日表（最后一行 {last}），且本方案不外推 "
                               "[{clause}]"), people=people, last=last.label(), clause=clause)
    assert last.high is not None, "an open last band holds every count"
    over = people - last.high
    if beyond.partial_band_counts:
        k = -(-over // beyond.width)
        band = Band(last.high + (k - 1) * beyond.width + 1, last.high + k * beyond.width)
    else:
        k = over // beyond.width
        band = Band(max(last.high + k * beyond.width, last.high + 1),
                    last.high + (k + 1) * beyond.width - 1)
    return RowHit(band, {Audit.INITIAL.value: top + beyond.step * k}, True)


@dataclass(frozen=True)
class FeatureHit:
    products: Band
    service_items: Band
    days: Decimal
    filled: bool

    def as_dict(self) -> dict[str, Any]:
        return {"products": self.products.label(), "service_items": self.service_items.label(),
                "days": _days(self.days), "filled": self.filled}


def feature_days(table: FeatureTable, products: int, service_items: int) -> FeatureHit:
    if products < 1 or service_items < 1:
        raise InputError(N_("--products 和 --service-items 至少为 1"))
    r = next(i for i, b in enumerate(table.products) if products in b)
    c = next(i for i, b in enumerate(table.service_items) if service_items in b)
    value = table.days[r][c]
    filled = value is None
    days = table.fill_missing if filled else value
    assert days is not None, "short rows need fill_missing (checked on load)"
    return FeatureHit(table.products[r], table.service_items[c], days, filled)


# -- the calculation --------------------------------------------------------------------

@dataclass(frozen=True)
class ManDays:
    profile: str
    audit: Audit
    man_days: Decimal
    people: int
    effective_people: int
    company: str | None
    row: RowHit
    feature: FeatureHit | None
    initial_per_site: Decimal
    stage_per_site: Decimal
    stage_rule: str
    sites: int
    site_rule: str
    on_site_at_least: Decimal | None
    reduced_at_least: Decimal | None
    clauses: tuple[str, ...]

    @property
    def extrapolated(self) -> bool:
        return self.row.extrapolated

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "audit": self.audit.value,
            "man_days": _days(self.man_days),
            "row": {**self.row.band.as_dict(),
                    **{k: _days(v) for k, v in self.row.values.items()},
                    "extrapolated": self.row.extrapolated},
            "extrapolated": self.extrapolated,
            "people": self.people,
            "effective_people": self.effective_people,
            "company": self.company,
            "feature": self.feature.as_dict() if self.feature else None,
            "initial_per_site": _days(self.initial_per_site),
            "stage_per_site": _days(self.stage_per_site),
            "stage_rule": self.stage_rule,
            "sites": self.sites,
            "site_rule": self.site_rule,
            "on_site_at_least": None if self.on_site_at_least is None
            else _days(self.on_site_at_least),
            "reduced_at_least": None if self.reduced_at_least is None
            else _days(self.reduced_at_least),
            "clauses": list(self.clauses),
        }


def _share(value: Decimal, share: Fraction | None) -> Decimal | None:
    if share is None:
        return None
    return (value * Decimal(share.numerator) / Decimal(share.denominator)).quantize(
        Decimal("0.01"))


def man_days(
    rules: ManDayRules,
    audit: Audit,
    people: int,
    *,
    products: int | None = None,
    service_items: int | None = None,
    sites: int = 1,
    company: str | None = None,
) -> ManDays:
    """Man-days for one audit.

    ``people`` is the effective people, or the total staff when ``company`` names a
    company type the profile converts (XBHT: production counts 30 %). ``sites`` is the
    number of audited sites. CACQ-style profiles also need ``products``/``service_items``.
    """
    if people < 1:
        raise InputError(N_("--people 至少为 1，不能为 {people}"), people=people)
    if sites < 1:
        raise InputError(N_("--sites 至少为 1，不能为 {sites}"), sites=sites)
    clauses = [rules.clause]
    effective = people
    if company is not None:
        if not rules.coverage:
            raise InputError(N_("方案 {profile!r} 没有企业类型规则：请直接给出有效人数，"
                                "不要用 --company"), profile=rules.profile)
        if company not in rules.coverage:
            raise InputError(N_("企业类型 {company!r} 不在 {types} 之中"), company=company,
                             types=", ".join(rules.coverage))
        effective = max(1, math.ceil(rules.coverage[company] * people))
        clauses.append(rules.coverage_clause)
    row = lookup(rules.table, effective, clause=rules.clause)
    if row.extrapolated:
        clauses.append(rules.table.beyond.clause)
    feature = None
    if rules.feature is not None:
        if products is None or service_items is None:
            raise InputError(N_("方案 {profile!r} 须加服务特性人日：请给出 --products 和 "
                                "--service-items"), profile=rules.profile)
        feature = feature_days(rules.feature, products, service_items)
        clauses.append(rules.feature.clause)
        if feature.filled:
            clauses.append(rules.feature.fill_clause)
    elif products is not None or service_items is not None:
        raise InputError(N_("方案 {profile!r} 没有服务特性人日表：请去掉 "
                            "--products/--service-items"),
                         profile=rules.profile)
    initial = row.values[Audit.INITIAL.value] + (feature.days if feature else 0)
    if audit is Audit.INITIAL:
        stage, stage_rule = initial, "table"
    elif audit.value in row.values:
        stage, stage_rule = row.values[audit.value], f"table column {audit.value}"
    else:
        fraction = rules.fractions[audit]
        stage = rules.rounding.apply(fraction * _frac(initial))
        stage_rule = f"{fraction} of initial, {rules.rounding.describe()}"
        clauses.append(rules.fraction_clause)
    if rules.per_site:
        total, site_rule = stage * sites, "the table days count for every audited site"
    else:
        total = stage + rules.extra_site_days * (sites - 1)
        site_rule = (f"+{rules.extra_site_days} day per further site"
                     if rules.extra_site_days else "sites add no days")
        if rules.extra_site_days and sites > 1:
            clauses.append(rules.extra_site_clause)
    return ManDays(
        rules.profile, audit, total, people, effective, company, row, feature, initial, stage,
        stage_rule, sites, site_rule, _share(total, rules.on_site_share),
        _share(total, None if rules.max_reduction is None else 1 - rules.max_reduction),
        tuple(dict.fromkeys(c for c in clauses if c)),
    )
