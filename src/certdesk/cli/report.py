"""``certdesk report``: what the regulator (认监委) must be told — pending items, export for
upload, marking a batch sent; ``certdesk returns``: revoked or cancelled certificates still
to come back from their holders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from certdesk.cli.options import JSON_OPT, day_option, install_profiles
from certdesk.cli.output import console, emit

report_app = typer.Typer(help="Reporting to the regulator (认监委): pending items, export, "
                         "mark sent.", no_args_is_help=True)
returns_app = typer.Typer(help="Revoked and cancelled certificates to be returned.",
                          no_args_is_help=True)

BY_OPT = typer.Option(..., "--by", help="The officer acting (logged).")
DRY_RUN_OPT = typer.Option(False, "--dry-run", help="Show what would change; change nothing.")


def _engine():
    # lazy: certdesk.store.db at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store.db import get_engine

    return get_engine()


def _items_table(items: list[dict]) -> None:
    table = Table("item")
    table.add_column("certificate", no_wrap=True)
    for header in ("event", "event date", "due", ""):
        table.add_column(header)
    for i in items:
        table.add_row(str(i["id"]), i["certificate_number"], i["event_label"],
                      str(i["event_date"]), str(i["due_date"]),
                      "[red]overdue[/]" if i.get("overdue") else "")
    console.print(table)


@report_app.command("pending")
def pending_cmd(
    on: str = typer.Option(None, "--on", help="Reference date for overdue (default today)."),
    as_json: bool = JSON_OPT,
) -> None:
    """List the items not yet reported (oldest due first), overdue ones marked, and the
    exported batches not yet marked sent."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.store import reporting

    day = day_option(on, "--on") or date.today()
    with Session(_engine()) as s:
        items = [reporting.item_dict(i, day) for i in reporting.unsent(s)]
        open_batches = [reporting.batch_dict(s, b)
                        for b in reporting.batches(s, unsent_only=True)]

    def human(d: dict) -> None:
        if not d["items"]:
            console.print("nothing to report")
            return
        _items_table(d["items"])
        late = sum(i["overdue"] for i in d["items"])
        console.print(f"{len(d['items'])} item(s) to report, {late} overdue", highlight=False)
        for b in d["batches"]:
            console.print(f"batch {b['batch']} exported {b['created']:%Y-%m-%d %H:%M} by "
                          f"{b['created_by']} is not marked sent", highlight=False)

    emit({"on": day, "items": items, "batches": open_batches}, as_json, human)


@report_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The file: .xlsx, .csv or .json."),
    by: str = typer.Option("records", "--by", help="Who exports (logged)."),
    include_sent: bool = typer.Option(False, "--include-sent",
                                      help="Export items already reported too."),
    batch: int = typer.Option(None, "--batch", help="Write the file of this existing batch "
                              "again instead of making a new one."),
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Export every item not yet reported as a new batch (one row per item; columns in
    docs/reporting.md). An item is exported again until a batch holding it is marked sent."""
    # lazy: certdesk.services.reporting at module top adds ~0.8 s to `certdesk --help`
    from certdesk.services.reporting import export, write_batch

    engine = _engine()
    if batch is not None:
        write_batch(engine, install_profiles(), batch, out, dry_run=dry_run)
        emit({"batch": batch, "out": out, "dry_run": dry_run}, as_json,
             lambda d: console.print(f"batch {batch} written to {out}", highlight=False))
        return
    result = export(engine, install_profiles(), out, by, include_sent=include_sent,
                    dry_run=dry_run)
    emit({**result.as_dict(), "dry_run": dry_run}, as_json, lambda d: console.print(
        f"{d['items']} item(s) would be exported" if dry_run else
        f"batch {d['batch']}: {d['items']} item(s) written to {d['out']}\n"
        f"after uploading: certdesk report mark-sent {d['batch']} --by ACCOUNT",
        highlight=False))


@report_app.command("mark-sent")
def mark_sent_cmd(
    batch: int = typer.Argument(..., help="The batch number the export printed."),
    by: str = BY_OPT,
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Record that a batch was uploaded to the regulator's system: when and by whom."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store import reporting
    from certdesk.store.db import session_scope

    with session_scope(_engine()) as s:
        marked = reporting.mark_sent(s, batch, by, dry_run=dry_run)
    emit({**marked.as_dict(), "dry_run": dry_run}, as_json, lambda d: console.print(
        f"batch {batch}: {len(d['marked'])} item(s) "
        f"{'would be ' if dry_run else ''}marked sent by {by}"
        + (f" ({len(d['already_sent'])} were sent already)" if d["already_sent"] else ""),
        highlight=False))


@report_app.command("batches")
def batches_cmd(as_json: bool = JSON_OPT) -> None:
    """List the export batches, newest first."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.store import reporting

    with Session(_engine()) as s:
        rows = [reporting.batch_dict(s, b) for b in reporting.batches(s)]

    def human(d: dict) -> None:
        table = Table("batch", "exported", "by", "items", "sent", "sent by")
        for b in d["batches"]:
            table.add_row(str(b["batch"]), f"{b['created']:%Y-%m-%d %H:%M}", b["created_by"],
                          str(b["items"]), f"{b['sent_at']:%Y-%m-%d %H:%M}" if b["sent_at"]
                          else "[yellow]not sent[/]", b["sent_by"] or "")
        console.print(table)

    emit({"batches": rows}, as_json, human)


