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
            raise InputError(f"site {k} does not exist: the certificate lists "
                             f"{count or 'no'} site(s)")
    both = sorted(set(site_scopes) & set(removed))
    if both:
        raise InputError(f"site {both[0]} is both given a scope and removed")
    if any(not str(v).strip() for v in site_scopes.values()):
        raise InputError("a site's new scope is empty (remove the site instead)")
    if count and len(set(removed)) == count:
        raise RuleViolation("every site removed: cancel the certificate instead "
                            f"(certdesk status N cancel) [{CLAUSE}]")
    if new_scope is not None:
        unnamed = [str(k) for k, s in enumerate(sites, start=1)
                   if k not in site_scopes and k not in removed and s.get("scope") != new_scope]
        if unnamed:
            raise RuleViolation(
                f"the scope changes to {new_scope!r}: give site {', '.join(unnamed)} its new "
                f"scope (--site-scope K=SCOPE) or remove it (--remove-site K), so no site "
                f"keeps an activity the certificate no longer covers [{CLAUSE}]")
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
            raise InputError(f"{what} {value!r}: expected K=SCOPE, e.g. 2=家用电器的维修")
        pairs.append((int(k), text.strip()))
    return tuple(pairs)

