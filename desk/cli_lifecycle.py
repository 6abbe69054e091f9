"""The cycle after issue: re-certify, re-issue, surveillance, due list, sweep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from desk.options import JSON_OPT, day_option
from desk.output import console, emit

lifecycle_app = typer.Typer(help="Calendar-driven lifecycle jobs.", no_args_is_help=True)


def _issuer_for(number: str):
    """An Issuer for the profile of certificate ``number``."""
    from sqlmodel import Session

    from archive.db import get_engine
    from lifecycle.cycle import main_certificate
    from lifecycle.issuing import Issuer
    from templates.profiles import load_profile

    with Session(get_engine()) as s:
        profile_id = main_certificate(s, number).profile
    return Issuer(load_profile(profile_id))


def _print_certs(d: dict) -> None:
    for c in d["certificates"]:
        console.print(f"[green]issued[/] {c['number']}  {c['pdf']}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("recertify")
    def recertify_cmd(
        number: str = typer.Argument(..., help="The current main certificate's number."),
        decision: str = typer.Option(..., "--decision", help="Re-certification decision date."),
        issue: str = typer.Option(None, "--issue", help="Issue date (default: the decision)."),
        grade: str = typer.Option(None, "--grade", help="New grade (default: unchanged)."),
        scope: str = typer.Option(None, "--scope", help="New scope (default: unchanged)."),
        audit_end: str = typer.Option(None, "--audit-end", help="Last day of the "
                                      "re-certification audit (needed for a decision after "
                                      "expiry where the body requires the audit before it)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Re-certify: a new certificate R+1 (and subs), the previous one superseded."""
        from lifecycle.cycle import recertify

        with _issuer_for(number) as issuer:
            certs = recertify(issuer, number, day_option(decision, "--decision"),
                              issue=day_option(issue, "--issue"), grade=grade, scope=scope,
                              audit_end=day_option(audit_end, "--audit-end"))
        emit({"certificates": [c.as_dict() for c in certs]}, as_json, _print_certs)

    @app.command("reissue")
    def reissue_cmd(
        number: str = typer.Argument(..., help="The main certificate's number."),
        reason: str = typer.Option(..., "--reason", "-r", help="Why it is re-issued."),
        name: str = typer.Option(None, "--name", help="New organisation name."),
        address: str = typer.Option(None, "--address", help="New registered address."),
        scope: str = typer.Option(None, "--scope", help="New scope (extension/reduction)."),
        grade: str = typer.Option(None, "--grade", help="New grade."),
        site_scope: list[str] = typer.Option(None, "--site-scope", help="K=SCOPE: the new "
                                             "scope of site K (as numbered on the "
                                             "certificate); repeat per site."),
        remove_site: list[int] = typer.Option(None, "--remove-site", help="Site K leaves the "
                                              "certificate (its sub-certificate is "
                                              "cancelled); repeat per site."),
        on: str = typer.Option(None, "--on", help="Re-issue date (default today)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Re-issue (换证) within validity: same number and dates, re-issue date printed.

        A new --scope names every site whose scope differs from it: --site-scope K=SCOPE or
        --remove-site K; the sub-certificates are re-issued with it.
        """
        from lifecycle.cycle import Changes, reissue
        from rules.scope import parse_site_scopes

        changes = Changes(name, address, scope, grade, parse_site_scopes(site_scope or []),
                          tuple(remove_site or ()))
        with _issuer_for(number) as issuer:
            certs = reissue(issuer, number, changes, reason, on=day_option(on, "--on"))
        emit({"certificates": [c.as_dict() for c in certs]}, as_json, _print_certs)

    @app.command("surveillance")
    def surveillance_cmd(
        number: str = typer.Argument(..., help="The main certificate's number."),
        held: str = typer.Option(..., "--held", help="Date the surveillance audit was held."),
        report: Path = typer.Option(None, "--report", help="The audit's report record (JSON, "
                                    "the fields of `certdesk render report`; organisation, "
                                    "scope and sites come from the certificate): rendered, "
                                    "signed and archived with the surveillance."),
        sites: str = typer.Option(None, "--sites", help="The sites visited, as numbered on "
                                  "the certificate (e.g. 1,3): the due list checks that the "
                                  "cycle's surveillances cover every site where the body "
                                  "requires it."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Record a passed surveillance audit (it moves the next due date).

        With --report, the report must pass and recommend keeping the certification, or
        nothing is recorded (suspend the certificate instead).
        """
        from archive.db import get_engine
        from lifecycle.cycle import record_surveillance

        day = day_option(held, "--held")
        from rules.coverage import parse_site_numbers

        visited = parse_site_numbers(sites or "", "--sites")
        data: dict = {"number": number, "held_on": held}
        if report is None:
            data["surveillance"] = record_surveillance(get_engine(), number, day, sites=visited)
        else:
            from docgen.records import load_records
            from lifecycle.certification import record_surveillance_report
            from lifecycle.publisher import Publisher

            with Publisher() as pub:
                n, kept, notice = record_surveillance_report(
                    pub, number, day, load_records(report), report.name, actor="issuer",
                    sites=visited)
            data.update(surveillance=n, report=kept.as_dict(), notice=notice.as_dict())
        emit(data, as_json, lambda d: console.print(
            f"surveillance {d['surveillance']} of {number} recorded ({held})"
            + (f"; report archived {d['report']['pdf']}; maintenance notice "
               f"{d['notice']['pdf']}" if "report" in d else ""),
            highlight=False))

    @app.command("due")
    def due_cmd(
        on: str = typer.Option(None, "--on", help="Reference date (default today)."),
        profile: str = typer.Option(None, "--profile", "-p", help="Only this body profile."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """List the next surveillance due for every valid or suspended certificate, and the
        re-certification application as its time comes."""
        from archive.db import get_engine
        from lifecycle.cycle import due_list

        day = day_option(on, "--on") or date.today()
        items = due_list(get_engine(), day, profile)

        def human(d: dict) -> None:
            from rich.table import Table

            table = Table("number", "holder", "surveillance", "due by", "")
            for i in d["due"]:
                what = ("re-cert application" if i["kind"] == "recertification"
                        else str(i["surveillance"]))
                table.add_row(i["number"], i["holder"], what, str(i["due_by"]),
                              "[red]overdue[/]" if i["overdue"] else "")
            console.print(table)
            for i in d["due"]:
                if i["warning"]:
                    console.print(f"[yellow]{i['number']}[/]: {i['warning']}", highlight=False)

        emit({"on": day, "due": [i.as_dict() for i in items]}, as_json, human)

    @lifecycle_app.command("sweep")
    def sweep_cmd(
        on: str = typer.Option(None, "--on", help="Run as of this date (default today)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Apply the calendar: suspend on overdue surveillance, revoke when a suspension has
        run out, log expiries. Idempotent: safe to run from cron every day."""
        from lifecycle.cycle import sweep
        from lifecycle.publisher import Publisher

        day = day_option(on, "--on") or date.today()
        with Publisher() as pub:
            actions = sweep(pub, day)
        emit({"on": day, "actions": [a.as_dict() for a in actions]}, as_json,
             lambda d: console.print("\n".join(f"{a['action']}: {a['number']} — {a['reason']}"
                                               for a in d["actions"]) or "nothing to do",
                                     highlight=False))

    app.add_typer(lifecycle_app, name="lifecycle")
