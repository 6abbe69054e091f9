"""``certdesk users``: the first admin is made on the command line, password from a prompt
or stdin, stored only as an argon2 hash; every change is logged with who ran it."""

from __future__ import annotations

import getpass
import json

import pytest
import typer
from typer.testing import CliRunner

from certdesk.common.errors import InputError
from tests.web.staff.conftest import logged


@pytest.fixture
def users(home):
    """``users(*args, input=None)`` runs ``certdesk users …`` in-process."""
    from certdesk.cli.users import register

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(app, ["users", *args], input=input, env=env)

    return run


def _engine():
    from certdesk.common.settings import get_settings
    from certdesk.store.db import get_engine

    return get_engine(get_settings().db_url)


def test_users_add_reads_the_password_from_stdin_and_stores_only_its_hash(users):
    from certdesk.web.staff.accounts import list_users

    result = users("add", "admin", "--role", "admin", "--password-stdin",
                   input="first-admin-password\n")
    assert result.exit_code == 0 and "added admin (admin)" in result.output
    (user,) = list_users(_engine())
    assert user.role == "admin" and user.password_hash.startswith("$argon2id$")
    assert "first-admin-password" not in user.password_hash
    (event,) = logged(_engine(), "staff.user_added", "staff:admin")
    assert event.actor == f"os:{getpass.getuser()}"  # the first admin: no account yet


@pytest.mark.parametrize("args, stdin, message", [
    (("Admin", "--role", "admin"), "long-enough-pw\n", "2–32 lower-case letters"),
    (("ann", "--role", "boss"), "long-enough-pw\n", "no role 'boss' (one of"),
    (("ann", "--role", "issuer"), "short\n", "at least 10 characters"),
    (("ann", "--role", "issuer"), "\n", "no password on stdin"),
])
def test_users_add_refuses_bad_names_roles_and_passwords(users, args, stdin, message):
    result = users("add", *args, "--password-stdin", input=stdin)
    assert isinstance(result.exception, InputError) and message in result.exception.text("en")


def test_users_list_and_disable_show_and_change_the_account_state(users):
    users("add", "adam", "--role", "admin", "--password-stdin", input="admin-password\n")
    as_adam = {"CERTDESK_PASSWORD": "admin-password"}
    users("add", "ann", "--role", "issuer", "--password-stdin", "--as", "adam",
          input="long-enough-pw\n", env=as_adam)
    assert users("disable", "ann", "--as", "adam", env=as_adam).exit_code == 0
    listed = json.loads(users("list", "--json").output)["users"]
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [
        ("adam", "admin", True), ("ann", "issuer", False)]
    assert users("enable", "ann", "--as", "adam", env=as_adam).exit_code == 0
    assert json.loads(users("list", "--json").output)["users"][1]["active"] is True
    events = logged(_engine(), "staff.user_disabled") + logged(_engine(), "staff.user_enabled")
    assert [(e.kind, e.actor) for e in events] == [("staff.user_disabled", "adam"),
                                                   ("staff.user_enabled", "adam")]


def test_once_an_account_exists_only_an_admin_identity_changes_accounts(users):
    from certdesk.cli.identity import IdentityError
    from certdesk.web.staff.accounts import LoginFailed

    users("add", "adam", "--role", "admin", "--password-stdin", input="admin-password\n")
    users("add", "ivy", "--role", "issuer", "--password-stdin", "--as", "adam",
          input="issuer-password\n", env={"CERTDESK_PASSWORD": "admin-password"})
    bare = users("add", "eve", "--role", "admin", "--password-stdin", input="eve-password\n")
    assert isinstance(bare.exception, IdentityError) and "--as" in str(bare.exception)
    wrong = users("disable", "adam", "--as", "adam", env={"CERTDESK_PASSWORD": "guess-guess"})
    assert isinstance(wrong.exception, LoginFailed)
    issuer = users("add", "eve", "--role", "admin", "--password-stdin", "--as", "ivy",
                   input="eve-password\n", env={"CERTDESK_PASSWORD": "issuer-password"})
    assert isinstance(issuer.exception, IdentityError) and "may not" in str(issuer.exception)
    assert [u["name"] for u in json.loads(users("list", "--json").output)["users"]] == [
        "adam", "ivy"]
    (added,) = logged(_engine(), "staff.user_added", "staff:ivy")
    assert added.actor == "adam"


def test_every_users_command_answers_help(users):
    for command in ("", "add", "list", "disable", "enable", "map-os-user"):
        result = users(*([command] if command else []), "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command
