"""SIGTERM handled like Ctrl-C while a batch runs: a service manager's stop request then
ends the batch with its summary (exit 143) instead of killing it mid-record."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from certdesk.common.errors import Interrupted


@dataclass
class Received:
    signum: int | None = None

    @property
    def exit_code(self) -> int:
        """The shell's 128 + signal: 130 after Ctrl-C, 143 after SIGTERM."""
        return 128 + (self.signum or signal.SIGINT)


@contextmanager
def stop_on_signals() -> Iterator[Received]:
    """Raise ``Interrupted`` in the main thread on SIGINT or SIGTERM (old handlers come back
    on leaving); the yielded object tells which signal came. Elsewhere than the main thread
    signals cannot be caught: then nothing is installed."""
    received = Received()
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def raise_interrupted(signum: int, _frame: FrameType | None) -> None:
        received.signum = signum
        raise Interrupted(signum)

    old = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM over a short step whose result the caller must keep (a drawn
    number, committed): a signal that comes meanwhile is raised when the step is over, where
    the caller can still undo it. Outside the main thread there is nothing to hold."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[signal.Signals, FrameType | None]] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append((signal.Signals(signum), frame))

    old = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for signum, frame in pending[:1]:  # the first one, as if it came now
            handler = old[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)
