"""What every certificate must print, checked in the PDF text (pdftotext): a covered
address even without listed sites [CACQ 8.1 2), DNI 5.5.1(2), ZPIC 8.1.1 4), XBHT
7.8.2(6)a)], DNI's site names [DNI 5.5.1(2)], ZPIC's certification mark [ZPIC 8.1.1 1),
8.2.1] — through `certdesk render` and through issuing."""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import InputError
from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import Issuer
from certdesk.store.models import NumberCounter
from tests.conftest import run_cli
from tests.documents.support import example, pdftotext
from tests.shipped import SHIPPED, rules_of

pytestmark = pytest.mark.office

REGISTERED = "广东省深圳市南山区科技园南区高新南七道18号"


def _flat(pdf) -> str:
    return "".join(pdftotext(pdf).split())


def _grade(pid: str) -> str | None:
    return rules_of(pid).scoring.grade_names[-1] if SHIPPED.get(pid).scheme.graded else None


def _images(pdf) -> int:
    lines = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return len([line for line in lines if line.split()[2] == "image"])


def _org(pid: str, **kw) -> OrganisationInput:
    return OrganisationInput(**{
        "name": "深圳市安捷通信设备服务有限公司", "uscc": "91440300MA5FQ1R27X",
        "registered_address": REGISTERED, "scope": "通信终端设备的维修",
        "decision_date": date(2026, 11, 18), "grade": _grade(pid), **kw})


@pytest.mark.parametrize("pid", SHIPPED.ids())
def test_render_prints_the_registered_address_as_the_covered_site_when_none_is_listed(
        pid, home, tmp_path):
    record = {**example("certificate"), "registered_address": REGISTERED, "sites": [],
              "grade": _grade(pid)}
    if record["grade"] is None:
        del record["grade"]
    src = tmp_path / "cert.json"
    src.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    res = run_cli("render", "certificate", "-p", pid, "-i", str(src), "-o",
                  str(tmp_path / "out"), "--json", home=home)
    assert res.returncode == 0, res.stderr
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    text = _flat(pdf)
    # once as 注册地址, once in the covered-address table under its header
    assert text.count(REGISTERED) == 2, text
    assert "场所及地址" in text


@pytest.mark.parametrize("pid", SHIPPED.ids())
def test_an_issued_certificate_without_sites_prints_its_covered_address(pid, home, settings,
                                                                       pool):
    with Issuer(SHIPPED.get(pid), pool=pool) as issuer:
        (cert,) = issuer.issue(_org(pid))
    text = _flat(cert.pdf)
    assert text.count(REGISTERED) == 2
    # ZPIC 8.1.1 1): the certification mark besides the QR code; the others have none
    assert _images(cert.pdf) == (2 if SHIPPED.get(pid).certificate.mark else 1)


def test_a_business_address_is_printed_as_the_covered_site(home, settings, pool):
    from certdesk.services.inputs import organisation_from_dict

    rec = {"name": "深圳市安捷通信设备服务有限公司", "uscc": "91440300MA5FQ1R27X",
           "registered_address": REGISTERED, "scope": "通信终端设备的维修",
           "decision_date": "2026-11-18", "grade": "四星级",
           "business_address": "深圳市福田区深南大道6008号"}
    with Issuer(SHIPPED.get("cacq"), pool=pool) as issuer:
        (cert,) = issuer.issue(organisation_from_dict(rec, "r"))
    text = _flat(cert.pdf)
    assert "深圳市福田区深南大道6008号" in text and text.count(REGISTERED) == 1


def test_dni_certificates_print_each_sites_name_and_address(home, settings, pool):
    sites = (SiteInput("北京市朝阳区建国路88号", "通信终端设备的维修", name="总部服务中心"),
             SiteInput("天津市和平区南京路189号", "通信终端设备的维修", name="天津服务网点"))
    with Issuer(SHIPPED.get("dni-spshfw"), pool=pool) as issuer:
        main, *subs = issuer.issue(_org("dni-spshfw", sites=sites))
    text = _flat(main.pdf)
    assert "总部服务中心：北京市朝阳区建国路88号" in text
    assert "天津服务网点：天津市和平区南京路189号" in text
    assert "天津服务网点：天津市和平区南京路189号" in _flat(subs[1].pdf)


def test_a_dni_multi_site_certificate_without_site_names_is_refused_before_a_number(
        home, settings, pool):
    sites = (SiteInput("北京市朝阳区建国路88号", "通信终端设备的维修", name="总部服务中心"),
             SiteInput("天津市和平区南京路189号", "通信终端设备的维修"))
    with Issuer(SHIPPED.get("dni-spshfw"), pool=pool) as issuer:
        with pytest.raises(InputError, match=r"site 2 has no name.*DNI 5\.5\.1\(2\)"):
            issuer.issue(_org("dni-spshfw", sites=sites))
        with Session(issuer.engine) as s:
            assert s.exec(select(NumberCounter)).first() is None


def test_render_prints_dni_site_names_and_refuses_unnamed_sites(home, tmp_path):
    record = example("certificate")  # three named sites
    src = tmp_path / "cert.json"
    src.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    res = run_cli("render", "certificate", "-p", "dni-spshfw", "-i", str(src), "-o",
                  str(tmp_path / "out"), home=home)
    assert res.returncode == 0, res.stderr
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    text = _flat(pdf)
    for site in record["sites"]:
        assert f"{site['name']}：{site['address']}" in text
    unnamed = {**record, "sites": [{k: v for k, v in s.items() if k != "name"}
                                   for s in record["sites"]]}
    src.write_text(json.dumps([unnamed], ensure_ascii=False), encoding="utf-8")
    res = run_cli("render", "certificate", "-p", "dni-spshfw", "-i", str(src), "-o",
                  str(tmp_path / "out2"), home=home)
    assert res.returncode != 0 and "DNI 5.5.1(2)" in res.stderr
