"""``certdesk status``: suspend, restore, revoke or cancel a certificate."""

from __future__ import annotations

import typer

from desk.identity import AS_OPT, acting
from desk.options import JSON_OPT, day_option
from desk.output import console, emit


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_cmd(
        number: str = typer.Argument(..., help="Certificate number (main or sub)."),
        action: str = typer.Argument(..., help="suspend | restore | revoke | cancel"),
        reason: str = typer.Option(..., "--reason", "-r", help="Why (printed on the notice)."),
        who: str = AS_OPT,
        on: str = typer.Option(None, "--on", help="Effective date YYYY-MM-DD (default today)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Change a certificate's status; a signed notice is archived and the change logged.

        A main certificate's sub-certificates follow it; a sub-certificate can change alone.
        """
        from lifecycle.publisher import Publisher
        from lifecycle.transitions import change_status

        day = day_option(on, "--on")
        by = acting(who, "status")
        with Publisher() as pub:
            change = change_status(pub, number, action, reason, actor=by, on=day)
        emit(change.as_dict(), as_json, lambda d: console.print(
            f"[bold]{d['status']}[/]: {', '.join(d['affected'])}\nnotice: {d['notice_pdf']}",
            highlight=False))
