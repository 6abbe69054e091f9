"""Staff commands for certificates: issue, certify, demo, verify, number."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import DRY_RUN_OPT, JSON_OPT, install_profiles
from certdesk.cli.output import console, emit, err_console, lang, say, warn, warn_if_qr_unreachable
from certdesk.common.errors import AlreadyHeld, InputError, TooComplex, VerificationFailed
from certdesk.common.files import read_bytes, write_atomically
from certdesk.common.i18n import N_, shown
from certdesk.common.settings import get_settings
from certdesk.common.signals import stop_on_signals
from certdesk.documents.records import load_records
from certdesk.domain.numbering import parse
from certdesk.services.inputs import Rejected, load_organisations, parse_json

number_app = typer.Typer(help="Certificate numbers: parse and check.", no_args_is_help=True)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), console=err_console,
                    transient=False)


@dataclass
class _Issued:
    """What one ``issue`` run did (or, dry, would do: ``rows``)."""

    failed: list[tuple[str, str]]
    certs: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    interrupted: bool = False


def run_issue(profile_id: str, records: list, as_json: bool, actor: str = "issuer",
              dry_run: bool = False, *, allow_unverified: bool = False) -> None:
    """Issue for each parsed record; records rejected by validation are reported in place.

    An organisation that already holds a current certificate of the scheme is skipped and
    reported, so a batch (or the demo) can be run again safely."""
    # lazy: certdesk.services.issuing at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.issuing import Issuer

    profile = install_profiles().get(profile_id)
    if len(records) == 1 and isinstance(records[0], Rejected):
        raise records[0].error  # a single record: its error is the command's error
    rejected = [r for r in records if isinstance(r, Rejected)]
    orgs = [r for r in records if not isinstance(r, Rejected)]
    run = _Issued(failed=[(r.organisation or r.where, r.error.text(lang())) for r in rejected])
    # where each failure was read: a rejected record knows; an organisation refused later
    # (by the rules, at issue time) is found by its name
    located = {r.organisation or r.where: (r.line, r.field) for r in rejected}
    located.update({o.name: (o.line, None) for o in orgs})
    warnings = [w.text(lang()) for o in orgs for w in o.warnings]
    if not as_json and not dry_run:  # a dry run lists each row's warnings with the row
        for w in warnings:
            warn(w)
    with stop_on_signals() as received, \
            Issuer(profile, actor=actor, allow_unverified=allow_unverified) as issuer, \
            _progress() as progress:
        task = progress.add_task(f"issuing {profile_id}", total=len(orgs), rate="",
                                 visible=len(records) > 1 and err_console.is_terminal
                                 and not dry_run)
        if dry_run:
            _plan(issuer, records, run)
        elif len(records) == 1:
            _issue_one(issuer, orgs[0], run)
        elif orgs:
            _issue_many(issuer, orgs, _issue_progress(progress, task, as_json), run)
    if run.certs or any(r.preview for r in run.rows):  # said only when certificates are
        # (or would be) issued: a refusal stays one line
        warn_if_qr_unreachable()
    emit(_issue_data(run, len(records), located, warnings, dry_run), as_json, _print_issued)
    if run.interrupted:
        raise typer.Exit(received.exit_code)
    if run.failed:
        raise typer.Exit(1)


def _plan(issuer, records: list, run: _Issued) -> None:
    """A dry run: each row's fate (``services.import_plan``); a single record's refusal is
    the command's error."""
    # lazy: certdesk.services.issuing at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.import_plan import plan_rows
    from certdesk.services.issuing import Skipped

    run.rows = plan_rows(issuer, records)
    if len(run.rows) == 1 and run.rows[0].error is not None:
        raise run.rows[0].error
    run.skipped = [Skipped(r.organisation, r.held_number or "", r.message)
                   for r in run.rows if r.state == "held"]
    run.failed = [(r.label, r.text(lang())) for r in run.rows if r.state == "error"]


def _issue_one(issuer, org, run: _Issued) -> None:
    """A single organisation: its error is the command's error; a skip is not an error."""
    # lazy: certdesk.services.issuing at module top adds ~2.6 s to `certdesk --help`
    from certdesk.services.issuing import Skipped

    try:
        run.certs.extend(issuer.issue(org))
    except AlreadyHeld as exc:
        run.skipped.append(Skipped(org.name, exc.number, str(exc), exc))


