"""A stop request during a held step is raised when the step is over, not inside it."""

from __future__ import annotations

import os
import signal

import pytest

from certdesk.common.errors import Interrupted
from certdesk.common.signals import signals_held, stop_on_signals


def test_a_sigterm_during_a_held_step_is_raised_when_the_step_ends():
    steps = []
    with stop_on_signals() as received, pytest.raises(Interrupted):
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("the step went on")  # the commit's bookkeeping, not cut short
        steps.append("after the step")  # never: the held signal is raised first
    assert steps == ["the step went on"] and received.signum == signal.SIGTERM


def test_a_held_step_puts_the_handlers_back_and_without_a_signal_raises_nothing():
    with stop_on_signals() as received:
        before = signal.getsignal(signal.SIGTERM)
        with signals_held():
            assert signal.getsignal(signal.SIGTERM) is not before
        assert signal.getsignal(signal.SIGTERM) is before
    assert received.signum is None
