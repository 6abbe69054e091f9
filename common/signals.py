"""SIGTERM handled like Ctrl-C while a batch runs: a service manager's stop request then
ends the batch with its summary (exit 143) instead of killing it mid-record."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from common.errors import Interrupted


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Raise ``Interrupted`` in the main thread on SIGINT or SIGTERM (old handlers come back
    on leaving). Elsewhere than the main thread signals cannot be caught: a no-op there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum, _frame) -> None:
        raise Interrupted(signum)

    old = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
