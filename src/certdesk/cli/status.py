"""``certdesk status``: suspend, restore, revoke or cancel a certificate."""

from __future__ import annotations

import typer

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import DRY_RUN_OPT, JSON_OPT, day_option
from certdesk.cli.output import console, emit, err_console


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_cmd(
        number: str = typer.Argument(..., help="Certificate number (main or sub)."),
        action: str = typer.Argument(..., help="suspend | restore | revoke | cancel"),
        reason: str = typer.Option(..., "--reason", "-r", help="Why (printed on the notice)."),
        who: str = AS_OPT,
        on: str = typer.Option(None, "--on", help="Effective date YYYY-MM-DD (default today): "
                               "between the issue date (or the previous status change) and "
                               "today."),
        backdate_reason: str = typer.Option(None, "--backdate-reason", help="Why the change "
                                            "is recorded late: needed when --on is further "
                                            "back than the profile's status.max_backdate_days "
                                            "(logged with the change)."),
        months: int = typer.Option(None, "--months", help="Suspension period in months "
                                   "(suspend only; default the body's usual period, at most "
                                   "its maximum)."),
        verified: str = typer.Option(None, "--verified", help="Day the ground was verified "
                                     "(suspend, revoke): later than the body's days after it "
                                     "is warned about or refused, per profile."),
        as_json: bool = JSON_OPT,
        dry_run: bool = DRY_RUN_OPT,
    ) -> None:
        """Change a certificate's status; a signed notice is archived and the change logged.

        A main certificate's sub-certificates follow it; a sub-certificate can change alone.
        A suspension runs for the body's period (or `--months`); restoring after it has run
        out is refused: the certificate is revoked instead.
        """
        # lazy: certdesk.services.transitions at module top adds ~2.5 s to `certdesk --help`
        from certdesk.services.publisher import Publisher
        from certdesk.services.transitions import StatusPreview, change_status

        day = day_option(on, "--on")
        by = acting(who, "status")
        with Publisher() as pub:
            change = change_status(pub, number, action, reason, actor=by, on=day,
                                   backdate_reason=backdate_reason, dry_run=dry_run,
                                   months=months, verified=day_option(verified, "--verified"))
        if isinstance(change, StatusPreview):  # --dry-run
            emit(change.as_dict(), as_json, lambda d: console.print(
                f"would be [bold]{d['status']}[/] from {d['on']}: {', '.join(d['affected'])}"
                + (f" (back-dated {d['backdated_days']} days)" if d["backdated"] else "")
                + f"\nnotice {d['notice']} — dry run: nothing stored", highlight=False))
            return
        if change.late:
            err_console.print(f"[yellow]warning:[/] {change.late}", highlight=False,
                              soft_wrap=True)
        emit(change.as_dict(), as_json, lambda d: console.print(
            f"[bold]{d['status']}[/]: {', '.join(d['affected'])}\nnotice: {d['notice_pdf']}",
            highlight=False))
