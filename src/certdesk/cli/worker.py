"""``certdesk worker``: runs the staff desk's background jobs (web batches of issues and
certification decisions, the sweep) from the job queue, for installs whose web processes
do not run them themselves (``CERTDESK_QUEUE_IN_PROCESS=false``). ``certdesk jobs``: list
them, and mark interrupted one whose machine is gone."""

from __future__ import annotations

import logging

import typer
from rich.table import Table

from certdesk.cli.identity import AS_OPT, acting
from certdesk.cli.options import JSON_OPT
from certdesk.cli.output import console, emit, say
from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.common.settings import get_settings

jobs_app = typer.Typer(help="The staff desk's background jobs: list them; mark interrupted "
                       "one whose worker's machine is gone.", no_args_is_help=True)


@jobs_app.command("list")
def list_cmd(limit: int = typer.Option(20, "--limit", min=1, max=1000,
                                       help="How many, newest first."),
             as_json: bool = JSON_OPT) -> None:
    """The latest jobs: kind, state, progress, account, file and the process running it."""
    # lazy: the services load LibreOffice's and pyHanko's modules (~1 s)
    from sqlmodel import Session

    from certdesk.services.jobs import KINDS
    from certdesk.store.db import get_engine, reader
    from certdesk.store.jobs import recent

    with Session(reader(get_engine(get_settings().db_url))) as s:
        rows = [{"id": j.id, "kind": j.kind, "state": j.state.value, "done": j.done,
                 "total": j.total, "account": j.account, "file": j.input_name,
                 "worker": j.worker, "created": j.created, "error": j.error}
                for j in recent(s, KINDS, limit)]

    def human(d: dict) -> None:
        # msgids of their own: in English the headers are the --json keys, lower case
        table = Table(say(N_("任务号")), say(N_("任务类型")), say(N_("任务状态")),
                      say(N_("完成进度")), say(N_("提交账户")), say(N_("文件名")),
                      say(N_("运行进程")))
        for j in d["jobs"]:
            table.add_row(str(j["id"]), j["kind"], j["state"], f"{j['done']}/{j['total']}",
                          j["account"], j["file"], j["worker"] or "—")
        console.print(table)

    emit({"jobs": rows}, as_json, human)


@jobs_app.command("interrupt")
def interrupt_cmd(job_id: int = typer.Argument(..., help="The job's number (任务 #N)."),
                  who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Mark interrupted a running job whose worker will not come back (its machine is
    gone: a worker of this machine that died is found by itself), or a queued one the
    queue lost (a database restored without its queue file). It can then be run again from
    its page; issuing skips the organisations already certified. Admins only; logged.
    """
    from certdesk.services.jobs import abandon
    from certdesk.store.db import get_engine

    actor = acting(who, "users")
    worker = abandon(get_engine(get_settings().db_url), job_id, actor)
    emit({"id": job_id, "state": "interrupted", "worker": worker}, as_json,
         lambda d: console.print(say(N_("任务 {id} 已标记为中断（其进程为 {worker}）"),
                                     id=d["id"], worker=d["worker"]), highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")

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
            raise InputError(N_("CERTDESK_QUEUE_URL 为 immediate：任务在提交处运行，"
                                "worker 无事可做"))
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
