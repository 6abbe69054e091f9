"""Score and grade by the GB/T 27922-2011 6.3 method [ZPIC 4.4, DNI 5.3.3.7, CACQ 7.9.3].

Pure: the ``[scoring]`` section of a profile's ``rules.toml`` and a score sheet (a mapping,
see docs/rules.md "Score sheet") in, score, grade and pass/fail out.

* Items carry points (40 service system / 35 product service / 25 customer service). A
  qualitative non-conformity loses the item's points; a sampled item loses points in
  proportion to its non-conforming share; only items of a category with
  ``exclusions_allowed`` (product service) may be not applicable.
* score = earned / applicable points x 100; final = score - special deductions (1 each)
  + special bonus (1, at most ``max_bonus``). Thresholds compare the exact score (no seed
  rounds first: DNI 5.3.3.7 "低于70分（不含）", DNI-SH "达到95分（含95分）"); it is printed
  cut to ``score_decimals`` places, so a printed score never reaches a threshold the exact
  one missed (69.95 fails and prints 69.9).
* Fail: final < ``pass_score``, deductions >= ``fail_deductions``, or (ZPIC) a
  service-feature result below ``feature_minimum``. The grade is the highest row whose
  ``min`` the basis reaches: the final score, or (CACQ) the service-feature result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

from certdesk.common.errors import ConfigError, InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.spec import RuleText, build, section


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    points: int


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    items: tuple[Item, ...]
    exclusions_allowed: bool = False

    @property
    def points(self) -> int:
        return sum(i.points for i in self.items)


@dataclass(frozen=True)
class Grade:
    min: Decimal
    name: str


@dataclass(frozen=True)
class ScoringRules:
    profile: str
    clause: str
    pass_score: Decimal
    fail_deductions: int
    max_bonus: int
    score_decimals: int
    grade_basis: str
    """``score`` (the final score) or ``service_feature`` (CACQ 7.9.3(3))."""
    grade_clause: str
    points_clause: str
    grades: tuple[Grade, ...]
    categories: tuple[Category, ...]
    feature_minimum: Decimal | None = None
    feature_clause: str = ""

    @property
    def grade_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.grades)

    def __post_init__(self) -> None:
        if self.grade_basis not in ("score", "service_feature"):
            raise ValueError(f"grade_basis must be 'score' or 'service_feature', "
                             f"not {self.grade_basis!r}")

    @property
    def needs_feature_result(self) -> bool:
        return self.grade_basis == "service_feature" or self.feature_minimum is not None

    @property
    def items(self) -> dict[str, tuple[Category, Item]]:
        return {i.id: (c, i) for c in self.categories for i in c.items}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def scoring_rules(text: RuleText) -> ScoringRules:
    """The scoring rules of a body profile (parsed once, when the profile loads)."""
    where = text.where("scoring")
    rules = build(
        ScoringRules, {**section(text, "scoring"), "profile": text.profile},
        where,
        pass_score=_dec,
        feature_minimum=_dec,
        grades=lambda rows: tuple(sorted(
            (build(Grade, g, f"{where} grades", min=_dec) for g in rows),
            key=lambda g: g.min, reverse=True)),
        categories=lambda rows: tuple(build(
            Category, c, f"{where} categories",
            items=lambda items: tuple(build(Item, i, f"{where} items") for i in items),
        ) for c in rows),
    )
    ids = [i.id for c in rules.categories for i in c.items]
    if len(set(ids)) != len(ids) or sum(c.points for c in rules.categories) != 100:
        raise ConfigError(f"{where}: items must be unique and total 100 points")
    return rules


# -- grade -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    score: Decimal
    grade: str | None
    passed: bool
    reasons: tuple[str, ...]
    deductions: int
    feature_result: Decimal | None
    clauses: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": float(self.score),
            "grade": self.grade,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "deductions": self.deductions,
            "service_feature_result": None if self.feature_result is None
            else float(self.feature_result),
            "clauses": list(self.clauses),
        }


def printed_score(rules: ScoringRules, exact: Fraction) -> Decimal:
    """A score as printed: cut (not rounded) to ``score_decimals`` places, so the printed
    figure is on the same side of every threshold as the exact score it stands for."""
    step = Decimal(1).scaleb(-rules.score_decimals)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        step, rounding=ROUND_FLOOR)


def _number(value: Any, what: str) -> Fraction:
    """An exact number from input: floats are read as written (``69.95``), never binary."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InputError(N_("{what} 应为数字，不能为 {value!r}"), what=what, value=value)
    number = _dec(value)
    if not number.is_finite():
        raise InputError(N_("{what} 应为有限的数字，不能为 {value!r}"), what=what, value=value)
    return Fraction(number)


