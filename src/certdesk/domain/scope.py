"""A change of certified scope within validity names what happens to every covered site
[CACQ 8.4.1 9); DNI 6.5.3 3); XBHT 7.8.2(6)b "包括每个场所相应的认证范围，且没有误导或歧义"].

Pure: the certificate's sites, the new main scope and what the user said about each site
in; the new site list out. When the main scope changes, a site keeps its scope only if it
equals the new main scope; every other site is given a new scope or removed — a reduced
scope never leaves the removed activity printed on a site or a sub-certificate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_

CLAUSE = "CACQ 8.4.1 9); DNI 6.5.3 3); XBHT 7.8.2(6)b"


@dataclass(frozen=True)
class SiteScopes:
    """The sites after the change, with the (1-based) positions removed."""

    sites: tuple[dict[str, Any], ...]
    kept: tuple[int, ...]
    """Old position of each site in ``sites``."""
    removed: tuple[int, ...]


def change_site_scopes(sites: Sequence[Mapping[str, Any]], new_scope: str | None,
                       site_scopes: Mapping[int, str], removed: Sequence[int]) -> SiteScopes:
    """Apply ``site_scopes`` (position → new scope) and ``removed`` to ``sites``; with a new
    main scope every site not equal to it must be named in one of the two."""
    count = len(sites)
    for k in (*site_scopes, *removed):
        if not 1 <= k <= count:
            raise InputError(N_("场所 {k} 不存在：证书列有 {count} 个场所") if count else
                             N_("场所 {k} 不存在：证书未列任何场所"), k=k, count=count)
    both = sorted(set(site_scopes) & set(removed))
    if both:
        raise InputError(N_("场所 {k} 既给出了新范围又被删除"), k=both[0])
    if any(not str(v).strip() for v in site_scopes.values()):
        raise InputError(N_("场所的新范围为空（如不再覆盖该场所，请将其删除）"))
    if count and len(set(removed)) == count:
        raise RuleViolation(N_("所有场所均被删除：应改为注销证书（certdesk status N cancel）"
                               "[{clause}]"), clause=CLAUSE)
    if new_scope is not None:
        unnamed = [str(k) for k, s in enumerate(sites, start=1)
                   if k not in site_scopes and k not in removed and s.get("scope") != new_scope]
        if unnamed:
            raise RuleViolation(
                N_("认证范围改为 {scope!r}：请为场所 {sites} 给出新范围（--site-scope K=SCOPE）"
                   "或删除该场所（--remove-site K），以免场所保留证书已不覆盖的活动 [{clause}]"),
                scope=new_scope, sites=", ".join(unnamed), clause=CLAUSE)
    kept = tuple(k for k in range(1, count + 1) if k not in removed)
    new_sites = tuple({**sites[k - 1], **({"scope": site_scopes[k].strip()}
                                          if k in site_scopes else {})} for k in kept)
    return SiteScopes(new_sites, kept, tuple(sorted(set(removed))))


def parse_site_scopes(values: Sequence[str],
                      what: str = "--site-scope") -> tuple[tuple[int, str], ...]:
    """``K=SCOPE`` entries (one per site) as (K, SCOPE) pairs."""
    pairs = []
    for value in values:
        k, sep, text = value.partition("=")
        if not sep or not k.strip().isdigit():
            raise InputError(N_("{what} {value!r}：应为 K=范围，例如 2=家用电器的维修"),
                             what=what, value=value)
        pairs.append((int(k), text.strip()))
    return tuple(pairs)

