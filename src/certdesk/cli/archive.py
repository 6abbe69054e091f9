"""Records officers' commands: archive, log, retention, hold, dispose, export.

Every command takes ``--help``; those that report take ``--json``. Checks that find a
problem (``archive audit``, ``log verify``) print what they found and exit 1.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import JSON_OPT, day_option, install_profiles
from certdesk.cli.output import console, emit, err_console, lang
from certdesk.common.errors import CertdeskError
from certdesk.common.files import read_bytes
from certdesk.common.settings import get_settings

REASON_OPT = typer.Option(..., "--reason", "-r", help="Why (logged).")
CLIENT_OPT = typer.Option(None, "--client", help="Client's unified social credit code.")
CERT_OPT = typer.Option(None, "--certificate", help="Certificate number.")

archive_app = typer.Typer(help="Records: add, find, prove intact, recover.",
                          no_args_is_help=True)
log_app = typer.Typer(help="The hash-chained event log.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention periods under each body's rule.",
                            no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: records under hold cannot be disposed of.",
                       no_args_is_help=True)
dispose_app = typer.Typer(help="Disposal of records whose period has ended (two officers).",
                          no_args_is_help=True)


def _stores():
    # lazy: certdesk.store.db at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store.blobs import open_store
    from certdesk.store.db import get_engine

    settings = get_settings()
    return settings, get_engine(settings.db_url), open_store(settings)


def _table(*columns: str):
    return Table(*columns, highlight=False)


# -- archive ---------------------------------------------------------------------------------

@archive_app.command("add")
def archive_add(
    files: list[Path] = typer.Argument(..., help="The record file(s): PDF, Word, ODT, RTF or "
                                       "an image (scans); non-PDF is converted to PDF/A."),
    record_type: str = typer.Option(..., "--type", "-t", help="Record type (see docs/records.md)."),
    certificate: str = CERT_OPT,
    client: str = CLIENT_OPT,
    profile: str = typer.Option(None, "--profile", "-p",
                                help="Body profile, when no certificate names it."),
    signer: str = typer.Option(None, "--signer", help="Who signed or sealed the original."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Take records made elsewhere (e.g. scanned signed originals) into the archive.

    Each file is stored write-once under its sha256 with its row and a log entry; a file
    already archived is reported, not stored twice. With several files, one failure does
    not stop the others (exit 1 at the end).
    """
    # lazy: certdesk.services.ingest at module top adds ~0.8 s to `certdesk --help`
    from certdesk.documents.convert import ConverterPool
    from certdesk.services.ingest import take_in
    from certdesk.store.db import session_scope
    from certdesk.store.records import check_type, resolve_filing

    check_type(record_type)
    by = acting(who, "records")
    settings, engine, store = _stores()
    with session_scope(engine) as s:
        filing = resolve_filing(s, install_profiles(), certificate=certificate, client=client,
                                profile=profile)
    added, failed = [], []
    # The pool starts LibreOffice only when a file needs converting (PDFs never do).
    with ConverterPool(size=1, settings=settings) as pool:
        for path in files:
            try:
                done = take_in(engine, store, settings, pool, read_bytes(path), path.name,
                               record_type=record_type, filing=filing, signer=signer, actor=by)
                added.append({**done.as_dict(), "source": str(path)})
            except CertdeskError as exc:
                if len(files) == 1:
                    raise
                failed.append({"file": str(path), "reason": exc.text(lang())})

    def human(d: dict) -> None:
        for r in d["records"]:
            state = "added" if r["new"] else "already archived as"
            console.print(f"[green]{state}[/] record {r['id']}  {r['filename']}  "
                          f"sha256 {r['sha256'][:16]}…", highlight=False)
        for f in d["failed"]:
            err_console.print(f"[red]failed[/] {f['file']}: {f['reason']}", highlight=False)

    emit({"records": added, "failed": failed}, as_json, human)
    if failed:
        raise typer.Exit(1)


