"""Site coverage across a cycle's surveillances: "原则上，获证后的两次监督审查应覆盖全部的
分场所" and samples should not repeat [XBHT 7.2.2.9.2]. Pure: the sites visited at each
surveillance held, the visits left and the sample per visit in; what is still unvisited and
whether the remaining visits can reach it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from certdesk.common.errors import InputError


def parse_site_numbers(text: str, what: str) -> tuple[int, ...]:
    """``1,3`` (also ``1、3``, ``1，3``) as site numbers."""
    parts = [p.strip() for p in text.replace("、", ",").replace("，", ",").split(",")]
    if not all(p.isdigit() for p in parts if p):
        raise InputError(f"{what} {text!r}: expected site numbers such as 1,3")
    return tuple(int(p) for p in parts if p)


def visited_sites(site_count: int, sites: Iterable[int]) -> tuple[int, ...]:
    """The sites (numbered as on the certificate) a surveillance visited, checked."""
    chosen = tuple(sorted(set(sites)))
    wrong = [k for k in chosen if not 1 <= k <= site_count]
    if wrong:
        raise InputError(f"site {wrong[0]} does not exist: the certificate lists "
                         f"{site_count} site(s)")
    return chosen


@dataclass(frozen=True)
class SiteCoverage:
    site_count: int
    unvisited: tuple[int, ...]
    remaining_visits: int
    per_visit: int
    repeated: tuple[int, ...]
    """Sites visited at more than one surveillance (the seed advises against it)."""
    clause: str

    @property
    def falls_short(self) -> bool:
        return len(self.unvisited) > self.remaining_visits * self.per_visit

    def warning(self) -> str:
        """Empty while the cycle is on course, else what the due list says."""
        if not self.unvisited or (self.remaining_visits > 1 and not self.falls_short):
            return ""
        left = "、".join(map(str, self.unvisited))
        if self.falls_short:
            return (f"场所覆盖不足：尚未审查场所 {left}，剩余 {self.remaining_visits} 次监督审查"
                    f"每次抽样 {self.per_visit} 个，无法在本周期覆盖全部场所 [{self.clause}]")
        return f"本周期最后一次监督审查须覆盖尚未审查的场所 {left} [{self.clause}]"


def site_coverage(site_count: int, visits: Sequence[Sequence[int]], remaining_visits: int,
                  per_visit: int, clause: str) -> SiteCoverage:
    seen: set[int] = set()
    repeated: set[int] = set()
    for visit in visits:
        repeated |= seen & set(visit)
        seen |= set(visit)
    unvisited = tuple(k for k in range(1, site_count + 1) if k not in seen)
    return SiteCoverage(site_count, unvisited, remaining_visits, per_visit,
                        tuple(sorted(repeated)), clause)


def rotation(sites: Sequence[str], visits: int, per_visit: int) -> list[tuple[str, ...]]:
    """The sites each of ``visits`` surveillances samples so that together they cover every
    site: ``per_visit`` each in turn without repeats, the last taking whatever is still
    unvisited (more than ``per_visit`` when the formula's samples fall short); a site is
    repeated only when every one has been visited."""
    plan: list[tuple[str, ...]] = []
    queue = list(sites)
    for n in range(visits):
        last = n == visits - 1
        take = max(per_visit, len(queue)) if last else per_visit
        chosen = queue[:take]
        if len(chosen) < min(take, len(sites)):  # all visited: start the round again
            chosen += [s for s in sites if s not in chosen][:min(take, len(sites)) - len(chosen)]
        queue = queue[len(chosen):] if len(queue) >= len(chosen) else []
        plan.append(tuple(chosen))
    return plan