def grade(
    rules: ScoringRules,
    score: Any,
    *,
    deductions: int = 0,
    feature_result: Any = None,
) -> Verdict:
    """Pass/fail and grade of a final score (after deductions and bonus); the exact score is
    compared with every threshold, the printed one is cut to ``score_decimals``."""
    exact = _number(score, "score")
    top = 100 + rules.max_bonus
    if not 0 <= exact <= top:
        raise InputError(N_("得分 {score} 应在 0 到 {top} 之间"), score=score, top=top)
    if isinstance(deductions, bool) or not isinstance(deductions, int) or deductions < 0:
        raise InputError(N_("扣分项数应为不小于 0 的整数，不能为 {deductions!r}"),
                         deductions=deductions)
    feature: Fraction | None = None
    if feature_result is not None:
        feature = _number(feature_result, "service-feature result")
        if not 0 <= feature <= 100:
            raise InputError(N_("服务特性评价结果 {result} 应在 0 到 100 之间"),
                             result=feature_result)
    elif rules.needs_feature_result:
        raise InputError(N_("方案 {profile!r} 需要服务特性评价结果 [{clause}]"),
                         profile=rules.profile, clause=rules.feature_clause or rules.grade_clause)
    shown = printed_score(rules, exact)
    shown_feature = None if feature is None else printed_score(rules, feature)
    reasons = []
    if exact < rules.pass_score:
        reasons.append(f"score {_exact_text(exact, shown)} is below {rules.pass_score}")
    if deductions >= rules.fail_deductions:
        reasons.append(f"{deductions} special deductions (fail at {rules.fail_deductions})")
    if (rules.feature_minimum is not None and feature is not None and shown_feature is not None
            and feature < rules.feature_minimum):
        reasons.append(f"service-feature result {_exact_text(feature, shown_feature)} is "
                       f"below {rules.feature_minimum} [{rules.feature_clause}]")
    basis = feature if rules.grade_basis == "service_feature" else exact
    assert basis is not None, "needs_feature_result: a service-feature basis has its result"
    name = next((g.name for g in rules.grades if basis >= g.min), None)
    if name is None and not reasons:
        reasons.append(f"service-feature result {shown_feature} reaches no grade")
    passed = not reasons
    clauses = tuple(c for c in (rules.clause, rules.grade_clause, rules.feature_clause) if c)
    return Verdict(shown, name if passed else None, passed, tuple(reasons), deductions,
                   shown_feature, tuple(dict.fromkeys(clauses)))


def _exact_text(exact: Fraction, shown: Decimal) -> str:
    """The exact figure where printing cut it (``69.95``, not the printed ``69.9``)."""
    return str(shown) if exact == shown else f"{float(exact):.6g}"


# -- score sheet ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemScore:
    category: Category
    item: Item
    earned: Fraction | None
    """None when the item is not applicable."""
    how: str


def _fraction(value: Any, what: str) -> Fraction:
    number = _number(value, what)
    return Fraction(number)


_MODES = ("earned", "result", "nonconforming_share", "sampled", "not_applicable")


def _item_score(category: Category, item: Item, entry: Mapping[str, Any],
                excludable: str) -> ItemScore:
    what = f"item {item.id!r}"
    modes = [k for k in _MODES if k in entry]
    unknown = set(entry) - {"item", "note", "nonconforming", *_MODES}
    if len(modes) != 1 or unknown or ("nonconforming" in entry) != (modes == ["sampled"]):
        raise InputError(N_("{what}：earned、result、nonconforming_share、sampled+nonconforming、"
                            "not_applicable 须且只须给出一项（未知的键：{unknown}）")
                         if unknown else
                         N_("{what}：earned、result、nonconforming_share、sampled+nonconforming、"
                            "not_applicable 须且只须给出一项"),
                         what=what, unknown=", ".join(sorted(unknown)))
    mode, value = modes[0], entry[modes[0]]
    points = Fraction(item.points)
    if mode == "not_applicable":
        if value is not True:
            raise InputError(N_("{what}：not_applicable 只能为 true（或不填）"), what=what)
        if not category.exclusions_allowed:
            raise RuleViolation(N_("{what}（{name}）不能判为不适用：只有 {excludable} 的条款"
                                   "可以删减 [GB/T 27922-2011 6.3]"),
                                what=what, name=item.name, excludable=excludable)
        return ItemScore(category, item, None, "not applicable")
    if mode == "earned":
        earned = _fraction(value, f"{what} earned")
        if not 0 <= earned <= points:
            raise InputError(N_("{what}：earned {value} 超出 0-{points}"), what=what, value=value,
                             points=item.points)
        return ItemScore(category, item, earned, "points given")
    if mode == "result":
        if value not in ("conforming", "nonconforming"):
            raise InputError(N_("{what}：result 只能为 'conforming' 或 'nonconforming'"), what=what)
        return ItemScore(category, item, points if value == "conforming" else Fraction(0),
                         f"qualitative, {value}")
    if mode == "nonconforming_share":
        share = _fraction(value, f"{what} nonconforming_share")
    else:
        sampled, bad = entry["sampled"], entry["nonconforming"]  # both present: checked above
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (sampled, bad)):
            raise InputError(N_("{what}：sampled 和 nonconforming 应为整数"), what=what)
        if not 0 <= bad <= sampled or sampled < 1:
            raise InputError(N_("{what}：须满足 1 <= sampled 且 0 <= nonconforming <= sampled"),
                             what=what)
        share = Fraction(bad, sampled)
    if not 0 <= share <= 1:
        raise InputError(N_("{what}：不符合比例 {share:g} 超出 0-1"), what=what, share=float(share))
    return ItemScore(category, item, points * (1 - share),
                     f"sampled, {float(share):.0%} non-conforming")


