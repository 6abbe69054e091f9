"""``certdesk profiles``: the body profiles, and ``profiles check``: the values each
profile prints that its body has not confirmed."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from certdesk.cli.options import JSON_OPT, chosen_profiles
from certdesk.cli.output import console, emit
from certdesk.common.settings import get_settings

profiles_app = typer.Typer(help="List the body profiles (bodies and schemes) this install "
                           "knows; `profiles check` lists the values their bodies have not "
                           "confirmed.", invoke_without_command=True)


@profiles_app.callback()
def profiles_cmd(ctx: typer.Context, as_json: bool = JSON_OPT) -> None:
    """List the body profiles (bodies and schemes) this install knows."""
    if ctx.invoked_subcommand is not None:
        return
    data = {"profiles": [p.summary() for p in chosen_profiles(None)]}

    def human(d: dict) -> None:
        table = Table("id", "body", "scheme", "code", "retention")
        for p in d["profiles"]:
            r = p["retention"]
            table.add_row(p["id"], p["body"], p["scheme"], f"{p['body_code']} {p['scheme_code']}",
                          r["clause"])
        console.print(table)

    emit(data, as_json, human)


@profiles_app.command("check")
def check_cmd(
    profile: str = typer.Option(None, "--profile", "-p", help="One profile (default: all)."),
    as_json: bool = JSON_OPT,
) -> None:
    """List the printed values each profile holds that its body has not confirmed.

    Certificates are issued from such a profile only where the install allows it
    (CERTDESK_ALLOW_UNVERIFIED_PROFILE=1, test and demo installs), and then say so on the
    page. Exit 1 while a listed profile holds unconfirmed values this install refuses.
    """
    allowed = get_settings().allow_unverified_profile
    profiles = chosen_profiles(profile)
    data: dict[str, Any]
    data = {"allow_unverified_profile": allowed,
            "profiles": [{"id": p.id, "unverified": list(p.unverified),
                          "issuable": not p.unverified or allowed} for p in profiles]}

    def human(d: dict) -> None:
        for p in d["profiles"]:
            state = ("confirmed" if not p["unverified"] else
                     "unconfirmed, allowed by CERTDESK_ALLOW_UNVERIFIED_PROFILE"
                     if d["allow_unverified_profile"] else "unconfirmed: issuing is refused")
            console.print(f"[bold]{p['id']}[/]: {state}"
                          + (f" — {', '.join(p['unverified'])}" if p["unverified"] else ""),
                          highlight=False)

    emit(data, as_json, human)
    if not all(p["issuable"] for p in data["profiles"]):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(profiles_app, name="profiles")
