"""The cycle after issue: re-certify, re-issue, surveillance, due list, sweep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from desk.identity import AS_OPT, acting
from desk.options import JSON_OPT, day_option
from desk.output import console, emit

lifecycle_app = typer.Typer(help="Calendar-driven lifecycle jobs.", no_args_is_help=True)


def _issuer_for(number: str, actor: str):
    """An Issuer for the profile of certificate ``number``, acting as ``actor``."""
    from sqlmodel import Session

    from archive.db import get_engine
    from lifecycle.cycle import main_certificate
    from lifecycle.issuing import Issuer
    from templates.profiles import load_profile

    with Session(get_engine()) as s:
        profile_id = main_certificate(s, number).profile
    return Issuer(load_profile(profile_id), actor=actor)


def _print_certs(d: dict) -> None:
    for c in d["certificates"]:
        console.print(f"[green]issued[/] {c['number']}  {c['pdf']}", highlight=False)


def _report_overdue(day: date) -> list[dict]:
    """Items the regulator should have heard of by ``day`` (certdesk report pending)."""
    from sqlmodel import Session

    from archive import reporting
    from archive.db import get_engine

    with Session(get_engine()) as s:
        return [reporting.item_dict(i, day) for i in reporting.overdue(s, day)]


def _warn_reports(items: list[dict]) -> None:
    if items:
        console.print(f"[red]{len(items)} report item(s) to the regulator overdue[/] (oldest "
                      f"due {items[0]['due_date']}): certdesk report pending", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("recertify")
    def recertify_cmd(
        number: str = typer.Argument(..., help="The current main certificate's number."),
        decision: str = typer.Option(..., "--decision", help="Re-certification decision date."),
        issue: str = typer.Option(None, "--issue", help="Issue date (default: the decision)."),
        grade: str = typer.Option(None, "--grade", help="New grade (default: unchanged)."),
        scope: str = typer.Option(None, "--scope", help="New scope (default: unchanged)."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        """Re-certify: a new certificate R+1 (and subs), the previous one superseded."""
        from lifecycle.cycle import recertify

        with _issuer_for(number, acting(who, "recertify")) as issuer:
            certs = recertify(issuer, number, day_option(decision, "--decision"),
                              issue=day_option(issue, "--issue"), grade=grade, scope=scope)
        emit({"certificates": [c.as_dict() for c in certs]}, as_json, _print_certs)

    @app.command("reissue")
    def reissue_cmd(
        number: str = typer.Argument(..., help="The main certificate's number."),
        reason: str = typer.Option(..., "--reason", "-r", help="Why it is re-issued."),
        name: str = typer.Option(None, "--name", help="New organisation name."),
        address: str = typer.Option(None, "--address", help="New registered address."),
        scope: str = typer.Option(None, "--scope", help="New scope (extension/reduction)."),
        grade: str = typer.Option(None, "--grade", help="New grade."),
        on: str = typer.Option(None, "--on", help="Re-issue date (default today)."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        """Re-issue (换证) within validity: same number and dates, re-issue date printed."""
        from lifecycle.cycle import Changes, reissue

        with _issuer_for(number, acting(who, "reissue")) as issuer:
            certs = reissue(issuer, number, Changes(name, address, scope, grade), reason,
                            on=day_option(on, "--on"))
        emit({"certificates": [c.as_dict() for c in certs]}, as_json, _print_certs)

    @app.command("surveillance")
    def surveillance_cmd(
        number: str = typer.Argument(..., help="The main certificate's number."),
        held: str = typer.Option(..., "--held", help="Date the surveillance audit was held."),
        report: Path = typer.Option(None, "--report", help="The audit's report record (JSON, "
                                    "the fields of `certdesk render report`; organisation, "
                                    "scope and sites come from the certificate): rendered, "
                                    "signed and archived with the surveillance."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        """Record a passed surveillance audit (it moves the next due date).

        With --report, the report must pass and recommend keeping the certification, or
        nothing is recorded (suspend the certificate instead).
        """
        from archive.db import get_engine
        from lifecycle.cycle import record_surveillance

        day = day_option(held, "--held")
        actor = acting(who, "surveillance")
        data: dict = {"number": number, "held_on": held}
        if report is None:
            data["surveillance"] = record_surveillance(get_engine(), number, day, actor=actor)
        else:
            from docgen.records import load_records
            from lifecycle.certification import record_surveillance_report
            from lifecycle.publisher import Publisher

            with Publisher() as pub:
                n, kept = record_surveillance_report(pub, number, day, load_records(report),
                                                     report.name, actor=actor)
            data.update(surveillance=n, report=kept.as_dict())
        emit(data, as_json, lambda d: console.print(
            f"surveillance {d['surveillance']} of {number} recorded ({held})"
            + (f"; report archived {d['report']['pdf']}" if "report" in d else ""),
            highlight=False))

    @app.command("due")
    def due_cmd(
        on: str = typer.Option(None, "--on", help="Reference date (default today)."),
        profile: str = typer.Option(None, "--profile", "-p", help="Only this body profile."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """List the next surveillance due for every valid or suspended certificate."""
        from archive.db import get_engine
        from lifecycle.cycle import due_list

        day = day_option(on, "--on") or date.today()
        items = due_list(get_engine(), day, profile)

        def human(d: dict) -> None:
            from rich.table import Table

            table = Table("number", "holder", "surveillance", "due by", "")
            for i in d["due"]:
                note = "[red]overdue[/]" if i["overdue"] else (
                    "not yet valid" if i["status"] == "not_yet_valid" else "")
                table.add_row(i["number"], i["holder"], str(i["surveillance"]), str(i["due_by"]),
                              note)
            console.print(table)
            _warn_reports(d["report_overdue"])

        emit({"on": day, "due": [i.as_dict() for i in items],
              "report_overdue": _report_overdue(day)}, as_json, human)

    @lifecycle_app.command("sweep")
    def sweep_cmd(
        on: str = typer.Option(None, "--on", help="Run as of this date (default today)."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        """Apply the calendar: suspend on overdue surveillance, revoke when a suspension has
        run out, log expiries. Idempotent: safe to run from cron every day."""
        from lifecycle.cycle import sweep
        from lifecycle.publisher import Publisher

        day = day_option(on, "--on") or date.today()
        actor = acting(who, "sweep")
        with Publisher() as pub:
            actions = sweep(pub, day, actor=actor)

        def human(d: dict) -> None:
            console.print("\n".join(f"{a['action']}: {a['number']} — {a['reason']}"
                                     for a in d["actions"]) or "nothing to do", highlight=False)
            _warn_reports(d["report_overdue"])

        emit({"on": day, "actions": [a.as_dict() for a in actions],
              "report_overdue": _report_overdue(day)}, as_json, human)

    app.add_typer(lifecycle_app, name="lifecycle")
