"""``certdesk certificates list``: the certificate register, as the staff desk shows it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from certdesk.cli.options import JSON_OPT, day_option
from certdesk.cli.output import console, emit
from certdesk.common.errors import InputError
from certdesk.common.settings import get_settings
from certdesk.domain.status import STATUS_LABELS

certificates_app = typer.Typer(help="The certificate register: filter, sort, page, export.",
                               no_args_is_help=True)


@certificates_app.command("list")
def list_cmd(
    status: list[str] = typer.Option(
        [], "--status", "-s", help="Status today (repeatable): valid | not_yet_valid | "
        "suspended | revoked | cancelled | expired | superseded."),
    profile: str = typer.Option(None, "--profile", "-p", help="Body profile / scheme id."),
    grade: str = typer.Option(None, "--grade", help="Grade, e.g. 五星级."),
    issued_from: str = typer.Option(None, "--issued-from", help="Issued on or after (YYYY-MM-DD)."),
    issued_to: str = typer.Option(None, "--issued-to", help="Issued on or before."),
    expires_from: str = typer.Option(None, "--expires-from", help="Expiring on or after."),
    expires_to: str = typer.Option(None, "--expires-to", help="Expiring on or before."),
    expiring_within: int = typer.Option(None, "--expiring-within", metavar="DAYS",
                                        help="Valid or suspended, expiring within DAYS."),
    search: str = typer.Option("", "--search", "-q",
                               help="Organisation name, credit code or certificate number."),
    sort: str = typer.Option("number", "--sort",
                             help="number | issue_date | expiry_date | holder"),
    descending: bool = typer.Option(False, "--desc", help="Sort descending."),
    limit: int = typer.Option(50, "--limit", "-n", help="Rows per page (1-500)."),
    after: str = typer.Option(None, "--after", metavar="CURSOR",
                              help="Continue after this cursor (printed with each page)."),
    on: str = typer.Option(None, "--on", help="Statuses as on this day (default today)."),
    export: Path = typer.Option(None, "--export", "-o",
                                help="Write the whole filtered view to this .xlsx or .csv "
                                     "file instead of printing a page."),
    as_json: bool = JSON_OPT,
) -> None:
    """List certificates: filter, sort and page (keyset: ``--after`` the printed cursor).

    With ``--export`` the whole view (all pages) is written to an Excel or CSV file.
    """
    # lazy: certdesk.services.reporting at module top adds ~0.8 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.services.reporting import _write as write_atomically  # all or nothing
    from certdesk.store.db import get_engine
    from certdesk.store.register import RegisterQuery, all_rows, export_bytes, page

    q = RegisterQuery(
        status=tuple(status), profile=profile, grade=grade,
        issued_from=day_option(issued_from, "--issued-from"),
        issued_to=day_option(issued_to, "--issued-to"),
        expires_from=day_option(expires_from, "--expires-from"),
        expires_to=day_option(expires_to, "--expires-to"), expiring_within=expiring_within,
        search=search, sort=sort, descending=descending, limit=limit, after=after)
    today = day_option(on, "--on") or date.today()
    engine = get_engine(get_settings().db_url)
    with Session(engine) as s:
        if export is not None:
            if not export.parent.is_dir():
                raise InputError(f"{export}: folder {export.parent} does not exist")
            rows = all_rows(s, q, today)
            write_atomically(export, export_bytes(export.suffix.lower(), rows, q, today))
            emit({"written": export, "certificates": len(rows)}, as_json,
                 lambda d: console.print(f"{d['certificates']} certificates → {d['written']}",
                                         highlight=False))
            return
        result = page(s, q, today)
    emit(result.as_dict(), as_json, _table)


def _table(d: dict) -> None:
    table = Table("number", "holder", "uscc", "profile", "grade", "issued", "expires",
                  "status")
    for c in d["certificates"]:
        table.add_row(c["number"], c["holder"], c["uscc"], c["profile"], c["grade"] or "",
                      str(c["issue_date"]), str(c["expiry_date"]),
                      f"{STATUS_LABELS[c['status']][0]} {c['status']}")
    console.print(table)
    shown = len(d["certificates"])
    total = f"{d['total']}+" if d["more_than_total"] else d["total"]
    console.print(f"{shown} of {total} certificates (status as on {d['today']})",
                  highlight=False)
    if d["next_cursor"]:
        console.print(f"next page: --after {d['next_cursor']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(certificates_app, name="certificates")