def _issue_many(issuer, orgs: list, on_done, run: _Issued) -> None:
    result = issuer.issue_many(orgs, on_done)
    run.certs.extend(result.issued)
    run.interrupted = result.interrupted
    run.skipped.extend(result.skipped)
    run.failed.extend(result.failed)


def _issue_progress(progress: Progress, task: TaskID, as_json: bool):
    """The batch's per-organisation callback: the bar, its rate in documents per second, and
    each failure as it happens."""
    started = time.monotonic()
    docs = 0

    def on_done(org, issued, error) -> None:
        nonlocal docs
        docs += len(issued or [])
        rate = docs / max(time.monotonic() - started, 1e-6)
        progress.update(task, advance=1, rate=f"{rate:.1f} docs/s")
        if error and not as_json:
            err_console.print(f"[red]failed:[/] {org.name}: {shown(error, lang())}",
                              highlight=False)

    return on_done


def _issue_data(run: _Issued, records: int, located: dict, warnings: list[str],
                dry_run: bool) -> dict:
    data: dict[str, Any]
    if dry_run:  # each row knows its place
        located = {r.label: (r.line, r.field) for r in run.rows}
    data = {"certificates": [c.as_dict() for c in run.certs],
            "skipped": [{**s.as_dict(), "reason": s.text(lang())} for s in run.skipped],
            "failed": [{"organisation": shown(o, lang()), "reason": shown(r, lang()),
                        "line": located.get(o, (None,))[0],
                        "field": located.get(o, (None, None))[1]} for o, r in run.failed],
            "warnings": warnings}
    if dry_run:
        data = {"dry_run": True, "rows": [r.as_dict(lang()) for r in run.rows],
                "would_issue": [r.preview.as_dict() for r in run.rows if r.preview], **data}
    if records > 1:
        data["summary"] = {"organisations": records, "certificates": len(run.certs),
                           "skipped": len(run.skipped), "failed": len(run.failed),
                           "interrupted": run.interrupted}
    return data


STATE_STYLE = {"ok": ("cyan", N_("将签发")), "held": ("yellow", N_("已持证")),
               "error": ("red", N_("有错误"))}


def _print_row(r: dict) -> None:
    """One input row of a dry run: its place, organisation and fate."""
    where = say(N_("第 {n} 行"), n=r["line"]) if r["line"] else say(N_("第 {n} 条"), n=r["row"])
    if r["state"] == "ok":
        numbers = r["numbers"]
        fate = say(N_("{number}（下一个）  {start} – {end}"), number=numbers[0],
                   start=r["issue_date"], end=r["expiry_date"])
        if len(numbers) > 1:
            fate += "  " + say(N_("+ 分证书 {n} 份"), n=len(numbers) - 1)
    elif r["state"] == "held":
        fate = say(N_("已持有 {number}"), number=r["held_number"])
    else:
        fate = (f"[{r['field']}] " if r["field"] else "") + r["message"]
    colour, state = STATE_STYLE[r["state"]]
    console.print(f"{where:<9} [{colour}]{say(state)}[/]  {escape(r['organisation'] or '-')}  "
                  f"{escape(fate)}", highlight=False)
    warning = say(N_("警告："))
    for w in r["warnings"]:
        console.print(f"          [yellow]{warning}[/] {escape(w)}", highlight=False)


def _print_issued(d: dict) -> None:
    for r in d.get("rows", ()):
        _print_row(r)
    issued, skipped, failed = say(N_("已签发")), say(N_("已跳过")), say(N_("失败"))
    for c in d["certificates"]:
        console.print(f"[green]{issued}[/] {c['number']}  {c['pdf']}", highlight=False)
    if "rows" not in d:  # a dry run's rows said these already
        for s in d["skipped"]:
            console.print(f"[yellow]{skipped}[/] {s['reason']}", highlight=False)
        for f in d["failed"]:
            console.print(f"[red]{failed}[/] {f['reason']}", highlight=False)
    if "summary" in d:
        s = d["summary"]
        counts = {k: s[k] for k in ("certificates", "skipped", "failed", "organisations")}
        line = (say(N_("{n} 个组织将签发；跳过 {skipped} 个；{organisations} 个组织中 "
                       "{failed} 个失败"), n=len(d["would_issue"]), **counts)
                if d.get("dry_run") else
                say(N_("{certificates} 张证书；跳过 {skipped} 个；{organisations} 个组织中 "
                       "{failed} 个失败"), **counts))
        console.print(line + (say(N_("（已中断）")) if s["interrupted"] else "")
                      + (say(N_("（试运行：未保存任何内容）")) if d.get("dry_run") else ""))


