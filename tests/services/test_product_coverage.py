"""Products and services across the cycle, wired: listed in the input or the case, kept on the
main certificate, named at each surveillance (``--products``), and the due list warns while
the cycle would end with some uncovered [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import InputError
from certdesk.services.cycle import due_list, recertify, record_surveillance
from certdesk.services.inputs import Rejected, parse_csv, parse_json
from certdesk.services.issuing import Issuer
from certdesk.store.models import Certificate, Event
from tests.conftest import run_cli
from tests.english import raises_en
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

ORG = ('"name": "某公司", "uscc": "91440300MA5FQ1R27X", "registered_address": "深圳", '
       '"scope": "维修", "decision_date": "2026-11-18"')
PRODUCTS = ("空调", "冰箱", "洗衣机")


def test_json_and_csv_inputs_list_the_scopes_products():
    (org,) = parse_json('{' + ORG + ', "products": ["空调", "冰箱"]}', "o.json")
    assert org.products == ("空调", "冰箱")
    csv = ("组织名称,统一社会信用代码,注册地址,认证范围,决定日期,认证产品\n"
           "某公司,91440300MA5FQ1R27X,深圳,维修,2026-11-18,空调、冰箱\n")
    (org,) = parse_csv(csv, "o.csv")
    assert org.products == ("空调", "冰箱")


def test_a_product_listed_twice_is_refused_naming_the_field():
    (bad,) = parse_json('{' + ORG + ', "products": ["空调", "空调"]}', "o.json")
    assert isinstance(bad, Rejected) and bad.field == "products"
    assert "'空调' is listed twice" in bad.error.text("en")


@pytest.fixture
def cacq(home, settings, pool):
    with Issuer(SHIPPED.get("cacq"), pool=pool) as issuer:
        yield issuer


def _warnings(engine, on):
    return [(i.kind, i.warning) for i in due_list(engine, SHIPPED, on) if i.warning]


@pytest.mark.office
def test_the_due_list_names_the_products_the_last_surveillance_must_cover(cacq, home, today):
    number = cacq.issue(replace(TWO_SITES, products=PRODUCTS))[0].number
    with Session(cacq.engine) as s:
        row = s.exec(select(Certificate).where(Certificate.number == number)).one()
        sub = s.exec(select(Certificate).where(Certificate.main_number == number)).first()
    assert json.loads(row.products_json) == list(PRODUCTS) and sub.products_json == "[]"
    assert _warnings(cacq.engine, date(2026, 6, 1)) == []  # two surveillances to go
    today(date(2027, 3, 1))
    res = run_cli("surveillance", number, "--held", "2027-03-01", "--products", "1、冰箱",
                  home=home)
    assert res.returncode == 0, res.stderr
    assert _warnings(cacq.engine, date(2027, 4, 1)) == [
        ("surveillance", "本周期最后一次监督审查须覆盖尚未审查的产品/服务：洗衣机 [CACQ 7.5.5]")]
    # the second surveillance misses it too: the cycle ends uncovered, due by the expiry
    today(date(2028, 3, 1))
    record_surveillance(cacq.engine, cacq.profiles, number, date(2028, 3, 1), products="空调")
    ((kind, warning),) = _warnings(cacq.engine, date(2028, 4, 1))
    assert kind == "coverage" and "未覆盖产品/服务：洗衣机" in warning
    (item,) = [i for i in due_list(cacq.engine, cacq.profiles, date(2028, 4, 1))
               if i.kind == "coverage"]
    assert item.due_by == row.expiry_date
    with Session(cacq.engine) as s:
        held = [json.loads(e.data) for e in s.exec(select(Event).where(
            Event.kind == "certificate.surveillance").order_by(Event.seq))]
    assert [h["products"] for h in held] == [["空调", "冰箱"], ["空调"]]


@pytest.mark.office
def test_a_surveillance_naming_an_unknown_product_records_nothing(cacq, home, today):
    number = cacq.issue(replace(TWO_SITES, products=PRODUCTS))[0].number
    today(date(2027, 3, 1))
    res = run_cli("surveillance", number, "--held", "2027-03-01", "--products", "电视",
                  home=home)
    assert res.returncode != 0 and "'电视' is not a product of the certificate" in res.stderr
    with raises_en(InputError, match="not a product"):
        record_surveillance(cacq.engine, cacq.profiles, number, date(2027, 3, 1), products="4")
    with Session(cacq.engine) as s:
        assert s.exec(select(Event).where(Event.kind == "certificate.surveillance")).all() == []


@pytest.mark.office
def test_a_recertification_keeps_the_product_list(cacq, today):
    number = cacq.issue(replace(TWO_SITES, products=PRODUCTS))[0].number
    today(date(2029, 3, 1))
    (new, *_subs) = recertify(cacq, number, date(2029, 3, 1))
    with Session(cacq.engine) as s:
        row = s.exec(select(Certificate).where(Certificate.number == new.number)).one()
    assert json.loads(row.products_json) == list(PRODUCTS)


def test_a_case_lists_its_products_once_and_the_programme_plans_them(home):
    from pathlib import Path

    from certdesk.common.errors import CertdeskError
    from certdesk.common.settings import get_settings
    from certdesk.documents.kinds import Build
    from certdesk.services.certification import prepare

    case = json.loads((Path(__file__).resolve().parents[2] / "examples/certification/case.json")
                      .read_text(encoding="utf-8"))
    programme = {k: v for k, v in case["programme"].items() if k != "products"}
    job = Build(SHIPPED.get("cacq"), get_settings(), 1, date(2026, 11, 23))
    prepared = prepare(job, {**case, "products": list(PRODUCTS), "programme": programme},
                       "case.json")
    assert prepared.organisation.products == PRODUCTS
    focus = prepared.steps[0].rendition.context["audits"][1]["focus"]
    assert "计划覆盖产品/服务：空调、冰箱（CACQ 7.5.5）" in focus
    with pytest.raises(CertdeskError, match="programme.products.*只在案卷开头填写一次"):
        prepare(job, {**case, "products": list(PRODUCTS)}, "case.json")

