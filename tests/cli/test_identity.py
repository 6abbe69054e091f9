"""Real identities on the command line: once a home has staff accounts, a record-changing
command acts as one (``--as`` with its password, or an OS user an admin mapped) and the log
records the account; a typed name is no identity. A home without accounts works as before,
except two-officer disposal. The second officer of a disposal must be a real, older
account that the proposer neither made nor last changed (CLI and staff desk)."""

from __future__ import annotations

import getpass
import json

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import RuleViolation
from certdesk.store.db import session_scope
from certdesk.store.models import Disposal, Event
from certdesk.web.staff.accounts import add_user, check_second_officer, map_os_user
from tests.store.conftest import make_uscc

CLIENT = make_uscc(7)
ME = getpass.getuser()


def _holds_logged(engine) -> list[str]:
    with Session(engine) as s:
        return [e.actor for e in s.exec(select(Event).where(Event.kind == "hold.placed")
                                        .order_by(Event.seq))]


def _hold(cli, *extra: str, env: dict | None = None):
    return cli("hold", "add", "--client", CLIENT, "--reason", "tax inspection", *extra, env=env)


@pytest.fixture
def staff(engine):
    """adam (admin, the first account), rhea and ruth (records officers, made by adam)."""
    add_user(engine, "adam", "admin", "adam-password", actor=f"os:{ME}")
    add_user(engine, "rhea", "records_officer", "rhea-password", actor="adam")
    add_user(engine, "ruth", "records_officer", "ruth-password", actor="adam")
    return engine


def test_a_home_without_accounts_acts_as_before_and_logs_the_os_user(cli, engine):
    assert _hold(cli).returncode == 0
    assert _hold(cli, "--by", "法务").returncode == 0  # the old free-text option still works
    assert _holds_logged(engine) == [f"os:{ME}", "法务"]


def test_disposal_needs_real_accounts_even_in_a_home_without_them(cli, engine):
    r = cli("dispose", "propose", "1", "--by", "王芳", "--reason", "yearly")
    assert r.returncode == 2 and "two staff accounts" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    with Session(engine) as s:
        assert s.exec(select(Disposal)).all() == []


def test_with_accounts_a_typed_name_or_no_identity_is_refused_and_nothing_changes(cli, staff):
    bare = _hold(cli)
    assert bare.returncode == 2 and "--as ACCOUNT" in bare.stderr
    assert len(bare.stderr.strip().splitlines()) == 1
    typed = _hold(cli, "--by", "rhea", env={"CERTDESK_PASSWORD": "not-her-password"})
    assert typed.returncode == 2 and "Wrong user name or password" in typed.stderr
    wrong_role = _hold(cli, "--as", "adam", env={"CERTDESK_PASSWORD": "adam-password"})
    assert wrong_role.returncode == 0  # admin may do records work
    issuer_only = cli("users", "add", "ivy", "--role", "issuer", "--password-stdin", "--as",
                      "adam", input="ivy-password\n", env={"CERTDESK_PASSWORD": "adam-password"})
    assert issuer_only.returncode == 0
    refused = _hold(cli, "--as", "ivy", env={"CERTDESK_PASSWORD": "ivy-password"})
    assert refused.returncode == 2 and "may not" in refused.stderr
    assert _holds_logged(staff) == ["adam"]


def test_the_password_comes_from_the_environment_and_the_log_records_the_account(cli, staff):
    r = _hold(cli, "--as", "rhea", "--json", env={"CERTDESK_PASSWORD": "rhea-password"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["holds"][0]["placed_by"] == "rhea"
    assert _holds_logged(staff) == ["rhea"]


def test_an_os_user_mapped_by_an_admin_acts_as_its_account_without_a_password(cli, staff):
    mapped = cli("users", "map-os-user", ME, "rhea", "--as", "adam",
                 env={"CERTDESK_PASSWORD": "adam-password"})
    assert mapped.returncode == 0, mapped.stderr
    assert _hold(cli).returncode == 0
    assert _holds_logged(staff) == ["rhea"]
    with Session(staff) as s:
        (event,) = s.exec(select(Event).where(Event.kind == "staff.os_user_mapped")).all()
    assert (event.subject, event.actor, json.loads(event.data)["os_user"]) == (
        "staff:rhea", "adam", ME)


def _proposal(engine, by: str) -> int:
    """A disposal proposal row (its records do not matter for the officer rule)."""
    with session_scope(engine) as s:
        row = Disposal(reason="yearly", proposed_by=by)
        s.add(row)
        s.flush()
        return row.id


def test_the_second_officer_must_be_an_account_older_than_the_proposal(staff):
    pid = _proposal(staff, "rhea")
    add_user(staff, "newbie", "records_officer", "newbie-password", actor="ruth")
    with pytest.raises(RuleViolation, match="创建于销毁申请 1 提出之后"):
        check_second_officer(staff, pid, "newbie")
    check_second_officer(staff, pid, "ruth")  # made by adam, before the proposal


def test_an_admin_cannot_approve_their_own_proposal_with_an_account_they_made(staff):
    pid = _proposal(staff, "adam")  # adam made rhea and ruth
    with pytest.raises(RuleViolation, match="的 adam 创建或最后修改"):
        check_second_officer(staff, pid, "ruth")


def test_an_account_the_proposer_last_changed_cannot_be_the_second_officer(staff):
    add_user(staff, "rita", "records_officer", "rita-password", actor=f"os:{ME}")
    map_os_user(staff, "rita-shell", "rita", actor="rhea")  # rhea takes over rita's account
    pid = _proposal(staff, "rhea")
    with pytest.raises(RuleViolation, match="的 rhea 创建或最后修改"):
        check_second_officer(staff, pid, "rita")


def test_the_staff_desk_refuses_a_second_officer_the_proposer_made(keyed_home, engine, staff):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from certdesk.common.settings import get_settings
    from certdesk.web.staff.router import mount
    from tests.web.staff.conftest import StaffClient

    app = FastAPI()
    mount(app, get_settings(), staff)
    pid = _proposal(staff, "adam")
    ruth = StaffClient(TestClient(app))
    assert ruth.login("ruth", "ruth-password").status_code == 303
    response = ruth.post(f"/staff/retention/{pid}/approve")
    assert response.status_code == 409 and "的 adam 创建或最后修改" in response.text
    with Session(staff) as s:
        assert s.get(Disposal, pid).status == "proposed"



def test_resolve_tells_a_staff_account_from_a_local_user(engine, settings, monkeypatch):
    from certdesk.cli import identity

    assert identity.resolve(engine, settings, None, "records") == identity.Identity(
        f"os:{ME}", False)
    add_user(engine, "adam", "admin", "adam-password", actor=f"os:{ME}")
    map_os_user(engine, ME, "adam", actor="adam")
    assert identity.resolve(engine, settings, None, "records") == identity.Identity("adam", True)
    monkeypatch.setenv("CERTDESK_PASSWORD", "adam-password")
    assert identity.resolve(engine, settings, "adam", "users") == identity.Identity("adam", True)