def show_verdict(v) -> None:
    """A genuine file's answer: the status today on the first line, then why, the
    certificate's facts and, for an approved record, each signer."""
    if v.kind == "certificate":
        colour = "green" if v.reliable_now else "red"
        today = "may be relied on today" if v.reliable_now else "NOT valid today"
        console.print(f"[{colour}]{v.status}[/] {v.headline('zh')} — genuine, {today}",
                      highlight=False)
    else:
        console.print(f"[green]genuine[/] {v.headline('zh')} ({v.kind})", highlight=False)
    console.print(f"  {v.reason.zh}", highlight=False)
    if v.kind == "certificate":
        console.print(f"  {v.number} {v.holder}, {v.issue_date} – {v.expiry_date}",
                      highlight=False)
        if v.current_number and v.current_number != v.number:
            console.print(f"  current certificate: {v.current_number}", highlight=False)
    for i, s in enumerate(v.signers, 1):
        when = f"{s.signed_at:%Y-%m-%d %H:%M %Z}" if s.signed_at else "time not stated"
        console.print(f"  {i}. {s.role} {s.name}  {when}{'  (final)' if s.final else ''}",
                      highlight=False)


def issue_cmd(
    profile: str | None = typer.Option(None, "--profile", "-p", help="Body profile id."),
    input_file: Path | None = typer.Option(None, "--input", "-i", help="JSON, CSV (UTF-8 or "
                                           "GBK) or .xlsx of organisations (see "
                                           "docs/input-format.md)."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
    dry_run: bool = DRY_RUN_OPT,
    template: Path | None = typer.Option(None, "--template", help="Write the template sheet "
                                         "(.xlsx, or .csv in UTF-8 with BOM: the Chinese "
                                         "headers and an example row) to this file, and "
                                         "issue nothing."),
) -> None:
    """Issue certificates (and one sub-certificate per site) for the organisations in FILE.

    An organisation that already holds a valid, suspended or not yet valid certificate
    of the scheme is skipped and reported (exit 0): running a file again is safe.
    `--dry-run` lists every row: what it would get, its error, or the certificate held.
    """
    if template is not None:
        _write_template(template, as_json)
        return
    if profile is None or input_file is None:
        raise typer.BadParameter("--profile and --input are required (or --template)")
    install_profiles().get(profile)  # unknown profile: say so before reading the input
    actor = acting(who, "issue")
    run_issue(profile, load_organisations(input_file), as_json, actor, dry_run)


def _write_template(path: Path, as_json: bool) -> None:
    from certdesk.services.import_template import template_bytes

    if path.exists():
        raise InputError(N_("{path}：文件已存在（模板不会覆盖文件）"), path=path)
    write_atomically(path, template_bytes(path.suffix.lower(), lang()))
    emit({"template": str(path)}, as_json,
         lambda d: console.print(say(N_("模板已写入：{path}"), path=d["template"]),
                                 highlight=False))


def certify_cmd(
    profile: str = typer.Option(..., "--profile", "-p", help="Body profile id."),
    case_file: Path = typer.Argument(..., help="A case file: one case or a list "
                                     "(JSON, see docs/lifecycle.md)."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
    dry_run: bool = DRY_RUN_OPT,
) -> None:
    """Initial certification: programme, plan, report, NC reports and decision, signed
    and archived, then the certificate and sub-certificates if the decision approves.

    Everything is checked first (decision makers must not have audited, the decision
    must follow the audit, a failing score cannot be recommended): a case that breaks
    a rule stores nothing and draws no number.
    """
    # lazy: certdesk.services.certification at module top adds ~3.1 s to `certdesk --help`
    from certdesk.services.certification import certify_cases
    from certdesk.services.issuing import Issuer

    body = install_profiles().get(profile)
    actor = acting(who, "certify")
    if case_file.suffix.lower() == ".csv":
        raise InputError(f"{case_file.name}: a case file is JSON (its steps nest)")
    cases = load_records(case_file)
    # SIGTERM like Ctrl-C: the case under way voids its number, exit 143.
    with stop_on_signals(), Issuer(body, actor=actor) as issuer, _progress() as progress:
        task = progress.add_task(f"certifying {profile}", total=len(cases), rate="",
                                 visible=len(cases) > 1 and err_console.is_terminal)
        started = time.monotonic()

        def on_done(where, done, error) -> None:
            progress.update(task, advance=1)
            per_case = (time.monotonic() - started) / progress.tasks[task].completed
            progress.update(task, rate=f"{per_case:.1f} s/case")
            if error and not as_json:
                err_console.print(f"[red]failed:[/] {shown(error, lang())}", highlight=False)

        result = certify_cases(issuer, cases, case_file.name, on_done=on_done,
                               dry_run=dry_run)
    data: dict[str, Any]
    data = {"cases": [c.as_dict() for c in result.certified],
            "failed": [{"case": shown(w, lang()), "reason": shown(r, lang())}
                       for w, r in result.failed]}
    if not dry_run and any(c["certificates"] for c in data["cases"]):
        warn_if_qr_unreachable()
    if dry_run:
        data = {"dry_run": True, **data}

    def human(d: dict) -> None:
        would, ed = ("would ", "") if dry_run else ("", "d")
        for c in d["cases"]:
            colour = "yellow" if not c["approved"] else "cyan" if dry_run else "green"
            verdict = "approve" if c["approved"] else "refuse"
            console.print(f"[{colour}]{would}{verdict}{ed}[/] {c['organisation']}: "
                          f"{c['outcome']} ({c['decision_date']})", highlight=False)
            for r in c["records"]:
                console.print(f"  {would}archive{ed} {r['record_type']:<10} "
                              f"{r.get('pdf') or r['filename']}", highlight=False)
            if dry_run:
                issued = ([f"{c['certificates']['next_number']} (next)"]
                          if c["certificates"] else [])
            else:
                issued = [f"{x['number']}  {x['pdf']}" for x in c["certificates"]]
            for line in issued:
                console.print(f"  [green]{would}issue{ed}[/] {line}", highlight=False)
            for w in c["warnings"]:
                console.print(f"  [yellow]warning:[/] {w}", highlight=False)
        for f in d["failed"]:
            console.print(f"[red]failed[/] {f['reason']}", highlight=False)

    emit(data, as_json, human)
    if result.failed:
        raise typer.Exit(1)


def demo_cmd(who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Issue one XBHT certificate with three sites from bundled example data (once: a
    second run reports the certificate already held).

    The demo uses the example profile as shipped, unconfirmed values included; the
    certificate says so on the page.
    """
    text = resources.files("certdesk.cli").joinpath("demo.json").read_text(encoding="utf-8")
    run_issue("xbht", parse_json(text, "demo.json"), as_json, acting(who, "issue"),
              allow_unverified=True)


def verify_cmd(
    pdf: Path = typer.Argument(..., help="The certificate (or approved record) PDF."),
    as_json: bool = JSON_OPT,
) -> None:
    """Check that FILE is a genuine, intact, archived certificate or record, and whether
    its certificate may be relied on today.

    The first line is the status (valid, revoked, superseded …; for a record its type).
    Exit 0 when genuine — whatever the status —, 1 when tampered or unknown, or when
    the file is too complex to check within CERTDESK_UPLOAD_CHECK_SECONDS.
    """
    # lazy: certdesk.services.verification at module top adds ~2.4 s to `certdesk --help`
    from certdesk.services.verification import verify_file
    from certdesk.store.db import get_engine

    data = read_bytes(pdf)
    settings = get_settings()
    try:  # the same bounded check as an upload: FILE may come from anyone
        verdict, _ = verify_file(data, settings, get_engine(settings.db_url))
    except TooComplex as exc:
        raise VerificationFailed(f"{pdf.name}: {exc.text(lang())}") from None
    if as_json:
        emit(verdict.as_dict(), True)
    elif verdict.genuine:
        show_verdict(verdict)
    if not verdict.genuine:
        if as_json:
            raise typer.Exit(1)
        raise VerificationFailed(f"{pdf.name}: {verdict.verdict}: {verdict.reason.zh} "
                                 f"({verdict.reason.en})")


@number_app.command("parse")
def number_parse(number: str = typer.Argument(..., help="e.g. '0273 26 FWF 0001 R0 00 -1'"),
                 as_json: bool = JSON_OPT) -> None:
    """Split a certificate number into its parts (exit 2 with the reason if invalid)."""
    n = parse(number)
    emit(n.as_dict(), as_json, lambda d: console.print(
        f"{n.format(spaced=True)}\n" + "\n".join(f"  {k}: {v}" for k, v in d.items()),
        highlight=False))


def register(app: typer.Typer) -> None:
    app.command("issue")(issue_cmd)
    app.command("certify")(certify_cmd)
    app.command("demo")(demo_cmd)
    app.command("verify")(verify_cmd)
    app.add_typer(number_app, name="number")
