"""Long work as background jobs on a task queue (huey): a batch of issues from an
organisations file, a file of certification cases, the calendar sweep, an export of a
register view (the file it writes is kept in the job's row, to download).

``Jobs.submit`` stores the job (``store.jobs``: the uploaded file included) and puts its id
on the queue; a consumer — ``certdesk worker`` processes, or a thread of ``certdesk serve``
— runs it with its process's one ``Publisher`` (the signing key loaded once, signatures
serialised by its lock), writing progress as each organisation or case finishes.

Where the queue lives (``Settings.job_queue_url``): a SQLite file of its own (embedded,
workers on this machine), the PostgreSQL archive database (huey's ``PostgresStorage`` on
the ``queue_*`` tables the migrations make: workers on several machines), or ``immediate:``
(the job runs inside the call that submits it: tests).

A job outlives its process: a queued one stays on the queue until a consumer takes it;
a running one whose process died is found by ``recover`` and marked interrupted, and may
be run again — issuing skips the organisations that already hold their certificate.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from huey import MemoryHuey, PostgresHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from certdesk.common.batch import reason
from certdesk.common.errors import CertdeskError, InputError, NotFound
from certdesk.common.files import private_file
from certdesk.common.i18n import DEFAULT, LANGS, N_, shown, translate
from certdesk.common.proc import process_tag, tag_alive
from certdesk.common.settings import Settings
from certdesk.documents.records import load_records
from certdesk.services.certification import certify_cases
from certdesk.services.cycle import sweep
from certdesk.services.inputs import Rejected, load_organisations
from certdesk.services.issuing import Issuer
from certdesk.services.publisher import Publisher
from certdesk.store import events
from certdesk.store import jobs as table
from certdesk.store.blobs import open_store
from certdesk.store.db import reader, retrying, session_scope
from certdesk.store.jobs import JobState
from certdesk.store.register import (
    RegisterQuery,
    all_rows,
    export_bytes,
    holder_names,
    pdf_zip,
)

log = logging.getLogger("certdesk.jobs")

IMMEDIATE = "immediate:"
QUEUE_NAME = "certdesk"
TASK_NAME = "certdesk.job"
# A job's error is stored in Chinese (msgids: the job page translates them as it shows them).
WORKER_DIED = N_("处理该任务的进程已停止（重启或崩溃），可重新运行：已签发的组织会被跳过。")
ABANDONED = N_("任务已由管理员标记为中断（队列中已无此任务），可重新运行：已签发的组织会被跳过。")
STOPPED = N_("处理该任务的进程正在停止，任务已中断，可重新运行：已签发的组织会被跳过。")


def open_queue(settings: Settings) -> Huey:
    """The huey instance of the install's queue (see the module's docstring)."""
    url = settings.job_queue_url
    # Results live in the job table; huey's result store would only grow.
    if url == IMMEDIATE:
        return MemoryHuey(QUEUE_NAME, results=False, immediate=True)
    if url.startswith("sqlite:///"):
        path = private_file(Path(url.removeprefix("sqlite:///")))  # 0600, as the database
        return SqliteHuey(QUEUE_NAME, results=False, filename=str(path))
    if url.startswith("postgres"):
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        # The tables come from the migrations (every table under Alembic).
        return PostgresHuey(QUEUE_NAME, results=False, dsn=dsn, table_prefix="queue",
                            create_tables=False)
    raise InputError(N_("CERTDESK_QUEUE_URL“{url}”无法识别：应为 sqlite:///文件、"
                        "postgresql://… 或 immediate:。"), url=url)


def _parsed(name: str, data: bytes, load: Callable[[Path], list[Any]]) -> list[Any]:
    """The job's uploaded file read as the matching command reads a file."""
    with tempfile.TemporaryDirectory(prefix="certdesk-job-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return load(path)


Tick = Callable[..., None]
"""Called once per organisation or case finished (any outcome)."""
Lines = Callable[[str], dict[str, list[str]]]
"""A result's lines (skipped, refused, failed) in a language."""


def _in_languages(lines: Lines) -> dict[str, Any]:
    """The lines in Chinese, and under ``text`` in each other language: a job runs before
    anyone reads it, so its page picks the reader's language from those kept."""
    return {**lines(DEFAULT), "text": {lang: lines(lang) for lang in LANGS if lang != DEFAULT}}


def translated(result: dict[str, Any], lang: str) -> dict[str, list[str]]:
    """A result's lines in ``lang`` (a job finished before they were kept per language:
    as stored)."""
    kept: dict[str, list[str]] = result.get("text", {}).get(lang, result)
    return kept


def issue_result(issuer: Issuer, name: str, data: bytes, tick: Tick) -> dict[str, Any]:
    """Issue for the organisations of an uploaded file; what the job page shows."""
    records = _parsed(name, data, load_organisations)
    orgs = [r for r in records if not isinstance(r, Rejected)]
    result = issuer.issue_many(orgs, on_done=tick)

    def lines(lang: str) -> dict[str, list[str]]:
        return {"skipped": [s.text(lang) for s in result.skipped],
                "failed": [r.error.text(lang) for r in records if isinstance(r, Rejected)]
                + [f"{org}: {shown(why, lang)}" for org, why in result.failed]}

    return {"numbers": [c.number for c in result.issued],
            "mains": [c.number for c in result.issued if c.main_number is None],
            **_in_languages(lines)}


def certify_result(issuer: Issuer, name: str, data: bytes, tick: Tick) -> dict[str, Any]:
    """Certify the cases of an uploaded file; what the job page shows."""
    cases = _parsed(name, data, load_records)
    try:
        result = certify_cases(issuer, cases, name, on_done=tick)
    except CertdeskError as exc:  # a file of one case: its error is the job's failed line
        error = exc
        return {"decided": 0, "approved": 0, "records": 0, "numbers": [], "mains": [],
                **_in_languages(lambda lang: {"refused": [], "failed": [error.text(lang)]})}
    approved = [c for c in result.certified if c.approved]
    return {"decided": len(result.certified), "approved": len(approved),
            "records": sum(len(c.records) for c in result.certified),
            "numbers": [cert.number for c in approved for cert in c.certificates],
            "mains": [c.certificates[0].number for c in approved if c.certificates],
            **_in_languages(lambda lang: {
                "refused": [f"{c.name}: {c.outcome}" for c in result.certified if not c.approved],
                "failed": [translate(lang, N_("{where}：{error}"), where=where, error=why)
                           for where, why in result.failed]})}


def sweep_input(on: date) -> bytes:
    """A sweep job's input: the day it applies the calendar as of."""
    return json.dumps({"on": on.isoformat()}).encode()


def sweep_result(publisher: Publisher, account: str, data: bytes, tick: Tick) -> dict[str, Any]:
    """Apply the calendar (``cycle.sweep``: its changes are logged as "sweep"), and log who
    started it; what the job page shows."""
    on = date.fromisoformat(json.loads(data)["on"])
    actions = sweep(publisher, on, on_done=tick)
    with session_scope(publisher.engine) as s:
        events.append(s, "staff.sweep", f"sweep:{on}",
                      {"on": on, "actions": [a.as_dict() for a in actions]}, account)
    return {"on": on.isoformat(), "numbers": [a.number for a in actions],
            "actions": [a.as_dict() for a in actions], "failed": []}


def export_input(suffix: str, q: RegisterQuery, today: date) -> bytes:
    """An export job's input: the view (its filters and sort), the day its statuses are as
    of (the day the button was pressed), the format."""
    return json.dumps({"suffix": suffix, "today": today.isoformat(), "query": q.as_params()},
                      default=str).encode()


def _view(params: dict[str, Any]) -> RegisterQuery:
    """The view ``RegisterQuery.as_params`` wrote (dates as ISO text, statuses as a list)."""
    fields: dict[str, Any] = {k: date.fromisoformat(v) if k.endswith(("_from", "_to"))
                              else tuple(v) if k == "status" else v
                              for k, v in params.items()}
    return RegisterQuery(**fields)


Progress = Callable[[int, int], None]
"""Called with (rows written, rows in all) as an export writes."""


def pdfs_input(picked: list[tuple[str, str]]) -> bytes:
    """A zip export's input: the selected certificates' (number, PDF sha256), as
    ``store.register.pdf_records`` checked them when they were chosen."""
    return json.dumps({"suffix": ".zip", "pdfs": picked}).encode()


def _zip_result(engine: Engine, picked: list[tuple[str, str]], at: Progress,
                read: Callable[[str], bytes]) -> tuple[dict[str, Any], bytes]:
    with Session(engine) as s:
        names = holder_names(s, [n for n, _ in picked])
    at(0, len(picked))
    output = pdf_zip(picked, read, on_rows=lambda n: at(n, len(picked)))
    # numbers: the page links them; holders: the download's log entry names them
    return {"rows": len(picked), "suffix": ".zip", "size": len(output),
            "numbers": [n for n, _ in picked], "holders": [names[n] for n, _ in picked],
            "failed": []}, output


def export_result(engine: Engine, data: bytes, at: Progress,
                  read: Callable[[str], bytes]) -> tuple[dict[str, Any], bytes]:
    """Write the view of an export job's input (the register's own query and writer), or
    its selected PDFs as one zip (``read``: the blob store's); what the job page shows, and
    the file."""
    spec = json.loads(data)
    if spec["suffix"] == ".zip":
        return _zip_result(engine, [(n, sha) for n, sha in spec["pdfs"]], at, read)
    q, today, suffix = _view(spec["query"]), date.fromisoformat(spec["today"]), spec["suffix"]
    with Session(engine) as s:
        rows = all_rows(s, q, today)
    at(0, len(rows))
    output = export_bytes(suffix, rows, q, today, on_rows=lambda n: at(n, len(rows)))
    return {"rows": len(rows), "suffix": suffix, "size": len(output), "numbers": [],
            "failed": []}, output


ISSUING: dict[str, Callable[[Issuer, str, bytes, Tick], dict[str, Any]]] = {
    "issue": issue_result, "certify": certify_result}
"""What each kind of job that issues with a scheme's issuer runs."""
KINDS = (*ISSUING, "sweep", "export")


def abandon(engine: Engine, job_id: int, actor: str) -> str | None:
    """Mark interrupted a running job whose worker will not come back (its machine is
    gone), or a queued one whose message the queue no longer holds (a database restored
    without the queue file), logged as ``actor``; the worker it named. Safe if the message
    or the worker turns up after all: a job runs only from ``queued``, once. Refused for a
    job that has ended, or run by a process of this machine that still runs."""
    with session_scope(engine) as s:
        job = s.get(table.Job, job_id)
        if job is None:
            raise NotFound(N_("没有任务 {id}"), id=job_id)
        worker = job.worker
        if job.state in table.ENDED:
            raise InputError(N_("任务 {id} 状态为 {state}：已经结束"), id=job_id,
                             state=job.state.value)
        if worker is not None and tag_alive(worker):
            raise InputError(N_("任务 {id} 正在本机进程 {worker} 中运行，该进程仍在运行："
                                "请改为停止它（SIGTERM）"), id=job_id, worker=worker)
        table.interrupt(s, job_id, WORKER_DIED if worker else ABANDONED,
                        (JobState.QUEUED, JobState.RUNNING))
        events.append(s, "job.interrupted", f"job:{job_id}", {"worker": worker}, actor)
    return worker


class Jobs:
    """The install's job queue, as this process submits to it and runs it. ``publisher``
    gives the process's one ``Publisher`` (opened on first use)."""

    def __init__(self, settings: Settings, engine: Engine,
                 publisher: Callable[[], Publisher]) -> None:
        self.settings, self.engine, self.publisher = settings, engine, publisher
        self.reader = reader(engine)
        self.huey = open_queue(settings)
        self._task = self.huey.task(name=TASK_NAME)(self.run)
        self._lock = threading.Lock()
        self._running: set[Issuer] = set()
        self._stopping = threading.Event()

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def submit(self, kind: str, *, account: str, profile: str, input_name: str,
               input_data: bytes, total: int) -> int:
        """Store a job and queue it; its id."""
        if kind not in KINDS:
            raise InputError(N_("未知的任务类型“{kind}”。"), kind=kind)
        with session_scope(self.engine) as s:
            job_id = table.add_job(s, kind=kind, account=account, profile=profile,
                                   input_name=input_name, input_data=input_data,
                                   total=total).id
        assert job_id is not None
        self._enqueue(job_id)
        return job_id

    def rerun(self, job_id: int, account: str) -> bool:
        """Queue an interrupted or failed job again, run as ``account`` now; False when it
        is not one."""
        with session_scope(self.engine) as s:
            if not table.requeue(s, job_id, account):
                return False
        self._enqueue(job_id)
        return True

    def _enqueue(self, job_id: int) -> None:
        try:
            self._task(job_id)
        except Exception as exc:  # the queue is unreachable: the job says so, not a 500
            with session_scope(self.engine) as s:
                if table.claim(s, job_id, process_tag()):
                    table.finish(s, job_id, JobState.FAILED, error=f"无法放入任务队列：{exc}")
            raise

    # -- running ---------------------------------------------------------------------------

    def run(self, job_id: int) -> None:
        """Run one job (the queue's task); a job not queued (another worker took it, or a
        message delivered twice) is left alone."""
        with session_scope(self.engine) as s:
            if not table.claim(s, job_id, process_tag()):
                log.info("job %s: not queued, skipped", job_id)
                return
            job = s.get(table.Job, job_id)
            assert job is not None
            kind, account, profile = job.kind, job.account, job.profile
            name, data = job.input_name, job.input_data
        done = 0

        def tick(*_outcome: object) -> None:
            nonlocal done
            done += 1
            retrying(lambda: self._progress(job_id, done))

        def at(written: int, total: int) -> None:
            retrying(lambda: self._progress(job_id, written, total))

        state, result, error, output = JobState.DONE, None, None, None
        try:
            if kind == "export":  # a read: no signing key, no issuer
                result, output = export_result(self.reader, data, at,
                                               open_store(self.settings).read)
            elif kind == "sweep":  # every scheme's certificates: no issuer of one
                result = sweep_result(self.publisher(), account, data, tick)
            else:
                with self._issuer(self.publisher(), profile, account) as issuer:
                    result = ISSUING[kind](issuer, name, data, tick)
            # Stopped with organisations left undone (they fail as "interrupted"): to re-run.
            if self._stopping.is_set() and result["failed"]:
                state, error = JobState.INTERRUPTED, STOPPED
        except CertdeskError as exc:
            state, error = JobState.FAILED, str(exc)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            state, error = JobState.FAILED, reason(exc)
        retrying(lambda: self._finish(job_id, state, result, error, output))

    def _progress(self, job_id: int, done: int, total: int | None = None) -> None:
        with session_scope(self.engine) as s:
            table.progress(s, job_id, done, total)

    def _finish(self, job_id: int, state: JobState, result: dict[str, Any] | None,
                error: str | None, output: bytes | None = None) -> None:
        with session_scope(self.engine) as s:
            table.finish(s, job_id, state, result=result, error=error, output=output)

    @contextmanager
    def _issuer(self, publisher: Publisher, profile: str, account: str) -> Iterator[Issuer]:
        """An issuer on the shared publisher that ``stop`` can reach."""
        with Issuer(publisher.profiles.get(profile), actor=account, shared=publisher) as iss:
            with self._lock:
                if self._stopping.is_set():
                    iss.stop()
                self._running.add(iss)
            try:
                yield iss
            finally:
                with self._lock:
                    self._running.discard(iss)

    def stop(self) -> None:
        """Ask the running jobs to stop at their next safe point: the organisations under
        way have their numbers voided, and each job ends interrupted (to run again)."""
        with self._lock:
            self._stopping.set()
            for issuer in self._running:
                issuer.stop()

    def recover(self) -> list[int]:
        """Mark interrupted the running jobs whose process on this machine is gone; their
        ids. (A job running on another machine is left to that machine's workers.)"""
        with Session(self.reader) as s:  # a read first: job pages call this as they poll
            dead = [job_id for job_id, worker in table.running(s)
                    if worker is None or tag_alive(worker) is False]
        if not dead:
            return []
        with session_scope(self.engine) as s:
            return [job_id for job_id in dead if table.interrupt(s, job_id, WORKER_DIED)]

    def consumer(self, workers: int = 1, *, in_thread: bool = False) -> Consumer:
        """A huey consumer running this queue's jobs in ``workers`` threads. ``in_thread``:
        one started from a server's start-up, which leaves signals to the server."""
        # An idle worker looks at the queue at least every second (huey backs off to 10 s:
        # a job page would wait that long to start). No task is scheduled for later, so
        # the scheduler, which would otherwise lock the queue each second, wakes rarely.
        return _Consumer(self, in_thread, self.huey, workers=workers, worker_type="thread",
                         periodic=False, check_worker_health=True, max_delay=1.0,
                         scheduler_interval=60)


class _Consumer(Consumer):
    """Stopping asks the running jobs to stop at their next safe point, then waits for
    them: a job ends interrupted with its numbers voided, never cut off mid-record."""

    def __init__(self, jobs: Jobs, in_thread: bool, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs, self.in_thread = jobs, in_thread

    def _set_signal_handlers(self) -> None:
        if not self.in_thread:  # signal handlers can be set in the main thread only
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self.jobs.stop()
        super().stop(graceful=True)
