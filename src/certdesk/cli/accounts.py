"""``certdesk users reset`` and ``certdesk users role``: an admin's account changes from the
command line, as a signed-in admin (``--as``). They join the ``users`` group."""

from __future__ import annotations

import typer

from certdesk.cli.identity import AS_OPT
from certdesk.cli.options import JSON_OPT
from certdesk.cli.output import console, emit
from certdesk.cli.users import _actor, _engine, _read_password, users_app


@users_app.command("reset")
def reset_cmd(
    name: str = typer.Argument(..., help="The account whose password is reset."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the temporary password from stdin."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Set a temporary password: the account's sessions end, and at its next sign-in the
    holder must choose a new password before anything else."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import reset_password

    engine = _engine()
    actor = _actor(who)  # the admin first: a refused identity reads no password
    user = reset_password(engine, name, _read_password(password_stdin), actor=actor)
    emit({"name": user.name, "must_change_password": True}, as_json, lambda d: console.print(
        f"{d['name']}: temporary password set; a new one is asked for at the next sign-in",
        highlight=False))


@users_app.command("role")
def role_cmd(
    name: str = typer.Argument(..., help="The account."),
    role: str = typer.Argument(..., help="issuer | decision_maker | records_officer | admin"),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Change an account's role (the desk keeps at least one active admin); logged."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import set_role

    engine = _engine()
    user = set_role(engine, name, role, actor=_actor(who))
    emit({"name": user.name, "role": user.role}, as_json,
         lambda d: console.print(f"{d['name']} is now {d['role']}", highlight=False))


def register(app: typer.Typer) -> None:
    """The commands joined ``users`` when this module was imported."""
