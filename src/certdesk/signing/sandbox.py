"""Bounded checks of files from outside: parsing runs in a worker process with limits.

pyHanko's parser is slow on hostile input: it walks padding in inflated object streams
byte by byte, so a 255 KB upload can keep a CPU busy for minutes. Every PDF that comes
from outside (``POST /verify``, ``/api/v1/verify``, ``certdesk verify FILE``) is therefore
parsed and validated in a worker process of a ``ProcessPoolExecutor`` that

* stops the check itself after ``seconds`` of wall-clock time (an interval timer raises in
  the worker, between two bytecodes of the parser),
* is killed by the kernel past ``seconds + 1`` CPU seconds (``RLIMIT_CPU``, for a loop in C
  that never returns to Python), and cannot grow by more than ``memory_mb``
  (``RLIMIT_AS``: an allocation beyond fails with MemoryError),
* is waited for at most ``seconds + GRACE`` by the caller; a worker still busy then is
  killed with its pool, and a new pool starts (so does one after a worker died).

Workers are forked from the calling process while it has a single thread (the CLI, or
``certdesk serve`` before the server starts: instant, nothing to import), else from a
forkserver that imported pyHanko once (forking a threaded web server could copy a lock
another thread holds). They are started before the first check is timed. At most ``workers`` checks
run at once; a few more may wait for a slot; beyond that a check is refused as busy, so
waiting uploads never hold the threads the other pages need.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType
from typing import Any, Generic, TypeVar, cast

from certdesk.common.errors import CheckBusy, TooComplex
from certdesk.common.settings import Settings

T = TypeVar("T")

GRACE = 2.0
"""Seconds the caller waits beyond the limit before it kills the worker itself."""

QUEUE_PER_WORKER = 2
"""Checks that may wait for a free worker, per worker, before more are refused as busy."""


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int
    workers: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.upload_check_seconds, settings.upload_check_memory_mb,
                   settings.upload_check_workers)


@dataclass(frozen=True)
class Bounded(Generic[T]):
    """A check's result and the CPU seconds it cost (what a rate limit may charge)."""

    value: T
    cpu_seconds: float


class _OutOfTime(BaseException):
    """Raised in the worker by the timer. A BaseException, so that the parser's and
    certdesk's ``except Exception`` (which turn a parse failure into a verdict) let it
    through."""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _start_worker(memory_mb: int) -> None:
    # Relative to what the worker already maps (interpreter, pyHanko): the allowance is
    # for the file being checked.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = _vm_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY
                                            else min(soft, hard), hard))
    signal.signal(signal.SIGALRM, _out_of_time)


def _out_of_time(signum: int, frame: FrameType | None) -> None:
    raise _OutOfTime


def _ready() -> bool:
    return True


def _work(fn: Callable[..., T], args: tuple, seconds: float) -> tuple[str, T | None, float]:
    """In the worker: run ``fn(*args)`` under the limits; (outcome, value, CPU seconds)."""
    started = _cpu()
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cap = math.ceil(started + seconds + 1)  # RLIMIT_CPU counts the worker's whole life
    resource.setrlimit(resource.RLIMIT_CPU, (cap if hard == resource.RLIM_INFINITY
                                             else min(cap, hard), hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            return "ok", fn(*args), _cpu() - started
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:
        return "time", None, _cpu() - started
    except MemoryError:
        return "memory", None, _cpu() - started


class Sandbox:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.workers)
        self._queued = 0
        self._pool: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., T], *args: Any) -> Bounded[T]:
        """``fn(*args)`` in a worker within the limits (``fn`` and its arguments must
        pickle). Raises ``TooComplex`` past a limit, ``CheckBusy`` when too many wait."""
        with self._lock:
            if self._queued >= self.limits.workers * (1 + QUEUE_PER_WORKER):
                raise CheckBusy("too many checks at once")
            self._queued += 1
        try:
            if not self._slots.acquire(timeout=self.limits.seconds * QUEUE_PER_WORKER):
                raise CheckBusy("no worker came free")
            try:
                return self._run(fn, args)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._queued -= 1

    def _run(self, fn: Callable[..., T], args: tuple, retried: bool = False) -> Bounded[T]:
        pool = self._executor()
        started = time.monotonic()
        future = pool.submit(_work, fn, args, self.limits.seconds)
        try:
            outcome, value, cpu = future.result(timeout=self.limits.seconds + GRACE)
        except FutureTimeout:
            self._discard(pool)
            raise TooComplex(self.limits.seconds, self.limits.seconds) from None
        except BrokenProcessPool:
            self._discard(pool)
            elapsed = time.monotonic() - started
            # Another check's worker died and took the pool with it: this one was innocent
            # and gets one more try on the new pool.
            if not retried and elapsed < self.limits.seconds:
                return self._run(fn, args, retried=True)
            raise TooComplex(self.limits.seconds, elapsed) from None
        if outcome != "ok":
            raise TooComplex(self.limits.seconds, cpu)
        return Bounded(cast(T, value), cpu)  # outcome "ok": fn's value

    def start(self) -> None:
        """Start the workers now (``certdesk serve`` does, before its threads exist)."""
        self._executor()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                ctx: multiprocessing.context.BaseContext
                if threading.active_count() == 1:
                    ctx = multiprocessing.get_context("fork")
                else:
                    ctx = multiprocessing.get_context("forkserver")
                    ctx.set_forkserver_preload(["certdesk.signing.sandbox",
                                                "certdesk.signing.trust"])
                pool = ProcessPoolExecutor(self.limits.workers, mp_context=ctx,
                                           initializer=_start_worker,
                                           initargs=(self.limits.memory_mb,))
                # Start every worker now, outside any check's time limit.
                for f in [pool.submit(_ready) for _ in range(self.limits.workers)]:
                    f.result()
                self._pool = pool
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s workers (one may be stuck past every limit); the next check
        starts a new pool."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


@lru_cache(maxsize=8)
def sandbox(limits: Limits) -> Sandbox:
    """One sandbox (and pool) per set of limits, for the life of the process."""
    box = Sandbox(limits)
    atexit.register(box.close)
    return box


def bounded(settings: Settings, fn: Callable[..., T], *args: Any) -> Bounded[T]:
    """``fn(*args)`` under the upload-check limits of ``settings``."""
    return sandbox(Limits.of(settings)).run(fn, *args)
