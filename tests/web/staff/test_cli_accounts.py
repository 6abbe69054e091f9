"""``certdesk users reset`` / ``role``: the admin's account changes on the command line,
as a signed-in admin (``--as``)."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from certdesk.store.staff import StaffUser
from certdesk.web.staff.accounts import must_change_password
from tests.web.staff.conftest import logged
from tests.web.staff.test_cli_users import _engine

AS_ROOT = {"CERTDESK_PASSWORD": "root-password-1"}


def _accounts(cli) -> None:
    assert cli("users", "add", "root", "--role", "admin", "--password-stdin",
               input="root-password-1\n").returncode == 0
    assert cli("users", "add", "ann", "--role", "issuer", "--password-stdin", "--as", "root",
               input="long-enough-pw\n", env=AS_ROOT).returncode == 0


def test_users_reset_sets_a_temporary_password_that_must_be_changed(cli):
    _accounts(cli)
    out = cli("users", "reset", "ann", "--password-stdin", "--as", "root", "--json",
              input="temporary-pw-1\n", env=AS_ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"name": "ann", "must_change_password": True}
    with Session(_engine()) as s:
        user = s.exec(select(StaffUser).where(StaffUser.name == "ann")).one()
    assert must_change_password(_engine(), user.id)
    [entry] = logged(_engine(), "staff.password_reset", "staff:ann")
    assert entry.actor == "root"
    short = cli("users", "reset", "ann", "--password-stdin", "--as", "root", input="short\n",
                env=AS_ROOT)
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    bare = cli("users", "reset", "ann", "--password-stdin", input="temporary-pw-2\n")
    assert bare.returncode != 0 and "--as" in bare.stderr


def test_users_role_changes_the_role_and_keeps_one_admin(cli):
    _accounts(cli)
    out = cli("users", "role", "ann", "records_officer", "--as", "root", "--json", env=AS_ROOT)
    assert out.returncode == 0 and json.loads(out.stdout)["role"] == "records_officer"
    last = cli("users", "role", "root", "issuer", "--as", "root", env=AS_ROOT)
    assert last.returncode != 0 and "the only active administrator" in last.stderr
    assert len(last.stderr.strip().splitlines()) == 1
    assert [(e.data, e.actor) for e in logged(_engine(), "staff.role_changed")] == [
        ('{"from": "issuer", "to": "records_officer"}', "root")]
