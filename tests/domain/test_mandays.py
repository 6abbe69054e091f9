"""Man-days: every row boundary of every body's table, as printed in the seeds."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.mandays import Beyond, Rounding, feature_days, lookup, man_days
from certdesk.domain.spec import Audit
from tests.english import raises_en
from tests.shipped import rules_of

# Transcribed from the seeds, independently of rules.toml: (from, to, days...).
CACQ_MANAGEMENT = [  # 000 appendix A
    (1, 45, 1), (46, 125, 1.5), (126, 275, 2), (276, 625, 2.5), (626, 1175, 3),
    (1176, 2675, 3.5), (2676, 4350, 4), (4351, 6800, 4.5),
]
CACQ_FEATURE = [  # 000 appendix A, products x service items; None = not printed
    [1, 1.5, 2, 2.5, None],
    [1.5, 2, 2.5, 3, 3.5],
    [2, 2.5, 3, 3.5, 4],
    [2.5, 3, 3.5, 4, 4.5],
    [3, 3.5, 4, 4.5, 5],
]
CACQ_PRODUCTS = [(1, 5), (6, 10), (11, 15), (16, 20), (21, 400)]
CACQ_ITEMS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 99)]
DNI = [  # 001/004 annex 3
    (1, 25, 2), (26, 45, 3), (46, 65, 4), (66, 125, 5), (126, 175, 6), (176, 275, 7),
    (276, 425, 8), (426, 625, 9), (626, 875, 10), (876, 1175, 11), (1176, 1550, 12),
    (1551, 2025, 13), (2026, 2675, 14), (2676, 3450, 15), (3451, 4350, 16),
    (4351, 5450, 17), (5451, 6800, 18), (6801, 8500, 19), (8501, 10700, 20),
]
ZPIC = [  # 002 4.2.1.1, "65-275" read as 66-275
    (1, 65, 2), (66, 275, 2), (276, 625, 3), (626, 1500, 4), (1501, 3450, 5),
    (3451, 10700, 6),
]
XBHT = [  # 003 clause 10: initial / surveillance / re-certification
    (1, 25, 2.0, 1.0, 1.5), (26, 45, 2.5, 1.0, 1.5), (46, 65, 3.0, 1.0, 2.0),
    (66, 85, 3.5, 1.0, 2.5), (86, 125, 4.0, 1.5, 2.5),
]

SINGLE_TABLES = {"dni-spshfw": DNI, "dni-sh": DNI, "zpic": ZPIC}


def boundaries(table):
    for row in table:
        for people in (row[0], row[1]):
            yield people, row


@pytest.mark.parametrize("people,row", list(boundaries(CACQ_MANAGEMENT)))
def test_cacq_management_table_row_boundaries_match_the_seed(people, row):
    rules = rules_of("cacq").man_days
    hit = lookup(rules.table, people, clause=rules.clause)
    assert (hit.band.low, hit.band.high) == row[:2]
    assert hit.values["initial"] == Decimal(str(row[2]))
    assert not hit.extrapolated


@pytest.mark.parametrize("r,c", [(r, c) for r in range(5) for c in range(5)])
def test_cacq_feature_table_cell_boundaries_match_the_seed(r, c):
    table = rules_of("cacq").man_days.feature
    for products in CACQ_PRODUCTS[r]:
        for items in CACQ_ITEMS[c]:
            hit = feature_days(table, products, items)
            expected = CACQ_FEATURE[r][c]
            assert hit.filled is (expected is None)
            assert hit.days == (Decimal("3.0") if expected is None else Decimal(str(expected)))


@pytest.mark.parametrize(
    "pid,people,row",
    [(pid, p, row) for pid, table in SINGLE_TABLES.items() for p, row in boundaries(table)],
)
def test_dni_and_zpic_initial_man_days_match_every_row_boundary(pid, people, row):
    result = man_days(rules_of(pid).man_days, Audit.INITIAL, people)
    assert result.man_days == Decimal(str(row[2]))
    assert (result.row.band.low, result.row.band.high) == row[:2]
    assert result.extrapolated is False


@pytest.mark.parametrize("people,row", list(boundaries(XBHT)))
@pytest.mark.parametrize("column,audit", list(enumerate(Audit)))
def test_xbht_every_column_matches_every_row_boundary(people, row, column, audit):
    result = man_days(rules_of("xbht").man_days, audit, people)
    assert result.man_days == Decimal(str(row[2 + column]))


def test_xbht_nearest_half_day_rounding_reproduces_the_printed_columns():
    rules = rules_of("xbht").man_days
    for row in XBHT:
        initial = Fraction(str(row[2]))
        assert rules.rounding.apply(initial / 3) == Decimal(str(row[3]))
        assert rules.rounding.apply(initial * 2 / 3) == Decimal(str(row[4]))


@pytest.mark.parametrize(
    "pid,people,band,days",
    [
        ("cacq", 6801, (6801, 8800), "5.5"),   # +1 per started 2000
        ("cacq", 8800, (6801, 8800), "5.5"),
        ("cacq", 8801, (8801, 10800), "6.5"),
        ("dni-spshfw", 10701, (10701, 12900), "21"),
        ("dni-sh", 12901, (12901, 15100), "22"),
        ("zpic", 10701, (10701, 17950), "7"),
        ("xbht", 126, (126, 165), "4.5"),
        ("xbht", 166, (166, 205), "5.0"),
    ],
)
def test_beyond_the_last_row_the_configured_progression_is_used_and_flagged(
        pid, people, band, days):
    rules = rules_of(pid).man_days
    hit = lookup(rules.table, people, clause=rules.clause)
    assert hit.extrapolated
    assert (hit.band.low, hit.band.high) == band
    assert hit.values["initial"] == Decimal(days)


def test_beyond_the_last_row_with_partial_bands_ignored_keeps_the_last_value_until_a_full_band():
    rules = rules_of("cacq").man_days
    table = replace(rules.table, beyond=replace(rules.table.beyond, partial_band_counts=False))
    assert lookup(table, 8799, clause="").values["initial"] == Decimal("4.5")
    assert lookup(table, 8800, clause="").values["initial"] == Decimal("5.5")
    assert (lookup(table, 6801, clause="").band.low, lookup(table, 6801, clause="").band.high
            ) == (6801, 8799)


def test_a_profile_set_to_refuse_beyond_its_table_raises_a_rule_violation():
    rules = rules_of("zpic").man_days
    table = replace(rules.table, beyond=Beyond(mode="refuse", clause="ZPIC 4.2.1.1"))
    with raises_en(RuleViolation, match="beyond the table.*3451-10700.*ZPIC 4.2.1.1"):
        lookup(table, 10701, clause="ZPIC 4.2.1.1")


def test_extrapolated_xbht_rows_derive_surveillance_and_recertification_by_fraction():
    result = man_days(rules_of("xbht").man_days, Audit.SURVEILLANCE, 200)
    assert result.row.values == {"initial": Decimal("5.0")}
    assert result.man_days == Decimal("1.5")  # 5/3 = 1.67 -> nearest half day
    assert result.extrapolated
    assert result.as_dict()["extrapolated"] is True


def test_cacq_adds_service_feature_days_and_derives_surveillance_rounding_up():
    rules = rules_of("cacq").man_days
    initial = man_days(rules, Audit.INITIAL, 100, products=7, service_items=3)
    assert initial.man_days == Decimal("3.5")  # 1.5 management + 2.0 feature
    surveillance = man_days(rules, Audit.SURVEILLANCE, 100, products=7, service_items=3)
    assert surveillance.man_days == Decimal("1.5")  # 3.5 / 3 = 1.17 -> up to 1.5
    recert = man_days(rules, Audit.RECERTIFICATION, 100, products=7, service_items=3)
    assert recert.man_days == Decimal("2.5")  # 3.5 * 2/3 = 2.33 -> up to 2.5


def test_cacq_counts_the_per_site_tables_for_every_audited_site():
    result = man_days(rules_of("cacq").man_days, Audit.INITIAL, 40, products=1, service_items=1,
                      sites=3)
    assert result.man_days == Decimal("6.0")
    assert result.on_site_at_least == Decimal("4.80")
    assert result.reduced_at_least == Decimal("4.20")


@pytest.mark.parametrize("pid", ["dni-spshfw", "dni-sh"])
def test_dni_adds_half_a_day_per_further_site_at_every_audit(pid):
    rules = rules_of(pid).man_days
    assert man_days(rules, Audit.INITIAL, 30, sites=4).man_days == Decimal("4.5")
    # 3 / 3 = 1 day, then + 0.5 for each of the three further sites
    assert man_days(rules, Audit.SURVEILLANCE, 30, sites=4).man_days == Decimal("2.5")


def test_xbht_production_companies_count_thirty_percent_of_staff_rounded_up():
    rules = rules_of("xbht").man_days
    production = man_days(rules, Audit.INITIAL, 101, company="production")
    assert production.effective_people == 31  # 30.3 -> 31
    assert production.man_days == Decimal("2.5")
    assert man_days(rules, Audit.INITIAL, 101, company="sales").effective_people == 101


def test_derived_days_never_fall_below_the_minimum():
    assert Rounding(Decimal("0.5"), "up", Decimal("1")).apply(Fraction(1, 10)) == Decimal("1")
    assert Rounding(Decimal("0.5"), "nearest", Decimal("0")).apply(Fraction(1, 4)) == Decimal(
        "0.5")  # halves go up


@pytest.mark.parametrize(
    "pid,kwargs,error,match",
    [
        ("cacq", {"people": 0}, InputError, "--people must be at least 1"),
        ("cacq", {"people": 10, "sites": 0, "products": 1, "service_items": 1}, InputError,
         "--sites must be at least 1"),
        ("cacq", {"people": 10}, InputError, "give --products and --service-items"),
        ("cacq", {"people": 10, "products": 0, "service_items": 1}, InputError,
         "at least 1"),
        ("zpic", {"people": 10, "products": 2}, InputError, "no service-feature table"),
        ("zpic", {"people": 10, "company": "production"}, InputError, "no company-type rule"),
        ("xbht", {"people": 10, "company": "farm"}, InputError, "not one of production"),
    ],
)
def test_bad_man_day_input_is_refused_with_a_clear_message(pid, kwargs, error, match):
    people = kwargs.pop("people")
    with raises_en(error, match=match):
        man_days(rules_of(pid).man_days, Audit.INITIAL, people, **kwargs)


@given(people=st.integers(1, 200_000), pid=st.sampled_from(list(SINGLE_TABLES) + ["xbht"]))
def test_initial_man_days_never_decrease_as_people_grow(people, pid):
    rules = rules_of(pid).man_days
    here = man_days(rules, Audit.INITIAL, people).man_days
    assert man_days(rules, Audit.INITIAL, people + 1).man_days >= here


@given(people=st.integers(1, 200_000), audit=st.sampled_from(list(Audit)),
       pid=st.sampled_from(list(SINGLE_TABLES) + ["xbht"]))
def test_surveillance_and_recertification_never_exceed_the_initial_audit(people, audit, pid):
    rules = rules_of(pid).man_days
    initial = man_days(rules, Audit.INITIAL, people).man_days
    assert Decimal(1) <= man_days(rules, audit, people).man_days <= initial