@report_app.command("backfill")
def backfill_cmd(dry_run: bool = DRY_RUN_OPT, as_json: bool = JSON_OPT) -> None:
    """Add the items (and returns) of certificate events logged before the ledger existed.
    Running it again adds nothing."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store import ledger
    from certdesk.store.db import session_scope

    with session_scope(_engine()) as s:
        items, returns = ledger.backfill(s, install_profiles())
        if dry_run:
            s.rollback()
    emit({"items": items, "returns": returns, "dry_run": dry_run}, as_json,
         lambda d: console.print(f"{items} item(s) and {returns} return(s) "
                                 f"{'would be ' if dry_run else ''}added", highlight=False))


# -- returns ---------------------------------------------------------------------------------

def _returns_table(d: dict) -> None:
    table = Table("certificate", "after", "since", "status", "on", "how", "by")
    for r in d["returns"]:
        table.add_row(r["certificate_number"], r["event_kind"], str(r["opened_on"]),
                      r["status"], str(r["closed_on"] or ""), r["how"] or "",
                      r["recorded_by"] or "")
    console.print(table if d["returns"] else "no certificate is outstanding")


@returns_app.command("list")
def returns_list(all_: bool = typer.Option(False, "--all", help="Closed ones too."),
                 as_json: bool = JSON_OPT) -> None:
    """The revoked or cancelled certificates not yet returned or declared void."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from sqlmodel import Session

    from certdesk.store import reporting

    with Session(_engine()) as s:
        rows = [reporting.return_dict(r)
                for r in reporting.returns(s, outstanding_only=not all_)]
    emit({"returns": rows}, as_json, _returns_table)


@returns_app.command("record")
def returns_record(
    numbers: list[str] = typer.Argument(..., help="Certificate number(s)."),
    on: str = typer.Option(..., "--on", help="Day it came back (or was declared void)."),
    how: str = typer.Option(..., "--how", help="How: by post, in person… (or where the "
                            "declaration was published)."),
    declared_void: bool = typer.Option(False, "--declared-void", help="It could not be "
                                       "recovered and was declared void publicly."),
    by: str = BY_OPT,
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Record that certificates came back, or were declared void publicly."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store import reporting
    from certdesk.store.db import session_scope

    with session_scope(_engine()) as s:
        rows = reporting.record_return(
            s, numbers, day_option(on, "--on"), how, by,
            outcome="declared_void" if declared_void else "returned", dry_run=dry_run)
        data = [reporting.return_dict(r) for r in rows]
    emit({"returns": data, "dry_run": dry_run}, as_json, lambda d: console.print(
        f"{len(rows)} certificate(s) {'would be ' if dry_run else ''}recorded "
        f"{'declared void' if declared_void else 'returned'}", highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
    app.add_typer(returns_app, name="returns")
