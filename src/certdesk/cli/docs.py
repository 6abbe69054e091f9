"""Staff commands for documents: ``render`` (any document kind, one or many records, to
unsigned PDF/A drafts) and ``templates list`` / ``templates check``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from certdesk.cli.options import JSON_OPT, chosen_profiles, install_profiles
from certdesk.cli.output import console, emit, err_console, lang
from certdesk.common.errors import CertdeskError, InputError
from certdesk.common.i18n import shown
from certdesk.common.settings import get_settings
from certdesk.common.signals import stop_on_signals
from certdesk.documents.records import load_records

SHOW_EACH = 20
"""Up to this many documents each PDF is listed; beyond, the folder and the count."""

templates_app = typer.Typer(help="Word templates: which document uses which, and lint them.",
                            no_args_is_help=True)


class DocsPerSecond(ProgressColumn):
    """Documents per second since the start (a record may make several documents)."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.documents = 0

    def render(self, task) -> Text:
        rate = self.documents / max(time.monotonic() - self.started, 1e-6)
        return Text(f"{rate:.1f} docs/s" if self.documents else "", style="progress.data.speed")


def _render(kind_name: str, profile_id: str, input_file: Path, out: Path | None,
            as_json: bool) -> None:
    # lazy: certdesk.documents.kinds at module top adds ~0.6 s to `certdesk --help`
    from certdesk.documents.batch import render_batch
    from certdesk.documents.convert import ConverterPool
    from certdesk.documents.kinds import kind as find_kind

    kind = find_kind(kind_name)
    profile = install_profiles().get(profile_id)
    profile.template_path(kind.id)  # a missing template: say so before reading the input
    records = load_records(input_file)
    settings = get_settings()
    out_dir = (out or settings.out_dir / "drafts").resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write to {out_dir}: {exc.strerror}") from None
    rate = DocsPerSecond()
    # The bar is for people watching a batch; scripts and single documents get no redraws.
    show_bar = len(records) > 1 and err_console.is_terminal
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), rate, TimeElapsedColumn(), TextColumn("eta"),
                        TimeRemainingColumn(), console=err_console, disable=not show_bar)
    # SIGTERM stops a render like Ctrl-C (finish what is under way, report, exit 143)
    # instead of killing certdesk between a conversion and its file.
    with stop_on_signals() as received, ConverterPool(settings=settings) as pool, progress:
        task = progress.add_task(f"{kind.id} ({profile.id})", total=len(records))

        def on_done(record: str, documents: int, error: str | None) -> None:
            rate.documents += documents
            progress.advance(task)
            if error and not as_json and len(records) > 1:
                err_console.print(f"[red]failed:[/] {escape(shown(error, lang()))}",
                                  highlight=False, soft_wrap=True)

        result = render_batch(kind, profile, records, out_dir, pool, settings=settings,
                              source=Path(input_file).name, on_done=on_done)
    if len(records) == 1 and result.failed and not as_json:
        # one record: its error is the command's
        raise CertdeskError(shown(result.failed[0].reason, lang()))
    data = {
        "kind": kind.id, "profile": profile.id, "out_dir": str(out_dir),
        "signed": False,
        "documents": [r.as_dict() for r in result.rendered],
        "failed": [{**f.as_dict(), "record": shown(f.record, lang()),
                    "reason": shown(f.reason, lang())} for f in result.failed],
        "summary": {"records": len(records), "documents": len(result.rendered),
                    "failed": len(result.failed), "interrupted": result.interrupted},
    }

    def human(d: dict) -> None:
        if len(d["documents"]) <= SHOW_EACH:
            for doc in d["documents"]:
                console.print(f"[green]rendered[/] {doc['pdf']}", highlight=False,
                              soft_wrap=True)
        s = d["summary"]
        console.print(f"{s['documents']} document(s) in {d['out_dir']} — unsigned PDF/A-2b "
                      f"drafts; {s['failed']} of {s['records']} record(s) failed"
                      + (" (interrupted)" if s["interrupted"] else ""), highlight=False,
                      soft_wrap=True)
        for f in d["failed"]:
            console.print(f"[red]failed[/] {escape(f['reason'])}", highlight=False,
                          soft_wrap=True)

    emit(data, as_json, human)
    if result.interrupted:
        raise typer.Exit(received.exit_code)
    if result.failed:
        raise typer.Exit(1)


