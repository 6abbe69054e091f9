"""``certdesk``: the staff command line.

Every command takes ``--help``; data-producing commands take ``--json``. Expected failures
are ``CertdeskError`` and become one line on stderr with a non-zero exit (``main``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import typer

from certdesk.cli import (
    accounts,
    archive,
    backup,
    docs,
    issue,
    lifecycle,
    profiles,
    register,
    report,
    rules,
    signing,
    status,
    users,
    web,
    worker,
)
from certdesk.cli.output import fail, lang, say
from certdesk.common.errors import CertdeskError
from certdesk.common.failures import known_failure
from certdesk.common.i18n import N_

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


# Each command group lives in its own module and joins here.
for _group in (issue, status, lifecycle, rules, archive, signing, docs, web, users, accounts,
               report, register, backup, profiles, worker):
    _group.register(app)


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def main() -> None:
    """Console-script entry point: the boundary where errors become one line.

    Click itself answers usage errors (exit 2); a ``CertdeskError`` or a known condition
    (database unreachable 75, disk full 74: ``common.failures``) becomes one line; SIGINT and
    SIGTERM exit 130 and 143; any other exception is a bug, still reported in one line
    (exit 70) rather than a traceback.
    """
    code = _run()
    # Exit outside the handlers: the caught error, and the frames its traceback holds (a
    # half-read Word package among them), are freed now, not at interpreter shutdown where
    # their files may close first and print "Exception ignored" after "interrupted".
    sys.exit(code)


@lru_cache(maxsize=1)
def _command() -> Callable[[], Any]:
    """The click command tree Typer builds from ``app`` (~40 ms of signature inspection),
    once per process: whoever calls ``main`` more than once (the test suite runs commands
    in-process) reuses it."""
    return typer.main.get_command(app)


def _run() -> int:
    try:
        _command()()
    except CertdeskError as exc:
        fail(exc.text(lang()))
        return exc.exit_code
    except SystemExit as exc:
        # Typer turns Ctrl-C into a silent exit 130, for SIGTERM too (common.signals).
        if (stop := _interrupt_behind(exc)) is None:
            raise
        fail(say(N_("已中断")))
        return int(getattr(stop, "exit_code", 130))
    except Exception as exc:
        if (known := known_failure(exc)) is not None:
            fail(known.text(lang()))
            return known.exit_code
        fail(f"internal error: {type(exc).__name__}: {exc}")
        return 70
    return 0