def _record_rows(d: dict) -> None:
    table = _table("id", "type", "file", "client", "certificate", "kept until", "state")
    for r in d["records"]:
        ret = r["retention"]
        state = "disposed" if r["disposed_at"] else ("held" if r["holds"] else
                                                     ("due" if r["due"] else "kept"))
        if r["confidential"]:
            state += " (confidential)"
        table.add_row(str(r["id"]), r["record_type"], r["filename"], r["client"] or "",
                      r["certificate"] or "", str(ret["retain_until"] or "—"), state)
    console.print(table)


@archive_app.command("list")
def archive_list(
    client: str = CLIENT_OPT,
    certificate: str = typer.Option(None, "--certificate",
                                    help="Certificate number (its sub-certificates too)."),
    record_type: str = typer.Option(None, "--type", "-t", help="Record type."),
    as_json: bool = JSON_OPT,
) -> None:
    """Find records by client, certificate and type (disposed ones show as tombstones)."""
    # lazy: certdesk.store.records at module top adds ~0.6 s to `certdesk --help`
    from certdesk.store.db import session_scope
    from certdesk.store.records import Facts, find_records, record_dict

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        facts = Facts(s, install_profiles())
        rows = [record_dict(s, r, facts) for r in find_records(
            s, client=client, certificate=certificate, record_type=record_type)]
    emit({"records": rows}, as_json, _record_rows)


@archive_app.command("show")
def archive_show(record_id: int = typer.Argument(..., help="Record id."),
                 as_json: bool = JSON_OPT) -> None:
    """One record: its facts, retention, holds, log entries and tombstone if disposed."""
    # lazy: certdesk.store.records at module top adds ~0.6 s to `certdesk --help`
    from certdesk.store.db import session_scope
    from certdesk.store.events import entries
    from certdesk.store.models import Disposal
    from certdesk.store.records import Facts, get_record, record_dict, record_subject

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        row = get_record(s, record_id)
        data = record_dict(s, row, Facts(s, install_profiles()))
        data["events"] = [_event_dict(e) for e in entries(s, record_subject(row.id))]
        if row.disposal_id:
            d = s.get_one(Disposal, row.disposal_id)
            data["tombstone"] = {"disposal": d.id, "proposed_by": d.proposed_by,
                                 "approved_by": d.decided_by, "approved_at": d.decided_at,
                                 "reason": d.reason,
                                 "disposal_certificate_sha256": d.certificate_sha256}

    def human(d: dict) -> None:
        for key in ("id", "record_type", "filename", "sha256", "size", "profile", "client",
                    "certificate", "signer", "created", "disposed_at", "holds"):
            console.print(f"{key:>12}: {d[key]}", highlight=False)
        console.print(f"{'retention':>12}: {d['retention']['why']}", highlight=False)
        for key, value in (d.get("tombstone") or {}).items():
            console.print(f"{key:>12}: {value}", highlight=False)
        for e in d["events"]:
            console.print(f"  #{e['seq']} {e['at']:%Y-%m-%d %H:%M} {e['kind']} by {e['actor']}",
                          highlight=False)

    emit(data, as_json, human)