@templates_app.command("list")
def templates_list(
    profile: str | None = typer.Option(None, "--profile", "-p", help="Only this profile."),
    as_json: bool = JSON_OPT,
) -> None:
    """Show every document kind, its title and the template each profile uses for it."""
    # lazy: certdesk.documents.kinds at module top adds ~0.6 s to `certdesk --help`
    from certdesk.documents.kinds import KINDS
    from certdesk.documents.schema import describe

    profiles = chosen_profiles(profile)
    data: dict[str, Any] = {"kinds": []}
    for kind in KINDS.values():
        uses = {}
        for p in profiles:
            titles = p.templates.get("titles", {})
            uses[p.id] = {"template": p.templates.get(kind.id),
                          "title": titles.get(kind.id, kind.title)}
        data["kinds"].append({"id": kind.id, "title": kind.title, "summary": kind.summary,
                              "profiles": uses, "context": describe(kind.schema),
                              "fields": sorted(kind.fields)})

    def human(d: dict) -> None:
        table = Table("kind", "what", "template (profiles)")
        for k in d["kinds"]:
            by_template: dict[str, list[str]] = {}
            for pid, use in k["profiles"].items():
                by_template.setdefault(use["template"] or "MISSING", []).append(pid)
            table.add_row(k["id"], k["summary"], "\n".join(
                f"{t}" + ("" if len(ps) == len(k["profiles"]) else f" ({', '.join(ps)})")
                for t, ps in by_template.items()))
        console.print(table)

    emit(data, as_json, human)


@templates_app.command("check")
def templates_check(
    profile: str | None = typer.Option(None, "--profile", "-p", help="Only this profile."),
    file: Path | None = typer.Option(None, "--file", "-f", help="Lint this .docx instead "
                                     "(an edited copy, before installing it); needs --kind."),
    kind: str | None = typer.Option(None, "--kind", "-k", help="Document kind of --file."),
    as_json: bool = JSON_OPT,
) -> None:
    """Lint templates: missing context keys, tags split across runs, curly quotes.

    Exit 1 and list each problem (template and tag) when there is any.
    """
    # lazy: certdesk.documents.lint at module top adds ~0.6 s to `certdesk --help`
    from certdesk.documents.kinds import kind as find_kind
    from certdesk.documents.lint import CheckReport, check_profiles, lint_template

    if file is not None:
        if kind is None:
            raise InputError("--file needs --kind (which document the template is for)")
        if not file.is_file():
            raise InputError(f"cannot read {file}: no such file")
        k = find_kind(kind)
        report = CheckReport({file.name: [k.id]}, lint_template(file, k.schema, file.name))
    elif kind is not None:
        raise InputError("--kind applies to --file only")
    else:
        report = check_profiles(chosen_profiles(profile))

    def human(d: dict) -> None:
        for p in d["problems"]:
            tag = f" [bold]{escape(p['tag'])}[/]" if p["tag"] else ""
            console.print(f"[red]✗[/] {p['template']}:{tag} — {escape(p['message'])}",
                          highlight=False, soft_wrap=True)
        status = "[green]ok[/]" if d["ok"] else f"[red]{len(d['problems'])} problem(s)[/]"
        console.print(f"{status}: {len(d['checked'])} template(s) checked", highlight=False)

    emit(report.as_dict(), as_json, human)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command("render")
    def render_cmd(
        doc: str = typer.Argument(..., metavar="DOC", help="Document kind: programme, plan, "
                                  "report, nonconformity, decision, certificate, "
                                  "sub_certificate, site_annex, surveillance_notice, "
                                  "suspension_notice, … (certdesk templates list)."),
        profile: str = typer.Option(..., "--profile", "-p", help="Body profile id."),
        input_file: Path = typer.Option(..., "--input", "-i", help="JSON (object or list) or "
                                        "CSV of records (docs/templates.md, "
                                        "examples/documents/)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output folder "
                                        "(default: CERTDESK_HOME/out/drafts)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Render DOC for every record of FILE to unsigned PDF/A-2b drafts.

        A failing record is reported and the others go on: exit 1 if any failed.

        Ctrl-C or SIGTERM stop cleanly (exit 130). Signed records: certdesk issue / status.
        """
        _render(doc, profile, input_file, out, as_json)

    app.add_typer(templates_app, name="templates")