def _findings(value: Any, what: str) -> list[str]:
    """Deductions/bonus: a list of finding texts, one text, or null."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise InputError(N_("{what} 应为发现项文字的列表"), what=what)
    return values


@dataclass(frozen=True)
class SheetResult:
    verdict: Verdict
    items_score: Decimal
    earned: Fraction
    applicable: int
    bonus: int
    items: tuple[ItemScore, ...]
    points_clause: str

    def as_dict(self) -> dict[str, Any]:
        by_category: dict[str, dict[str, Any]] = {}
        for s in self.items:
            cat = by_category.setdefault(s.category.id, {
                "name": s.category.name, "points": s.category.points,
                "applicable": 0, "earned": Fraction(0)})
            if s.earned is not None:
                cat["applicable"] += s.item.points
                cat["earned"] += s.earned
        return {
            **self.verdict.as_dict(),
            "items_score": float(self.items_score),
            "earned_points": round(float(self.earned), 4),
            "applicable_points": self.applicable,
            "bonus": self.bonus,
            "categories": {k: {**v, "earned": round(float(v["earned"]), 4)}
                           for k, v in by_category.items()},
            "items": [{"item": s.item.id, "name": s.item.name, "points": s.item.points,
                       "earned": None if s.earned is None else round(float(s.earned), 4),
                       "how": s.how} for s in self.items],
            "clauses": [*self.verdict.clauses, self.points_clause],
        }


def score_sheet(rules: ScoringRules, sheet: Any) -> SheetResult:
    """Score a sheet: every item listed once (by id or Chinese name), deductions, bonus."""
    if not isinstance(sheet, Mapping):
        raise InputError(N_("评分表应为含 'items' 的 JSON 对象"))
    unknown = set(sheet) - {"items", "deductions", "bonus", "service_feature_result",
                            "profile", "note"}
    if unknown:
        raise InputError(N_("评分表：未知的键 {keys}"), keys=", ".join(sorted(unknown)))
    entries = sheet.get("items")
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise InputError(N_("评分表：'items' 应为列表"))
    names = {i.name: i.id for c in rules.categories for i in c.items}
    known = rules.items
    excludable = "/".join(c.name for c in rules.categories if c.exclusions_allowed) or "no"
    seen: dict[str, ItemScore] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("item"), str):
            raise InputError(N_("评分表：每个条款都应是含 'item' 编号的对象"))
        item_id = names.get(entry["item"], entry["item"])
        if item_id not in known:
            raise InputError(N_("评分表：未知条款 {item!r}（已知：{known}）"), item=entry["item"],
                             known=", ".join(known))
        if item_id in seen:
            raise InputError(N_("评分表：条款 {item!r} 重复列出"), item=item_id)
        seen[item_id] = _item_score(*known[item_id], entry, excludable)
    missing = [i for i in known if i not in seen]
    if missing:
        raise InputError(N_("评分表：每个条款都须评定；缺少 {missing}"), missing=", ".join(missing))
    deductions = _findings(sheet.get("deductions"), "deductions")
    bonus = _findings(sheet.get("bonus"), "bonus")
    if len(bonus) > rules.max_bonus:
        raise RuleViolation(N_("特别加分 {n} 项：最多 {most} 项 [{clause}]"), n=len(bonus),
                            most=rules.max_bonus, clause=rules.clause)
    scores = tuple(seen[i] for i in known)
    applicable = sum(s.item.points for s in scores if s.earned is not None)
    earned = sum((s.earned for s in scores if s.earned is not None), Fraction(0))
    if applicable == 0:
        raise InputError(N_("评分表：没有适用的条款"))
    items_score = earned / applicable * 100
    final = items_score - len(deductions) + len(bonus)
    verdict = grade(rules, max(final, Fraction(0)), deductions=len(deductions),
                    feature_result=sheet.get("service_feature_result"))
    return SheetResult(verdict, printed_score(rules, items_score), earned, applicable,
                       len(bonus), scores, rules.points_clause)