@archive_app.command("audit")
def archive_audit(as_json: bool = JSON_OPT) -> None:
    """Re-hash every blob against its row and the log; find missing, changed and orphan
    files, rows the log does not name or contradicts, certificates whose signature is not
    by a key of this body, numbers drawn but neither issued nor void, a broken log, and
    certificate columns (status, suspension, successor, surveillances) the log does not
    bear out. Exit 1 if any."""
    # lazy: certdesk.services.audit at module top adds ~2.0 s to `certdesk --help`
    from certdesk.services.audit import audit, count_records, file_permissions
    from certdesk.signing.trust import Trust
    from certdesk.store.db import session_scope, sqlite_file

    settings, engine, store = _stores()
    trust = Trust.of(settings)
    with session_scope(engine) as s:
        total = count_records(s)
        with Progress(TextColumn("auditing"), BarColumn(), MofNCompleteColumn(),
                      console=err_console, transient=True,
                      disable=as_json or not err_console.is_terminal or total < 200) as bar:
            task = bar.add_task("audit", total=total)
            report = audit(s, store, install_profiles(), lambda n: bar.advance(task, n),
                           trust=trust)
    report.permissions = file_permissions(settings.home, sqlite_file(settings.db_url))

    def human(r: dict) -> None:
        for kind, label in (("missing", "missing blob"), ("changed", "changed blob"),
                            ("unlogged", "not named by the log"),
                            ("row_mismatch", "row differs from its log entry"),
                            ("not_erased", "disposed but still stored")):
            for item in r[kind]:
                extra = f" ({', '.join(item['fields'])})" if "fields" in item else ""
                console.print(f"[red]{label}[/]: record {item['record']} {item['filename']} "
                              f"{item['sha256'][:16]}…{extra}", highlight=False)
        for key in r["orphans"]:
            console.print(f"[red]orphan file[/] (no record): {key}", highlight=False)
        for item in r["bad_signature"]:
            console.print(f"[red]signature not valid[/]: record {item['record']} "
                          f"{item['filename']} (signer {item['signer']}): "
                          f"{'; '.join(item['problems'])}", highlight=False)
        for p in r["permissions"]:
            console.print(f"[red]readable by others[/]: {p['path']} is {p['mode']}, should be "
                          f"{p['wanted']} (chmod {p['wanted'][1:]} {p['path']})",
                          highlight=False)
        for n in r["numbers"]["unaccounted"]:
            where = (f"drawn {n['drawn_at']:%Y-%m-%d %H:%M} (log #{n['log_seq']})"
                     if "log_seq" in n else f"counter {n['counter']} passed {n['sequence']}")
            console.print(f"[red]number neither issued nor void[/]: {n['number'] or '?'} "
                          f"{where}", highlight=False)
        if r["numbers"]["in_flight"]:
            console.print(f"{len(r['numbers']['in_flight'])} number(s) being issued right now",
                          highlight=False)
        if not r["log"]["ok"]:
            console.print(f"[red]log broken[/] at entry {r['log']['broken_at']}: "
                          f"{r['log']['problem']}", highlight=False)
        print_state(r["state"])
        verdict = "[green]clean[/]" if r["ok"] else f"[red]{r['problems']} problem(s)[/]"
        console.print(f"{r['records']} record(s), {r['files']} file(s), "
                      f"{r['log']['entries']} log entries: {verdict}", highlight=False)

    emit(report.as_dict(), as_json, human)
    if not report.ok:
        raise typer.Exit(1)


