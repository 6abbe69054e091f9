"""A scope change names every site [CACQ 8.4.1 9); DNI 6.5.3 3); XBHT 7.8.2(6)b]."""

from __future__ import annotations

import pytest

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.scope import change_site_scopes
from tests.english import raises_en

SITES = ({"address": "一号", "scope": "家用电器的安装、维修"},
         {"address": "二号", "scope": "家用电器的安装"},
         {"address": "三号", "scope": "家用电器的维修"})


def test_a_reduced_scope_is_refused_while_a_site_keeps_the_removed_activity():
    with raises_en(RuleViolation, match=r"give site 1, 2 .*XBHT 7\.8\.2\(6\)b"):
        change_site_scopes(SITES, "家用电器的维修", {}, ())


def test_each_site_is_given_its_new_scope_or_removed():
    plan = change_site_scopes(SITES, "家用电器的维修", {1: "家用电器的维修"}, (2,))
    assert [s["scope"] for s in plan.sites] == ["家用电器的维修", "家用电器的维修"]
    assert (plan.kept, plan.removed) == ((1, 3), (2,))


def test_site_scopes_may_change_without_a_new_main_scope():
    plan = change_site_scopes(SITES, None, {2: "家用电器的安装、清洗"}, ())
    assert plan.sites[1] == {"address": "二号", "scope": "家用电器的安装、清洗"}


@pytest.mark.parametrize("scopes,removed,error,match", [
    ({4: "x"}, (), InputError, "site 4 does not exist"),
    ({1: "x"}, (1,), InputError, "both given a scope and removed"),
    ({1: " "}, (), InputError, "empty"),
    ({}, (1, 2, 3), RuleViolation, "cancel the certificate"),
])
def test_impossible_site_changes_are_refused(scopes, removed, error, match):
    with raises_en(error, match=match):
        change_site_scopes(SITES, None, scopes, removed)
