"""The cycle after issue: re-certify, re-issue, surveillance, due list, sweep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import DRY_RUN_OPT, JSON_OPT, day_option, install_profiles
from certdesk.cli.output import console, emit, warn_if_qr_unreachable
from certdesk.common import clock
from certdesk.domain.coverage import parse_site_numbers
from certdesk.domain.scope import parse_site_scopes

lifecycle_app = typer.Typer(help="Calendar-driven lifecycle jobs.", no_args_is_help=True)


def _issuer_for(number: str, actor: str):
    """An Issuer for the profile of certificate ``number``, acting as ``actor``."""
    # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.services.cycle import main_certificate
    from certdesk.services.issuing import Issuer
    from certdesk.store.db import get_engine

    with Session(get_engine()) as s:
        profile_id = main_certificate(s, number).profile
    return Issuer(install_profiles().get(profile_id), actor=actor)


def _emit_certs(certs: list, as_json: bool) -> None:
    """The certificates a command issued; the QR warning comes once they exist (a refusal
    stays one line), on stderr with --json too, as `certdesk issue` does."""
    warn_if_qr_unreachable()
    emit({"certificates": [c.as_dict() for c in certs]}, as_json, lambda d: console.print(
        "\n".join(f"[green]issued[/] {c['number']}  {c['pdf']}" for c in d["certificates"]),
        highlight=False))


FOLLOW_UP_LABELS = {"service_feature": ": feature evaluation", "report": ": report"}
"""What a held surveillance still owes, in the due table [CACQ 7.3.4.4, 7.9.1]."""
OWN_LINES = {"recertification": "re-cert application", "coverage": "cycle coverage"}


def _report_overdue(day: date) -> list[dict]:
    """Items the regulator should have heard of by ``day`` (certdesk report pending)."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.store import reporting
    from certdesk.store.db import get_engine

    with Session(get_engine()) as s:
        return [reporting.item_dict(i, day) for i in reporting.overdue(s, day)]


def _warn_reports(items: list[dict]) -> None:
    if items:
        console.print(f"[red]{len(items)} report item(s) to the regulator overdue[/] (oldest "
                      f"due {items[0]['due_date']}): certdesk report pending", highlight=False)


