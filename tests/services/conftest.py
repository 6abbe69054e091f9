"""An XBHT issuer on a fresh data home, and an organisation with two sites."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import Issuer
from tests.shipped import SHIPPED

TWO_SITES = OrganisationInput(
    name="测试家电服务有限公司", uscc="91110105MA01XB8H2N", registered_address="北京市朝阳区",
    scope="家用电器的维修", decision_date=date(2026, 3, 10), issue_date=date(2026, 3, 15),
    grade="三星级",
    sites=(SiteInput("北京市朝阳区一号", "家用电器的维修"),
           SiteInput("天津市和平区二号", "家用电器的安装")))


@pytest.fixture
def issuer(keyed_home, settings, office_or_fake):
    """Real LibreOffice for ``office`` tests; the fake converter for the others."""
    with Issuer(SHIPPED.get("xbht"), pool=office_or_fake) as iss:
        yield iss