@archive_app.command("recover")
def archive_recover(who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """After a crash: quarantine files with no record, bring back quarantined blobs whose
    record exists, finish interrupted erasures, void numbers drawn by a process that ended
    before issuing them ("interrupted"). Every step is logged; running it again is safe."""
    # lazy: certdesk.services.audit at module top adds ~2.0 s to `certdesk --help`
    from certdesk.documents.convert import sweep_stale_profiles
    from certdesk.services.audit import recover
    from certdesk.store.db import session_scope

    by = acting(who, "records")
    _, engine, store = _stores()
    with session_scope(engine) as s:
        result = recover(s, store, by, install_profiles())
    converter_temp = len(sweep_stale_profiles())  # what a killed issuer's LibreOffice left

    def human(d: dict) -> None:
        for q in d["quarantined"]:
            console.print(f"quarantined {q['key']} → {q['to']}", highlight=False)
        for sha in d["restored"]:
            console.print(f"restored {sha}", highlight=False)
        for sha in d["erased"]:
            console.print(f"erased disposed blob {sha}", highlight=False)
        for r in d["refused"]:
            console.print(f"[yellow]left[/] {r['key']}: {r['reason']}", highlight=False)
        for number in d["voided"]:
            console.print(f"voided {number} (interrupted)", highlight=False)
        console.print(f"{len(d['quarantined'])} quarantined, {len(d['restored'])} restored, "
                      f"{len(d['erased'])} erased, {len(d['voided'])} number(s) voided, "
                      f"{d['temp_removed']} stale temp file(s) and {d['converter_temp']} "
                      "converter folder(s) removed", highlight=False)

    emit({**result.as_dict(lang()), "converter_temp": converter_temp}, as_json, human)


@archive_app.command("close")
def archive_close(
    client: str = typer.Option(..., "--client", help="Client's unified social credit code."),
    outcome: str = typer.Option(..., "--outcome", help="refused | withdrawn"),
    on: str = typer.Option(None, "--on", help="Date of the refusal or withdrawal (YYYY-MM-DD; "
                           "default today)."),
    reason: str = REASON_OPT,
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Record that a client's application was refused or withdrawn: its records are then
    kept confidentially for the profile's own period [XBHT 7.2.4, DNI 5.2.1]."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.disposal import close_application
    from certdesk.store.db import session_scope

    by = acting(who, "records")
    _, engine, _ = _stores()
    with session_scope(engine) as s:
        row = close_application(s, client=client, outcome=outcome,
                                on=day_option(on, "--on") or date.today(), reason=reason, by=by)
        data = {"client": row.client_uscc, "outcome": row.outcome, "on": row.closed_on}
    emit(data, as_json, lambda d: console.print(
        f"application of {d['client']} {d['outcome']} on {d['on']}", highlight=False))


# -- log ---------------------------------------------------------------------------------------

def _event_dict(e) -> dict:
    return {"seq": e.seq, "at": e.at, "kind": e.kind, "subject": e.subject, "actor": e.actor,
            "data": json.loads(e.data), "hash": e.hash}


SUBJECT_OPT = typer.Option(None, "--subject", "-s", help="e.g. a certificate number, record:12, "
                           "client:USCC, disposal:3.")
KIND_OPT = typer.Option(None, "--kind", "-k", help="Entries whose kind starts with this, e.g. "
                        "record. or certificate.revoke")


@log_app.command("verify")
def log_verify(as_json: bool = JSON_OPT) -> None:
    """Re-hash the whole log and compare its end with the stored head: an edited, removed,
    reordered or cut-off entry is named; then check that each certificate's state columns
    agree with its log entries. Exit 1 if the chain is broken or a column disagrees."""
    # lazy: certdesk.store.events at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store.db import session_scope
    from certdesk.store.events import verify_chain
    from certdesk.store.state import disagreements

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        report = verify_chain(s)
        state = [d.as_dict() for d in disagreements(s, install_profiles())]
    data = {**report.as_dict(), "ok": report.ok and not state, "state": state}

    def human(d: dict) -> None:
        if report.ok:
            console.print(f"[green]intact[/]: {d['entries']} entries, head {d['head_seq']} "
                          f"{d['head_hash']}", highlight=False)
        else:
            console.print(f"[red]broken[/] at entry {d['broken_at']}: {d['problem']}",
                          highlight=False)
        print_state(d["state"])

    emit(data, as_json, human)
    if not data["ok"]:
        raise typer.Exit(1)


def print_state(state: list[dict]) -> None:
    """The certificate columns that disagree with the log, one line each."""
    for d in state:
        console.print(f"[red]column differs from the log[/]: {d['number']} {d['column']} is "
                      f"{d['stored']!r}, the log says {d['logged']!r}", highlight=False)


@log_app.command("show")
def log_show(
    subject: str = SUBJECT_OPT,
    kind: str = KIND_OPT,
    limit: int = typer.Option(50, "--limit", "-n", help="Newest N entries (0: all)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Show log entries, oldest first."""
    # lazy: certdesk.store.events at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store.db import session_scope
    from certdesk.store.events import entries

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        rows = [_event_dict(e) for e in entries(s, subject, kind, limit or None)]

    def human(d: dict) -> None:
        table = _table("#", "at (UTC)", "kind", "subject", "by")
        for e in d["entries"]:
            table.add_row(str(e["seq"]), f"{e['at']:%Y-%m-%d %H:%M:%S}", e["kind"],
                          e["subject"], e["actor"])
        console.print(table)

    emit({"entries": rows}, as_json, human)


@log_app.command("list")
def log_list(
    actor: str = typer.Option(None, "--actor", "-a", help="Only what this account (or "
                              "system, sweep…) did."),
    kind: str = KIND_OPT,
    subject: str = SUBJECT_OPT,
    since: str = typer.Option(None, "--since", help="From this day (YYYY-MM-DD, staff "
                              "time zone)."),
    until: str = typer.Option(None, "--until", help="To this day, inclusive."),
    limit: int = typer.Option(50, "--limit", "-n", help="Entries per page (1-500)."),
    before: int = typer.Option(None, "--before", help="Page on: entries older than this "
                               "sequence number (the previous page's next_before)."),
    csv_file: Path = typer.Option(None, "--csv", help="Also write every entry of the filter "
                                  "(not only this page) to this CSV file."),
    as_json: bool = JSON_OPT,
) -> None:
    """The audit trail, newest first: who did what, when, filtered; each entry's hash."""
    # lazy: certdesk.store at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store import trail
    from certdesk.store.db import session_scope

    settings, engine, _ = _stores()
    zone = ZoneInfo(settings.staff_timezone)
    q = trail.TrailQuery(actor=actor, kind=kind, subject=subject,
                         since=day_option(since, "--since"), until=day_option(until, "--until"),
                         limit=limit, before=before)
    with session_scope(engine) as s:
        result = trail.page(s, q, zone)
        rows = trail.all_entries(s, q, zone) if csv_file else None
    if rows is not None:
        csv_file.write_bytes(trail.csv_bytes(rows))
        err_console.print(f"wrote {len(rows)} entries to {csv_file}", highlight=False,
                          soft_wrap=True)

    def human(d: dict) -> None:
        table = _table("#", f"at ({settings.staff_timezone})", "by", "kind", "subject", "hash")
        for e in result.entries:
            table.add_row(str(e.seq), f"{e.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", e.actor,
                          e.kind, e.subject, e.hash[:12])
        console.print(table)
        if d["next_before"]:
            console.print(f"more: --before {d['next_before']}", highlight=False)

    emit(result.as_dict(), as_json, human)


# -- retention -----------------------------------------------------------------------------------

@retention_app.command("due")
def retention_due(
    profile: str = typer.Option(None, "--profile", "-p", help="Only this body profile."),
    on: str = typer.Option(None, "--on", help="As of this date (YYYY-MM-DD; default today)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Records whose retention period has ended, each with why (rule, anchor date, period,
    clause); records under a legal hold are listed as held."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.disposal import due_records
    from certdesk.store.db import session_scope

    day = day_option(on, "--on") or date.today()
    profiles = install_profiles()
    if profile:
        profiles.get(profile)
    _, engine, _ = _stores()
    with session_scope(engine) as s:
        rows = due_records(s, profiles, day, profile)

    def human(d: dict) -> None:
        table = _table("id", "type", "client", "certificate", "kept until", "why", "hold")
        for r in d["due"]:
            table.add_row(str(r["id"]), r["record_type"], r["client"] or "",
                          r["certificate"] or "", str(r["retain_until"]), r["why"],
                          ", ".join(map(str, r["holds"])) or "")
        console.print(table)
        console.print(f"{len(d['due'])} record(s) due on {d['on']}", highlight=False)

    emit({"on": day, "due": rows}, as_json, human)


# -- holds -----------------------------------------------------------------------------------------

def _holds_out(holds: list, as_json: bool, verb: str) -> None:
    def human(d: dict) -> None:
        for h in d["holds"]:
            console.print(f"hold {h['id']} {verb}: {h['client'] or h['certificate']} — "
                          f"{h['reason']}", highlight=False)

    emit({"holds": holds}, as_json, human)


@hold_app.command("add")
def hold_add(client: str = CLIENT_OPT, certificate: str = CERT_OPT, reason: str = REASON_OPT,
             who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Place a legal hold on a client's or a certificate's records (its subs included)."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.disposal import hold_dict, place_hold
    from certdesk.store.db import session_scope

    by = acting(who, "records")
    _, engine, _ = _stores()
    with session_scope(engine) as s:
        holds = [hold_dict(place_hold(s, client=client, certificate=certificate,
                                      reason=reason, by=by))]
    _holds_out(holds, as_json, "placed")


@hold_app.command("release")
def hold_release(client: str = CLIENT_OPT, certificate: str = CERT_OPT,
                 reason: str = REASON_OPT, who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Release the active holds on a client or a certificate."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.disposal import hold_dict, release_hold
    from certdesk.store.db import session_scope

    by = acting(who, "records")
    _, engine, _ = _stores()
    with session_scope(engine) as s:
        holds = [hold_dict(h) for h in release_hold(s, client=client, certificate=certificate,
                                                     reason=reason, by=by)]
    _holds_out(holds, as_json, "released")


@hold_app.command("list")
def hold_list(all_holds: bool = typer.Option(False, "--all", help="Released holds too."),
              as_json: bool = JSON_OPT) -> None:
    """List legal holds (active ones unless --all)."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from sqlmodel import col, select

    from certdesk.services.disposal import hold_dict
    from certdesk.store.db import session_scope
    from certdesk.store.models import Hold

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        query = select(Hold).order_by(col(Hold.id))
        if not all_holds:
            query = query.where(col(Hold.released_at).is_(None))
        holds = [hold_dict(h) for h in s.exec(query)]
    _holds_out(holds, as_json, "active")


# -- disposal ----------------------------------------------------------------------------------

def _disposal_out(d: dict, as_json: bool) -> None:
    def human(d: dict) -> None:
        decided = f", decided by {d['decided_by']}" if d["decided_by"] else ""
        console.print(f"disposal {d['id']}: [bold]{d['status']}[/] (proposed by "
                      f"{d['proposed_by']}{decided})", highlight=False)
        for r in d["records"]:
            console.print(f"  record {r['id']} {r['record_type']} {r['filename']}: kept until "
                          f"{r['retain_until']} [{r['clause']}]", highlight=False)

    emit(d, as_json, human)


@dispose_app.command("propose")
def dispose_propose(
    record_ids: list[int] = typer.Argument(..., help="Ids of records whose period has ended."),
    who: str = AS_OPT,
    reason: str = REASON_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Propose disposing of records; refused if any is under hold or not yet due."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.disposal import disposal_dict, propose
    from certdesk.store.db import session_scope

    by = acting(who, "records", accounts_required=True)
    _, engine, _ = _stores()
    with session_scope(engine) as s:
        d = disposal_dict(s, propose(s, install_profiles(), record_ids, by=by, reason=reason,
                                       today=date.today()))
    _disposal_out(d, as_json)


@dispose_app.command("approve")
def dispose_approve(
    disposal_id: int = typer.Argument(..., help="The proposal's id."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Approve a proposal (a second officer): every record is checked again, a signed
    disposal certificate is archived, the blobs are erased and tombstones stay."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.documents.convert import ConverterPool
    from certdesk.services.disposal import approve, disposal_dict
    from certdesk.services.publisher import Publisher
    from certdesk.store.db import session_scope
    from certdesk.store.models import Disposal
    from certdesk.web.staff.accounts import check_second_officer

    by = acting(who, "records", accounts_required=True)
    settings, engine, _ = _stores()
    check_second_officer(engine, disposal_id, by)
    # approve() refuses (wrong officer, not due, held) before anything is converted, and
    # the pool starts LibreOffice only on its first conversion.
    with ConverterPool(size=1, settings=settings) as pool, \
            Publisher(settings=settings, engine=engine, pool=pool) as publisher:
        done = approve(publisher, disposal_id, by=by, today=date.today())
    with session_scope(engine) as s:
        # The proposal's record lines win over the bare ids ``done`` lists (printed below).
        d = {**done.as_dict(), **disposal_dict(s, s.get_one(Disposal, disposal_id))}
    _disposal_out(d, as_json)
    if done.not_erased:
        err_console.print(f"[yellow]{len(done.not_erased)} blob(s) not erased yet[/]: "
                          "run certdesk archive recover", highlight=False)
        raise typer.Exit(1)


@dispose_app.command("reject")
def dispose_reject(disposal_id: int = typer.Argument(..., help="The proposal's id."),
                   who: str = AS_OPT, reason: str = REASON_OPT,
                   as_json: bool = JSON_OPT) -> None:
    """Reject a proposal (a second officer); nothing is disposed of."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.services.disposal import disposal_dict, reject
    from certdesk.store.db import session_scope
    from certdesk.web.staff.accounts import check_second_officer

    by = acting(who, "records", accounts_required=True)
    _, engine, _ = _stores()
    check_second_officer(engine, disposal_id, by)
    with session_scope(engine) as s:
        d = disposal_dict(s, reject(s, disposal_id, by=by, reason=reason))
    _disposal_out(d, as_json)


@dispose_app.command("list")
def dispose_list(status: str = typer.Option(None, "--status",
                                            help="proposed | approved | rejected"),
                 as_json: bool = JSON_OPT) -> None:
    """List disposal proposals and disposals."""
    # lazy: certdesk.services.disposal at module top adds ~2.6 s to `certdesk --help`
    from sqlmodel import col, select

    from certdesk.services.disposal import disposal_dict
    from certdesk.store.db import session_scope
    from certdesk.store.models import Disposal

    _, engine, _ = _stores()
    with session_scope(engine) as s:
        query = select(Disposal).order_by(col(Disposal.id))
        if status:
            query = query.where(Disposal.status == status)
        rows = [disposal_dict(s, d) for d in s.exec(query)]

    def human(d: dict) -> None:
        table = _table("id", "status", "records", "proposed by", "decided by", "reason")
        for r in d["disposals"]:
            table.add_row(str(r["id"]), r["status"], str(len(r["records"])), r["proposed_by"],
                          r["decided_by"] or "", r["reason"])
        console.print(table)

    emit({"disposals": rows}, as_json, human)


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
    app.add_typer(log_app, name="log")
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
    app.add_typer(dispose_app, name="dispose")

    @app.command("export")
    def export_cmd(
        client: str = typer.Option(..., "--client", help="Client's unified social credit code."),
        out: Path = typer.Option(None, "--out", "-o", help="Folder for the bag (new or empty; "
                                 "default HOME/out/export-USCC-TIMESTAMP)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Export a client's whole file as a BagIt bag (records, metadata JSON, sha256
        manifests)."""
        # lazy: certdesk.store.export at module top adds ~0.6 s to `certdesk --help`
        from certdesk.store.db import session_scope
        from certdesk.store.export import export_client

        settings, engine, store = _stores()
        target = out or settings.out_dir / f"export-{client}-{datetime.now():%Y%m%d-%H%M%S}"
        with session_scope(engine) as s:
            result = export_client(s, store, install_profiles(), client, target)
        emit(result.as_dict(), as_json, lambda d: console.print(
            f"bag {d['bag']}: {d['records']} record(s), {d['files']} file(s), "
            f"{d['certificates']} certificate(s), {d['events']} log entries", highlight=False))