def _print_preview(d: dict) -> None:
    numbers = d.get("next_numbers") or d["certificates"]
    what = "would issue" if "next_numbers" in d else "would re-issue"
    console.print(f"[cyan]{what}[/] {', '.join(numbers)}"
                  + (" (next)" if "next_numbers" in d else "")
                  + (f"; {d['supersedes']} superseded" if d.get("supersedes") else "")
                  + " — dry run: nothing stored", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("recertify")
    def recertify_cmd(
        number: str = typer.Argument(..., help="The current main certificate's number."),
        decision: str = typer.Option(..., "--decision", help="Re-certification decision date."),
        issue: str = typer.Option(None, "--issue", help="Issue date (default: the decision)."),
        grade: str = typer.Option(None, "--grade", help="New grade (default: unchanged)."),
        scope: str = typer.Option(None, "--scope", help="New scope (default: unchanged)."),
        who: str = AS_OPT,
        audit_end: str = typer.Option(None, "--audit-end", help="Last day of the "
                                      "re-certification audit (needed for a decision after "
                                      "expiry where the body requires the audit before it)."),
        as_json: bool = JSON_OPT,
        dry_run: bool = DRY_RUN_OPT,
    ) -> None:
        """Re-certify: a new certificate R+1 (and subs), the previous one superseded."""
        # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
        from certdesk.services.cycle import recertify
        from certdesk.services.issuing import IssuePreview

        with _issuer_for(number, acting(who, "recertify")) as issuer:
            certs = recertify(issuer, number, day_option(decision, "--decision"),
                              issue=day_option(issue, "--issue"), grade=grade, scope=scope,
                              audit_end=day_option(audit_end, "--audit-end"), dry_run=dry_run)
        if isinstance(certs, IssuePreview):  # --dry-run
            emit(certs.as_dict(), as_json, _print_preview)
            return
        _emit_certs(certs, as_json)

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
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
        dry_run: bool = DRY_RUN_OPT,
    ) -> None:
        """Re-issue (换证) within validity: same number and dates, re-issue date printed.

        A new --scope names every site whose scope differs from it: --site-scope K=SCOPE or
        --remove-site K; the sub-certificates are re-issued with it.
        """
        # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
        from certdesk.services.cycle import Changes, ReissuePreview, reissue

        changes = Changes(name, address, scope, grade, parse_site_scopes(site_scope or []),
                          tuple(remove_site or ()))
        with _issuer_for(number, acting(who, "reissue")) as issuer:
            certs = reissue(issuer, number, changes, reason, on=day_option(on, "--on"),
                            dry_run=dry_run)
        if isinstance(certs, ReissuePreview):  # --dry-run
            emit(certs.as_dict(), as_json, _print_preview)
            return
        _emit_certs(certs, as_json)

    @app.command("surveillance")
    def surveillance_cmd(
        number: str = typer.Argument(..., help="The main certificate's number."),
        held: str = typer.Option(..., "--held", help="Date the surveillance audit was held."),
        report: Path = typer.Option(None, "--report", help="The audit's report record (JSON, "
                                    "the fields of `certdesk render report`; organisation, "
                                    "scope and sites come from the certificate): rendered, "
                                    "signed and archived with the surveillance; with the "
                                    "date of a surveillance recorded without its report, "
                                    "archived for that one."),
        sites: str = typer.Option(None, "--sites", help="The sites visited, as numbered on "
                                  "the certificate (e.g. 1,3): the due list checks that the "
                                  "cycle's surveillances cover every site where the body "
                                  "requires it."),
        products: str = typer.Option(None, "--products", help="The products and services "
                                     "covered, by name or number in the certificate's list "
                                     "(e.g. 空调、冰箱 or 1,3): the due list checks that the "
                                     "cycle's surveillances cover them all (CACQ 7.5.5, "
                                     "DNI 5.6.1, ZPIC 5.4)."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
        dry_run: bool = DRY_RUN_OPT,
    ) -> None:
        """Record a passed surveillance audit (it moves the next due date).

        With --report, the report must pass and recommend keeping the certification, or
        nothing is recorded (suspend the certificate instead).
        """
        # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
        from certdesk.services.cycle import record_surveillance
        from certdesk.store.db import get_engine

        day = day_option(held, "--held")
        actor = acting(who, "surveillance")
        visited = parse_site_numbers(sites or "", "--sites")
        data: dict = {"number": number, "held_on": held}
        if report is None:
            data["surveillance"] = record_surveillance(get_engine(), install_profiles(), number,
                                                       day, actor=actor, sites=visited,
                                                       products=products or "", dry_run=dry_run)
        else:
            from certdesk.documents.records import load_records
            from certdesk.services.certification import record_surveillance_report
            from certdesk.services.cycle import late_logged
            from certdesk.services.publisher import Publisher

            with Publisher() as pub:
                n, kept, notice = record_surveillance_report(
                    pub, number, day, load_records(report), report.name, actor=actor,
                    sites=visited, products=products or "", dry_run=dry_run)
            data.update(surveillance=n, **({"report": kept.as_dict()} if kept else {}),
                        **({"notice": notice.as_dict()} if notice else {}),
                        warnings=list(late_logged(pub.engine, number, n)) if kept else [])
        if dry_run:
            data["dry_run"] = True
        emit(data, as_json, lambda d: console.print(
            f"surveillance {d['surveillance']} of {number} "
            + ("would be recorded" if dry_run else "recorded") + f" ({held})"
            + (f"; report archived {d['report']['pdf']}" if "report" in d else "")
            + (f"; maintenance notice {d['notice']['pdf']}" if "notice" in d else "")
            + (" — dry run: nothing stored" if dry_run else "")
            + "".join(f"\nwarning: {w}" for w in d.get("warnings", [])),
            highlight=False))

    @app.command("due")
    def due_cmd(
        on: str = typer.Option(None, "--on", help="Reference date (default today)."),
        profile: str = typer.Option(None, "--profile", "-p", help="Only this body profile."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """List the next surveillance due for every valid or suspended certificate, and the
        re-certification application as its time comes."""
        # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
        from certdesk.services.cycle import due_list
        from certdesk.store.db import get_engine

        day = day_option(on, "--on") or clock.today()
        items = due_list(get_engine(), install_profiles(), day, profile)

        def human(d: dict) -> None:
            table = Table("number", "holder", "surveillance", "due by", "")
            for i in d["due"]:
                what = OWN_LINES.get(i["kind"]) or (
                    f"{i['surveillance']}" + FOLLOW_UP_LABELS.get(i["kind"], ""))
                note = "[red]overdue[/]" if i["overdue"] else (
                    "not yet valid" if i["status"] == "not_yet_valid" else "")
                table.add_row(i["number"], i["holder"], what, str(i["due_by"]), note)
            console.print(table)
            for i in d["due"]:
                if i["warning"]:
                    console.print(f"[yellow]{i['number']}[/]: {i['warning']}", highlight=False)
            _warn_reports(d["report_overdue"])

        emit({"on": day, "due": [i.as_dict() for i in items],
              "report_overdue": _report_overdue(day)}, as_json, human)

    @lifecycle_app.command("sweep")
    def sweep_cmd(
        on: str = typer.Option(None, "--on", help="Preview as of this date (only with "
                               "--dry-run; the sweep acts for today only)."),
        who: str = AS_OPT,
        as_json: bool = JSON_OPT,
        dry_run: bool = DRY_RUN_OPT,
    ) -> None:
        """Apply the calendar: suspend on overdue surveillance, revoke when a suspension has
        run out, log expiries. Idempotent: safe to run from cron every day."""
        # lazy: certdesk.services.cycle at module top adds ~2.8 s to `certdesk --help`
        from certdesk.services.cycle import sweep
        from certdesk.services.publisher import Publisher

        day = day_option(on, "--on") or clock.today()
        actor = acting(who, "sweep")
        with Publisher() as pub:
            actions = sweep(pub, day, actor=actor, dry_run=dry_run)
        verb = "would " if dry_run else ""

        def human(d: dict) -> None:
            console.print("\n".join(f"{verb}{a['action']}: {a['number']} — {a['reason']}"
                                     for a in d["actions"]) or "nothing to do", highlight=False)
            _warn_reports(d["report_overdue"])

        emit({"on": day, "actions": [a.as_dict() for a in actions],
              "report_overdue": _report_overdue(day), **({"dry_run": True} if dry_run else {})},
             as_json, human)

    app.add_typer(lifecycle_app, name="lifecycle")
