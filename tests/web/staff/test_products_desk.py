"""The staff desk names the products and services a surveillance covered, for the cycle's
coverage [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]."""

from __future__ import annotations

import json
from datetime import date

from tests.web.staff.conftest import CLIENT, MAIN, logged
from tests.web.staff.test_actions import CERT, issue


def test_a_surveillance_form_records_the_products_covered_and_refuses_unknown_ones(
        signed_in, engine, tmp_path, today):
    path = tmp_path / "products.json"
    path.write_text(json.dumps({**CLIENT, "sites": [], "products": ["空调", "冰箱"]},
                               ensure_ascii=False), encoding="utf-8")
    ivy = signed_in("issuer")
    assert issue(ivy, path).status_code == 303
    today(date(2027, 3, 1))
    refused = ivy.post(f"{CERT}/surveillance", {"held": "2027-03-01", "products": "电视"})
    assert refused.status_code in (400, 409) and "&#39;电视&#39; 不是该证书的产品" in refused.text
    assert logged(engine, "certificate.surveillance") == []
    response = ivy.post(f"{CERT}/surveillance", {"held": "2027-03-01", "products": "2"})
    assert response.status_code == 303
    [held] = logged(engine, "certificate.surveillance")
    assert json.loads(held.data)["products"] == ["冰箱"] and held.subject == MAIN
