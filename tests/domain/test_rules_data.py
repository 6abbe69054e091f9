"""Every profile's rules.toml loads, and malformed rule data is a ConfigError."""

from __future__ import annotations

import pytest

from certdesk.common.errors import ConfigError
from certdesk.domain.dates import CloseOut, CycleSpec, PeriodEnd
from certdesk.domain.mandays import _bands, _feature_table, _people_table
from certdesk.domain.sampling import CoefficientRange
from certdesk.domain.spec import RuleText, build, section
from tests.shipped import SHIPPED, rules_of


@pytest.mark.parametrize("pid", SHIPPED.ids())
@pytest.mark.parametrize("part", ["dates", "man_days", "sampling", "scoring"])
def test_every_profile_has_every_rule_section(pid, part):
    assert getattr(rules_of(pid), part).profile == pid


def test_a_profile_without_a_rules_section_is_a_config_error_naming_the_file():
    with pytest.raises(ConfigError, match=r"profile 'x': /p/x/rules.toml has no \[cycle\] section"):
        section(RuleText("x", "/p/x/rules.toml", {}), "cycle")


@pytest.mark.parametrize(
    "cls,data,match",
    [
        (CycleSpec, {"validity_years": 3, "colour": "red"}, "unknown key"),
        (CycleSpec, {"validity_years": 3}, "missing"),
        (CycleSpec, {"validity_years": 3, "period_end": "someday", "clause": "",
                     "initial_decision_months": 6, "initial_decision_clause": "",
                     "late_recert_months": 6, "late_recert_clause": ""}, "someday"),
        (CloseOut, {"clause": "x", "months": 3, "before_expiry": True}, "exactly one"),
        (CoefficientRange, {"low": 2, "high": 1}, "not 0 < low <= high"),
    ],
)
def test_malformed_rule_data_is_a_config_error(cls, data, match):
    with pytest.raises(ConfigError, match=match):
        build(cls, data, "test", period_end=PeriodEnd)


@pytest.mark.parametrize(
    "table,match",
    [
        ({"rows": [[1, 10, 1], [12, 20, 2]], "beyond": {"mode": "refuse", "clause": ""}},
         "should start at 11"),
        ({"rows": [[1, 10, 1, 2]], "beyond": {"mode": "refuse", "clause": ""}}, "every row"),
        ({"rows": [[1, 10, 1]], "beyond": {"mode": "stretch", "clause": ""}}, "extend"),
        ({"rows": [[1, 10, 1]], "beyond": {"mode": "extend", "clause": ""}}, "width >= 1"),
        ({"columns": ["surveillance"], "rows": []}, "start with 'initial'"),
    ],
)
def test_a_malformed_man_day_table_is_a_config_error(table, match):
    with pytest.raises(ConfigError, match=match):
        _people_table(table, "test")


def test_a_feature_table_with_a_gap_needs_a_fill_setting():
    data = {"products": [[1]], "service_items": [[1, 2], [3]], "days": [[1]]}
    with pytest.raises(ConfigError, match="fill_missing"):
        _feature_table(data, "test")
    assert _feature_table({**data, "fill_missing": 2}, "test").days == ((1, None),)


def test_only_the_last_band_may_be_open_ended():
    with pytest.raises(ConfigError, match="only the last band"):
        _bands([[1], [2, 3]], "test")
