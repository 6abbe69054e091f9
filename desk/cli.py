"""``certdesk``: the staff command line.

Every command takes ``--help``; data-producing commands take ``--json``. Expected failures
are ``CertdeskError`` and become one line on stderr with a non-zero exit (``main``).
"""

from __future__ import annotations

import sys

import typer

from common.errors import CertdeskError
from desk.options import JSON_OPT
from desk.output import emit, fail

app = typer.Typer(
    name="certdesk",
    help="Produce, sign, publish and keep certification records (GB/T 27922 after-sales service).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown joins the lines of a docstring paragraph, so help text wraps to the terminal
    # instead of breaking where the source line ended.
    rich_markup_mode="markdown",
)

@app.callback()
def _root() -> None:
    """certdesk: certification records for after-sales service certification bodies."""




@app.command("profiles")
def profiles_cmd(as_json: bool = JSON_OPT) -> None:
    """List the body profiles (bodies and schemes) this install knows."""
    from templates.profiles import all_profiles

    data = {"profiles": [p.summary() for p in all_profiles()]}

    def human(d: dict) -> None:
        from rich.table import Table

        from desk.output import console

        table = Table("id", "body", "scheme", "code", "retention")
        for p in d["profiles"]:
            r = p["retention"]
            table.add_row(p["id"], p["body"], p["scheme"], f"{p['body_code']} {p['scheme_code']}",
                          r["clause"])
        console.print(table)

    emit(data, as_json, human)


def _register_subcommands() -> None:
    """Sub-apps live in their own modules (one per domain) and join here."""
    import importlib

    for module in ("desk.cli_issue", "desk.cli_status", "desk.cli_lifecycle", "desk.cli_rules",
                   "desk.cli_archive", "desk.cli_signing", "desk.cli_docs", "desk.cli_web",
                   "desk.cli_users", "desk.cli_accounts", "desk.cli_report",
                   "desk.cli_register"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(app)


_register_subcommands()


def main() -> None:
    """Console-script entry point: the boundary where errors become one line.

    Click itself answers usage errors (exit 2); a ``CertdeskError`` becomes one line; any
    other exception is a bug, still reported in one line (exit 70) rather than a traceback.
    """
    try:
        app()
    except CertdeskError as exc:
        fail(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
    except Exception as exc:
        fail(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(70)
