"""Independent jobs on a few threads: one failure never stops the others, and Ctrl-C starts
no new job while those under way finish. Issuing and draft rendering both run this way."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from certdesk.common.failures import known_failure
from certdesk.common.i18n import Said

J = TypeVar("J")


def reason(exc: BaseException) -> str:
    """The one line a failed job is reported with (a ``Said``: shown in its reader's
    language)."""
    known = known_failure(exc)
    if known is None:
        return f"internal error: {type(exc).__name__}: {exc}"
    return Said(known.msgid, **known.params) if known.msgid else str(known)


def run_jobs(jobs: Iterable[J], work: Callable[[J], object], workers: int,
             on_outcome: Callable[[J, Future], None], *, name: str = "job",
             on_interrupt: Callable[[KeyboardInterrupt], None] | None = None,
             on_second_interrupt: Callable[[], None] | None = None) -> bool:
    """Run ``work(job)`` for every job; ``on_outcome(job, future)`` in this thread after each.

    Returns True when Ctrl-C (or SIGTERM, see ``common.signals``) stopped the batch: jobs
    not started are dropped, ``on_interrupt(exc)`` is told (it may ask the running jobs to
    stop at their next safe point), and those under way are waited for and reported. A
    second Ctrl-C while waiting calls ``on_second_interrupt`` (which must make the running
    jobs end soon), or is raised.
    """
    interrupted = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as ex:
        pending = {ex.submit(work, job): job for job in jobs}

        def drain() -> None:
            for fut in list(pending):
                wait([fut])
                on_outcome(pending.pop(fut), fut)

        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    on_outcome(pending.pop(fut), fut)
        except KeyboardInterrupt as exc:
            interrupted = True
            if on_interrupt is not None:
                on_interrupt(exc)
            for fut in list(pending):
                if fut.cancel():
                    pending.pop(fut)
            try:
                drain()
            except KeyboardInterrupt:
                if on_second_interrupt is None:
                    raise
                on_second_interrupt()
                drain()
    return interrupted
