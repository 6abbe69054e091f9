"""The re-certification audit ends by the previous expiry where the body requires it, through
the command line [CACQ 7.6.2 "应在认证证书到期前完成", 7.10.8]."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.services.issuing import Issuer
from tests.conftest import run_cli
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED


@pytest.fixture
def cacq(home, settings, pool):
    with Issuer(SHIPPED.get("cacq"), pool=pool) as issuer:
        yield issuer


@pytest.mark.office
def test_a_late_cacq_recertification_needs_its_audit_ended_before_expiry(cacq, home, today):
    number = cacq.issue(TWO_SITES)[0].number  # expires 2029-03-14
    today(date(2029, 5, 1))
    no_date = run_cli("recertify", number, "--decision", "2029-05-01", home=home)
    assert no_date.returncode != 0 and "--audit-end" in no_date.stderr
    after = run_cli("recertify", number, "--decision", "2029-05-01", "--audit-end",
                    "2029-04-02", home=home)
    assert after.returncode != 0 and "[CACQ 7.6.2, 7.10.8]" in after.stderr
    assert len(after.stderr.strip().splitlines()) == 1
    ok = run_cli("recertify", number, "--decision", "2029-05-01", "--audit-end", "2029-03-10",
                 "--json", home=home)
    assert ok.returncode == 0, ok.stderr
