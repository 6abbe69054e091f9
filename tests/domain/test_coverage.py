"""The surveillances of a cycle cover every site, samples not repeated [XBHT 7.2.2.9.2]."""

from __future__ import annotations

import pytest

from certdesk.common.errors import InputError
from certdesk.domain.coverage import rotation, site_coverage, visited_sites
from tests.shipped import rules_of

CLAUSE = "XBHT 7.2.2.9.2"


def test_xbht_requires_the_surveillances_to_cover_every_site():
    assert rules_of("xbht").sampling.surveillance_coverage_clause == CLAUSE
    assert not rules_of("cacq").sampling.surveillance_coverage_clause


def test_the_cycle_is_on_course_while_the_remaining_visits_can_cover_the_rest():
    cov = site_coverage(9, [], remaining_visits=2, per_visit=4, clause=CLAUSE)
    assert cov.unvisited == tuple(range(1, 10)) and cov.falls_short
    assert "无法在本周期覆盖全部场所" in cov.warning()
    assert site_coverage(8, [], 2, 4, CLAUSE).warning() == ""


def test_the_last_surveillance_is_told_which_sites_it_must_visit():
    cov = site_coverage(6, [[1, 2, 3]], remaining_visits=1, per_visit=3, clause=CLAUSE)
    assert cov.unvisited == (4, 5, 6) and not cov.falls_short
    assert cov.warning() == f"本周期最后一次监督审查须覆盖尚未审查的场所 4、5、6 [{CLAUSE}]"


def test_repeated_samples_are_noted_and_a_covered_cycle_says_nothing():
    cov = site_coverage(4, [[1, 2], [2, 3, 4]], remaining_visits=0, per_visit=3, clause=CLAUSE)
    assert cov.repeated == (2,) and cov.warning() == ""


def test_visited_sites_must_exist():
    assert visited_sites(3, [3, 1, 1]) == (1, 3)
    with pytest.raises(InputError, match="site 4 does not exist"):
        visited_sites(3, [4])


def test_the_rotation_covers_every_site_before_repeating_one():
    sites = [str(i) for i in range(1, 10)]
    # XBHT: 9 sites, ⌈1.2·√9⌉ = 4 a visit: the second visit takes the five still unvisited
    assert rotation(sites, 2, 4) == [("1", "2", "3", "4"), ("5", "6", "7", "8", "9")]
    assert rotation(["1", "2", "3", "4"], 2, 3) == [("1", "2", "3"), ("4", "1", "2")]


def test_the_xbht_programme_plans_which_sites_each_surveillance_samples():
    from tests.documents.support import contexts, example

    record = example("programme")
    record["sites"] += [{"name": f"网点{i}", "address": f"地址{i}"} for i in range(6, 12)]
    audits = contexts("xbht", "programme", record)[0].context["audits"]
    assert audits[1]["focus"].endswith("计划抽样场所（序号）：2、3、4、5（XBHT 7.2.2.9.2）")
    assert "6、7、8、9、10、11，多于公式的 4 个" in audits[2]["focus"]
    cacq = contexts("cacq", "programme", example("programme"))[0].context["audits"]
    assert "计划抽样场所" not in cacq[1]["focus"]
