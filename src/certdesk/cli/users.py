"""``certdesk users``: staff accounts of the staff desk (the first admin is made here).

Once an account exists, changing accounts needs an admin identity (``cli.identity``)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import JSON_OPT
from certdesk.cli.output import console, emit
from certdesk.common.errors import InputError
from certdesk.common.settings import get_settings

users_app = typer.Typer(help="Staff accounts of the web staff desk: add, list, disable, enable.",
                        no_args_is_help=True)


def _engine():
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.store.db import get_engine

    return get_engine(get_settings().db_url)


def _actor(who: str | None) -> str:
    """The admin running the command (in a home without accounts: the OS user)."""
    return acting(who, "users")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: use --password-stdin")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="Sign-in name: 2-32 lower-case letters, digits, . _ -"),
    role: str = typer.Option(..., "--role", "-r",
                             help="issuer | decision_maker | records_officer | admin"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin "
                                        "(for scripts); otherwise it is asked for twice."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Add a staff account; the password is stored as an argon2id hash only."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import add_user

    engine = _engine()
    actor = _actor(who)
    user = add_user(engine, name, role, _read_password(password_stdin), actor=actor)
    emit({"name": user.name, "role": user.role, "active": user.active}, as_json,
         lambda d: console.print(f"added {d['name']} ({d['role']})", highlight=False))


@users_app.command("list")
def list_cmd(as_json: bool = JSON_OPT) -> None:
    """List staff accounts with their role, state and last sign-in."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import list_users

    data = {"users": [{"name": u.name, "role": u.role, "active": u.active, "created": u.created,
                       "last_login": u.last_login} for u in list_users(_engine())]}

    def human(d: dict) -> None:
        table = Table("name", "role", "state", "last sign-in")
        for u in d["users"]:
            table.add_row(u["name"], u["role"], "active" if u["active"] else "disabled",
                          f"{u['last_login']:%Y-%m-%d %H:%M} UTC" if u["last_login"] else "—")
        console.print(table)

    emit(data, as_json, human)


def _set_active(name: str, active: bool, who: str | None, as_json: bool) -> None:
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import set_active

    engine = _engine()
    user = set_active(engine, name, active, actor=_actor(who))
    emit({"name": user.name, "active": user.active}, as_json, lambda d: console.print(
        f"{d['name']} {'enabled' if d['active'] else 'disabled'}", highlight=False))


@users_app.command("disable")
def disable_cmd(name: str = typer.Argument(..., help="The account to disable."),
                who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Disable an account: it can no longer sign in and its open sessions end at once."""
    _set_active(name, False, who, as_json)


@users_app.command("enable")
def enable_cmd(name: str = typer.Argument(..., help="The account to enable again."),
               who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Enable a disabled account again."""
    _set_active(name, True, who, as_json)


@users_app.command("map-os-user")
def map_os_user_cmd(
    os_user: str = typer.Argument(..., help="The operating-system user name."),
    account: str = typer.Argument(None, help="The staff account it acts as (omit with "
                                  "--remove)."),
    remove: bool = typer.Option(False, "--remove", help="Remove the OS user's mapping."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Let an OS user act as a staff account on the CLI without --as (admins only; logged)."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import any_accounts, map_os_user

    if remove == (account is not None):
        raise InputError("name the ACCOUNT to map to, or give --remove (not both)")
    engine = _engine()
    if not any_accounts(engine):
        raise InputError("no staff accounts yet: add one with `certdesk users add`")
    map_os_user(engine, os_user, account, actor=_actor(who))
    emit({"os_user": os_user, "account": account}, as_json, lambda d: console.print(
        f"{d['os_user']} → {d['account']}" if d["account"] else f"{d['os_user']} unmapped",
        highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
