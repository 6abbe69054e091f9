"""The surveillances of a cycle cover every site, samples not repeated [XBHT 7.2.2.9.2], and
every product and service of the scope [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]."""

from __future__ import annotations

import pytest

from certdesk.common.errors import InputError
from certdesk.domain.coverage import (
    audited_products,
    product_names,
    product_rotation,
    products_owed,
    rotation,
    site_coverage,
    visited_sites,
)
from tests.english import raises_en
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
    with raises_en(InputError, match="site 4 does not exist"):
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


# -- products and services across the cycle [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4] -----------------

PRODUCTS = ("空调", "冰箱", "洗衣机")


@pytest.mark.parametrize("pid, clause", [("cacq", "CACQ 7.5.5"), ("dni-spshfw", "DNI 5.6.1"),
                                         ("dni-sh", "DNI-SH 5.6.1"), ("zpic", "ZPIC 5.4"),
                                         ("xbht", "")])
def test_the_bodies_that_require_every_product_covered_name_their_clause(pid, clause):
    # XBHT's seed asks the surveillances to cover every site, not every product
    assert rules_of(pid).sampling.product_coverage_clause == clause


def test_products_are_read_from_a_list_or_one_text_and_never_twice():
    assert product_names("空调、冰箱，洗衣机", "products") == PRODUCTS
    assert product_names([" 空调", "冰箱", ""], "products") == ("空调", "冰箱")
    with raises_en(InputError, match="'空调' is listed twice"):
        product_names(["空调", "空调"], "products")
    with raises_en(InputError, match="every product is a name"):
        product_names(["空调", 3], "products")


def test_a_surveillance_names_the_products_it_covered_by_name_or_number():
    assert audited_products(PRODUCTS, "1、洗衣机") == ("空调", "洗衣机")
    with raises_en(InputError, match="'电视' is not a product of the certificate"):
        audited_products(PRODUCTS, "电视")


def test_products_owed_are_named_for_the_last_surveillance_and_after_it():
    clause = "CACQ 7.5.5"
    assert products_owed(PRODUCTS, [], 2, clause) == ""  # two visits can still cover all
    assert products_owed(PRODUCTS, [["空调"]], 1, clause) == (
        "本周期最后一次监督审查须覆盖尚未审查的产品/服务：冰箱、洗衣机 [CACQ 7.5.5]")
    ended = products_owed(PRODUCTS, [["空调"], ["冰箱"]], 0, clause)
    assert ended.startswith("本周期监督审查未覆盖产品/服务：洗衣机") and "[CACQ 7.5.5]" in ended
    assert products_owed(PRODUCTS, [["空调", "冰箱"], ["洗衣机"]], 0, clause) == ""


def test_the_product_rotation_shares_the_products_between_the_surveillances():
    assert product_rotation(PRODUCTS, 2) == [("空调", "冰箱"), ("洗衣机",)]
    assert product_rotation(("空调",), 2) == [("空调",), ()]


def test_the_programme_plans_which_products_each_surveillance_covers():
    from tests.documents.support import contexts, example

    record = {**example("programme"), "products": list(PRODUCTS)}
    ctx = contexts("cacq", "programme", record)[0].context
    audits = ctx["audits"]
    assert audits[1]["focus"].endswith("计划覆盖产品/服务：空调、冰箱（CACQ 7.5.5）")
    assert audits[2]["focus"].endswith("计划覆盖产品/服务：洗衣机（CACQ 7.5.5）")
    # the names count as the products of CACQ's service-feature table
    assert ctx["org"]["products"] == "3" and ctx["org"]["product_names"] == "空调、冰箱、洗衣机"
    xbht = contexts("xbht", "programme", record)[0].context["audits"]
    assert "计划覆盖产品" not in xbht[1]["focus"]
