"""Site coverage across a cycle's surveillances: "原则上，获证后的两次监督审查应覆盖全部的
分场所" and samples should not repeat [XBHT 7.2.2.9.2]. Pure: the sites visited at each
surveillance held, the visits left and the sample per visit in; what is still unvisited and
whether the remaining visits can reach it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_


def parse_site_numbers(text: str, what: str) -> tuple[int, ...]:
    """``1,3`` (also ``1、3``, ``1，3``) as site numbers."""
    parts = [p.strip() for p in text.replace("、", ",").replace("，", ",").split(",")]
    if not all(p.isdigit() for p in parts if p):
        raise InputError(N_("{what} {text!r}：应为场所编号，例如 1,3"), what=what, text=text)
    return tuple(int(p) for p in parts if p)


def visited_sites(site_count: int, sites: Iterable[int]) -> tuple[int, ...]:
    """The sites (numbered as on the certificate) a surveillance visited, checked."""
    chosen = tuple(sorted(set(sites)))
    wrong = [k for k in chosen if not 1 <= k <= site_count]
    if wrong:
        raise InputError(N_("场所 {k} 不存在：证书列有 {count} 个场所"), k=wrong[0],
                         count=site_count)
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



# -- products and services ------------------------------------------------------------------

def product_names(value: object, what: str) -> tuple[str, ...]:
    """The products (and services) of a scope as listed: a list of names, or one text
    separated by 、 , ， ; duplicates refused (each is tracked across the cycle)."""
    if isinstance(value, str):
        items: list[object] = list(value.replace("、", ",").replace("，", ",").split(","))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InputError(N_("{what}：应为产品名称的列表"), what=what)
    if not all(isinstance(p, str) for p in items):
        raise InputError(N_("{what}：每个产品都应是名称（文本）"), what=what)
    names = tuple(p.strip() for p in items if isinstance(p, str) and p.strip())
    seen = sorted({p for p in names if names.count(p) > 1})
    if seen:
        raise InputError(N_("{what}：{name!r} 重复列出"), what=what, name=seen[0])
    return names


def audited_products(products: Sequence[str], given: str) -> tuple[str, ...]:
    """The products a surveillance covered, by name or by number in the certificate's list."""
    chosen = []
    for token in product_names(given, "--products"):
        if token.isdigit() and 1 <= int(token) <= len(products):
            chosen.append(products[int(token) - 1])
        elif token in products:
            chosen.append(token)
        else:
            listed = "、".join(products) or "none"
            raise InputError(N_("--products：{token!r} 不是该证书的产品（已列：{listed}）"),
                             token=token, listed=listed)
    return tuple(dict.fromkeys(chosen))


def products_owed(products: Sequence[str], visits: Sequence[Sequence[str]],
                  remaining_visits: int, clause: str) -> str:
    """What the due list says while the surveillances have products still to cover: the
    last surveillance must cover them, or — none left — the cycle ends uncovered [CACQ
    7.5.5, DNI 5.6.1, ZPIC 5.4]. Empty while two or more visits remain or all are covered."""
    seen = {p for visit in visits for p in visit}
    left = [p for p in products if p not in seen]
    if not left or remaining_visits > 1:
        return ""
    names = "、".join(left)
    if remaining_visits == 1:
        return f"本周期最后一次监督审查须覆盖尚未审查的产品/服务：{names} [{clause}]"
    return (f"本周期监督审查未覆盖产品/服务：{names}，须在证书到期前审查，否则缩小认证范围 "
            f"[{clause}]")


def product_rotation(products: Sequence[str], visits: int) -> list[tuple[str, ...]]:
    """The products each of ``visits`` surveillances covers so that together they cover all:
    an even share each, in the order listed (seasonal products are placed by the team)."""
    if not visits:
        return []
    per_visit = -(-len(products) // visits)
    return [tuple(products[i * per_visit:(i + 1) * per_visit]) for i in range(visits)]
