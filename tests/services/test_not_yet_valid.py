"""A certificate whose issue date is still ahead is 尚未生效: the due list and the staff pages
say so, the sweep leaves it alone (no suspension of a certificate not yet in force), and
only revocation or cancellation apply to it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from certdesk.common.errors import RuleViolation
from certdesk.common.settings import get_settings
from certdesk.services.cycle import due_list, record_surveillance, sweep
from certdesk.services.publisher import Publisher
from certdesk.services.transitions import TRANSITIONS
from certdesk.store import events
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.models import Certificate, Organisation
from tests.conftest import install_keys, run_cli
from tests.shipped import SHIPPED
from tests.signing.support import make_settings

NUMBER = "027326FWF0001R000"
DECIDED, ISSUED, EXPIRES = date(2026, 1, 5), date(2027, 3, 1), date(2030, 2, 28)
"""DNI plans surveillance from the decision date: the first is due before the issue date."""
BEFORE_ISSUE = date(2027, 2, 1)


@pytest.fixture
def home(tmp_path, key_material):
    settings = make_settings(install_keys(key_material, tmp_path / "home"))
    engine = make_engine(settings.db_url)
    init_db(engine)
    with session_scope(engine) as s:
        org = Organisation(uscc="91110105MA01XB8H2N", name="甲公司", registered_address="北京")
        s.add(org)
        s.flush()
        s.add(Certificate(number=NUMBER, profile="dni-spshfw", organisation_id=org.id,
                          holder_name="甲公司", scope="家电维修", sites_json="[]",
                          decision_date=DECIDED, issue_date=ISSUED, effective_from=ISSUED,
                          expiry_date=EXPIRES))
        events.append(s, "certificate.issued", NUMBER, {"issue_date": ISSUED}, "issuer",
                      profiles=SHIPPED)
    return settings, engine


@pytest.fixture
def before_issue(monkeypatch):
    """Today is before the issue date (the sweep and records act for today only)."""
    monkeypatch.setenv("CERTDESK_TODAY", BEFORE_ISSUE.isoformat())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_due_list_marks_a_certificate_before_its_issue_date_not_yet_valid(home):
    _, engine = home
    [item] = due_list(engine, SHIPPED, BEFORE_ISSUE)
    assert (item.number, item.status, item.surveillance) == (NUMBER, "not_yet_valid", 1)
    assert due_list(engine, SHIPPED, ISSUED)[0].status == "valid"


def test_certdesk_due_shows_not_yet_valid(home):
    settings, _ = home
    result = run_cli("due", "--on", BEFORE_ISSUE.isoformat(), "--json", home=settings.home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["due"][0]["status"] == "not_yet_valid"


def test_the_sweep_does_not_suspend_a_certificate_that_is_not_yet_in_force(home, before_issue):
    settings, engine = home
    with Publisher(settings=settings, engine=engine) as pub:
        assert sweep(pub, BEFORE_ISSUE) == []


def test_no_surveillance_is_recorded_before_the_issue_date(home, before_issue):
    _, engine = home
    with pytest.raises(RuleViolation, match="证书状态为尚未生效"):
        record_surveillance(engine, SHIPPED, NUMBER, BEFORE_ISSUE)


def test_only_revocation_and_cancellation_apply_before_the_issue_date():
    allowed = {a for a, t in TRANSITIONS.items() if "not_yet_valid" in t.allowed_from}
    assert allowed == {"revoke", "cancel"}


def test_the_staff_pages_show_not_yet_valid(home):
    from sqlmodel import Session

    from certdesk.web.staff.views import search

    _, engine = home
    with Session(engine) as s:
        _, [row] = search(s, NUMBER, BEFORE_ISSUE)
    assert (row.status, row.status_label) == ("not_yet_valid", "尚未生效")
