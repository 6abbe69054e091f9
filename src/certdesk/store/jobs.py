"""The ``job`` table: long work the staff desk hands to the task queue (a batch of issues,
a file of certification cases), with its state, progress and result in typed columns.

The queue (huey) carries only the job's id; everything a run needs — the uploaded file
itself — is here, so a job whose worker died can be run again from its row. State moves
``queued → running → done | failed | interrupted``; an interrupted or failed job may be
queued again. Each move is one conditional UPDATE, so two workers handed the same id (a
re-delivered message, a double click on "run again") never both run it."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, LargeBinary, Text, update
from sqlalchemy.orm import defer
from sqlmodel import Column, Field, Session, SQLModel, col, select

from certdesk.store.models import utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


STATE_TYPE = Enum(JobState, name="ck_job_state", native_enum=False, create_constraint=True,
                  length=16, values_callable=lambda e: [m.value for m in e])
"""A VARCHAR with a CHECK constraint, as ``certificate.status`` (no PostgreSQL enum type)."""
ENDED = (JobState.DONE, JobState.FAILED, JobState.INTERRUPTED)
RERUNNABLE = (JobState.FAILED, JobState.INTERRUPTED)


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    """issue | certify | sweep | export: what the job does (the services' ``jobs.KINDS``)."""
    state: JobState = Field(default=JobState.QUEUED, index=True, sa_type=STATE_TYPE)
    total: int = 0
    """Organisations or cases in the file (an export: rows of the view); ``done`` of them
    have finished (any outcome)."""
    done: int = 0
    account: str = Field(max_length=32, index=True)
    """The staff account that started it: the actor of everything it logs."""
    profile: str = Field(max_length=32)
    input_name: str
    """The uploaded file's own name (its records' errors name it)."""
    input_data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    worker: str | None = Field(default=None, max_length=128)
    """``host:pid:start`` of the process running it (``common.proc.process_tag``)."""
    created: datetime = Field(default_factory=utcnow, index=True)
    started: datetime | None = None
    finished: datetime | None = None
    result_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """What the run found: numbers issued, organisations skipped, failed lines (JSON)."""
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Why the whole job failed (one line), when it did."""
    output: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """The file an export job wrote (downloaded as ``input_name``): in the row, as the
    uploaded file is — 100,000 rows of ``.xlsx`` are a few MB."""

    @property
    def result(self) -> dict[str, Any]:
        return dict(json.loads(self.result_json)) if self.result_json else {}


WITHOUT_FILES = (defer(Job.input_data), defer(Job.output))  # type: ignore[arg-type]
"""Load options for a job's page or list: its files (MB) are read only to download."""


def output(s: Session, job_id: int) -> bytes | None:
    """The file a job wrote, if any."""
    return s.exec(select(Job.output).where(Job.id == job_id)).first()


def add_job(s: Session, *, kind: str, account: str, profile: str, input_name: str,
            input_data: bytes, total: int) -> Job:
    job = Job(kind=kind, account=account, profile=profile, input_name=input_name,
              input_data=input_data, total=total)
    s.add(job)
    s.flush()
    return job


def _move(s: Session, job_id: int, sources: tuple[JobState, ...], **values: Any) -> bool:
    """Set ``values`` if the job is in one of ``sources``; whether it was."""
    result = s.execute(update(Job).where(col(Job.id) == job_id, col(Job.state).in_(sources))
                       .values(**values))
    return bool(getattr(result, "rowcount", 0))


def claim(s: Session, job_id: int, worker: str) -> bool:
    """Mark a queued job running in ``worker``; False when it is not queued (another worker
    has it, or it has ended)."""
    return _move(s, job_id, (JobState.QUEUED,), state=JobState.RUNNING, worker=worker,
                 started=utcnow(), finished=None, done=0, error=None, result_json=None,
                 output=None)


def progress(s: Session, job_id: int, done: int, total: int | None = None) -> None:
    """``done`` finished; ``total`` when the run counted it (an export's rows)."""
    extra = {} if total is None else {"total": total}
    s.execute(update(Job).where(col(Job.id) == job_id).values(done=done, **extra))


def finish(s: Session, job_id: int, state: JobState, *, result: dict[str, Any] | None = None,
           error: str | None = None, output: bytes | None = None) -> bool:
    """End a running job in ``state`` with its result or error (and the file it wrote)."""
    return _move(s, job_id, (JobState.RUNNING,), state=state, finished=utcnow(), error=error,
                 output=output, result_json=None if result is None
                 else json.dumps(result, ensure_ascii=False, default=str))


def requeue(s: Session, job_id: int, account: str) -> bool:
    """Queue an interrupted or failed job again, as ``account`` (who re-runs it is the actor
    of what it now does); False when it is in another state."""
    return _move(s, job_id, RERUNNABLE, state=JobState.QUEUED, account=account, worker=None,
                 started=None, finished=None)


def interrupt(s: Session, job_id: int, why: str,
              sources: tuple[JobState, ...] = (JobState.RUNNING,)) -> bool:
    """Mark a running job interrupted (its worker is gone), or one in ``sources``."""
    return _move(s, job_id, sources, state=JobState.INTERRUPTED, finished=utcnow(), error=why)


def running(s: Session) -> list[tuple[int, str | None]]:
    """(id, worker) of every running job."""
    rows = s.exec(select(Job.id, Job.worker).where(Job.state == JobState.RUNNING)).all()
    return [(int(i), w) for i, w in rows if i is not None]


def recent(s: Session, kinds: tuple[str, ...], limit: int = 50) -> list[Job]:
    """The newest jobs of ``kinds``, without their files."""
    return list(s.exec(select(Job).options(*WITHOUT_FILES)
                       .where(col(Job.kind).in_(kinds)).order_by(col(Job.id).desc())
                       .limit(limit)))
