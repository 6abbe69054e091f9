"""``certdesk backup`` and ``certdesk restore``: a consistent copy of the whole desk, taken
while it is in use, and back into an empty home (docs/records.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from certdesk.cli.options import JSON_OPT, install_profiles
from certdesk.cli.output import console, emit
from certdesk.common.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(
        dest: Path = typer.Argument(..., help="A new or empty folder for the backup."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Copy the desk while it is in use: the database first (one consistent snapshot),
        then the blobs of every record in it, then the keys, with a manifest of sha256s.

        Blobs in an S3 store stay there (object lock keeps them); the manifest lists them.
        """
        # lazy: certdesk.store.db at module top adds ~0.5 s to `certdesk --help`
        from certdesk.store.backup import backup
        from certdesk.store.blobs import open_store
        from certdesk.store.db import get_engine

        settings = get_settings()
        result = backup(settings, get_engine(settings.db_url), open_store(settings), dest)
        emit(result.as_dict(), as_json, lambda d: console.print(
            f"backup {d['dest']}: {d['database']} database up to log entry {d['log_head']}, "
            f"{d['records']} record(s), {d['blobs']} blob(s) copied, {d['keys']} key file(s)",
            highlight=False))

    @app.command("restore")
    def restore_cmd(
        src: Path = typer.Argument(..., help="A folder made by certdesk backup."),
        by: str = typer.Option("records", "--by", help="Who restores (logged)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Restore a backup into an empty CERTDESK_HOME (and empty database), then audit it.

        The manifest is checked before anything is written; a non-empty home is refused.
        Numbers that were being issued when the backup was taken are voided ("interrupted")
        in the copy. Exit 1 if the audit finds a problem.
        """
        # lazy: certdesk.services.audit at module top adds ~2.0 s to `certdesk --help`
        from certdesk.services.audit import audit
        from certdesk.store.backup import restore
        from certdesk.store.blobs import open_store
        from certdesk.store.db import get_engine, make_engine, session_scope
        from certdesk.store.numbers import void_unaccounted

        settings = get_settings()
        profiles = install_profiles()
        new_home = not settings.home.exists()
        bare = make_engine(settings.db_url)  # makes the home and an empty, private SQLite file
        try:
            restored = restore(settings, bare, src)
        except BaseException:
            if new_home:  # refused before writing: leave no trace of the attempt
                shutil.rmtree(settings.home, ignore_errors=True)
            raise
        finally:
            bare.dispose()
        engine = get_engine(settings.db_url)  # brings an older backup's schema up to date
        with session_scope(engine) as s:
            voided = void_unaccounted(s, by, profiles, in_flight_too=True, why="restore")
        with session_scope(engine) as s:
            report = audit(s, open_store(settings), profiles)
        data = {**restored, "voided": voided, "audit": report.as_dict()}

        def human(d: dict) -> None:
            a = d["audit"]
            verdict = "[green]clean[/]" if a["ok"] else f"[red]{a['problems']} problem(s)[/]"
            console.print(f"restored {d['source']}: {d['records']} record(s), {d['blobs']} "
                          f"blob(s), {d['keys']} key file(s); {len(d['voided'])} number(s) "
                          f"in flight voided; audit: {verdict} (certdesk archive audit "
                          "shows details)", highlight=False)

        emit(data, as_json, human)
        if not report.ok:
            raise typer.Exit(1)
