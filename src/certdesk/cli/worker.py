"""``certdesk worker``: runs the staff desk's background jobs (web batches of issues and
certification decisions) from the job queue, for installs whose web processes do not run
them themselves (``CERTDESK_QUEUE_IN_PROCESS=false``)."""

from __future__ import annotations

import logging

import typer

from certdesk.common.errors import InputError
from certdesk.common.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker_cmd(
        workers: int = typer.Option(1, "--workers", "-w", min=1, max=16,
                                    help="Jobs run at once (threads sharing one signing key "
                                    "and one LibreOffice pool)."),
    ) -> None:
        """Run queued jobs until stopped (Ctrl-C or SIGTERM: the jobs under way stop at
        their next safe point and end interrupted, to be run again from their page).

        The queue is CERTDESK_QUEUE_URL: by default a file beside a SQLite database, or the
        PostgreSQL database itself (then workers on several machines share it). Jobs left
        running by a process of this machine that died are marked interrupted at start.
        """
        # lazy: the services load LibreOffice's and pyHanko's modules (~1 s)
        from certdesk.services.jobs import IMMEDIATE, Jobs
        from certdesk.services.publisher import Publisher
        from certdesk.signing.keys import ca_certificate
        from certdesk.store.db import get_engine

        settings = get_settings()
        if settings.job_queue_url == IMMEDIATE:
            raise InputError("CERTDESK_QUEUE_URL is immediate: jobs run where they are "
                             "submitted, there is nothing for a worker to do")
        ca_certificate(settings)  # no keys yet: say so now, not in every job
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        engine = get_engine(settings.db_url)
        with Publisher(settings=settings, engine=engine) as publisher:
            jobs = Jobs(settings, engine, lambda: publisher)
            for job_id in jobs.recover():
                logging.getLogger("certdesk.jobs").warning(
                    "job %s: its worker had stopped; marked interrupted", job_id)
            jobs.consumer(workers).run()
