"""Sites in the input: an optional name everywhere (JSON, CSV) for DNI 5.5.1(2), and a
business address as the covered site of an organisation without sites [CACQ 8.1 2)]."""

from __future__ import annotations

from pathlib import Path

import pytest

from certdesk.services.inputs import Rejected, SiteInput, parse_csv, parse_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORG = ('"name": "某公司", "uscc": "91440300MA5FQ1R27X", "registered_address": "深圳", '
       '"scope": "维修", "decision_date": "2026-11-18"')


def test_json_sites_keep_their_names():
    (org,) = parse_json('{' + ORG + ', "sites": [{"name": "总部", "address": "深圳一号", '
                        '"scope": "维修"}, {"address": "深圳二号", "scope": "维修"}]}', "o.json")
    assert org.sites == (SiteInput("深圳一号", "维修", name="总部"), SiteInput("深圳二号", "维修"))


def test_csv_site_name_column_is_read():
    (org,) = parse_csv((EXAMPLES / "organisations.csv").read_text(encoding="utf-8"),
                       "organisations.csv")[:1]
    assert [s.name for s in org.sites] == ["杭州总部服务中心", "宁波服务网点"]


def test_a_business_address_becomes_the_one_covered_site():
    (org,) = parse_json('{' + ORG + ', "business_address": "深圳福田"}', "o.json")
    assert org.sites == (SiteInput("深圳福田", "维修"),)


@pytest.mark.parametrize("extra,match", [
    (', "business_address": "深圳福田", "sites": [{"address": "a", "scope": "b"}]',
     "either 'business_address' or 'sites'"),
    (', "sites": [{"address": "a", "scope": "b", "nmae": "x"}]', "site 1: unknown field"),
])
def test_bad_site_input_is_refused_in_one_line(extra, match):
    (bad,) = parse_json('{' + ORG + extra + '}', "o.json")
    assert isinstance(bad, Rejected)
    assert match in bad.error.text("en") and "o.json: record 1" in bad.error.text("en")
    assert "o.json：第 1 条记录" in str(bad.error)
