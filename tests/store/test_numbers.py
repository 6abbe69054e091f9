"""Every drawn number is on a certificate or in VoidNumber: the audit lists the ones a
killed process left, recover voids them ("interrupted"), and draws of a running process
are left alone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from certdesk.common.failures import is_transient, known_failure
from certdesk.common.proc import process_tag
from certdesk.services.audit import audit, recover
from certdesk.store import events
from certdesk.store.allocate import allocate
from certdesk.store.db import retrying, session_scope
from certdesk.store.models import Event, NumberCounter, VoidNumber
from tests.shipped import SHIPPED


def _draw(engine, process: str | None) -> str:
    with session_scope(engine) as s:
        number = str(allocate(s, SHIPPED.get("xbht"), 2026))
        events.append(s, "number.drawn", number,
                      {"profile": "xbht", **({"process": process} if process else {})}, "t")
    return number


def _dead_here() -> str:
    return process_tag().rsplit(":", 2)[0] + ":4194999:1"


def test_a_number_drawn_by_a_process_that_died_is_listed_then_voided_once(engine, store):
    dead = _draw(engine, _dead_here())
    live = _draw(engine, process_tag())
    with session_scope(engine) as s:
        report = audit(s, store, SHIPPED)
    assert [n["number"] for n in report.numbers.unaccounted] == [dead]
    assert [n["number"] for n in report.numbers.in_flight] == [live]
    assert report.problems == 1

    with session_scope(engine) as s:
        assert recover(s, store, "records", SHIPPED).voided == [dead]
    with session_scope(engine) as s:
        assert s.get(VoidNumber, dead).reason == "interrupted"
        assert s.get(VoidNumber, live) is None
        logged = s.exec(select(Event).where(Event.kind == "number.void")).all()
        assert [(e.subject, json.loads(e.data)["reason"]) for e in logged] == [
            (dead, "interrupted")]
        assert recover(s, store, "records", SHIPPED).voided == []  # idempotent
        assert audit(s, store, SHIPPED).ok


def test_a_draw_from_another_host_counts_as_in_flight_for_an_hour(engine, store):
    number = _draw(engine, "another-host:123:456")
    with session_scope(engine) as s:
        assert [n["number"] for n in audit(s, store, SHIPPED).numbers.in_flight] == [number]


def test_a_counter_value_no_log_entry_explains_is_a_gap_recover_voids(engine, store):
    with session_scope(engine) as s:
        first = str(allocate(s, SHIPPED.get("xbht"), 2026))  # drawn, never logged
    with session_scope(engine) as s:
        gaps = audit(s, store, SHIPPED).numbers.unaccounted
        assert [(g["sequence"], g["number"]) for g in gaps] == [(1, first)]
        assert recover(s, store, "records", SHIPPED).voided == [first]
    with session_scope(engine) as s:
        assert audit(s, store, SHIPPED).ok
        assert s.exec(select(NumberCounter)).one().last_value == 1


def test_audit_and_recover_name_the_gap_on_the_command_line(engine, cli):
    dead = _draw(engine, _dead_here())
    found = cli("archive", "audit")
    assert found.returncode == 1
    assert f"number neither issued nor void: {dead}" in found.stdout
    fixed = cli("archive", "recover")
    assert f"voided {dead} (interrupted)" in fixed.stdout and "1 number(s) voided" in fixed.stdout
    assert cli("archive", "audit").returncode == 0
    assert cli("log", "verify").returncode == 0


def _lost_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("consuming input failed: server closed "
                                                      "the connection unexpectedly"))


def test_a_transient_database_error_is_retried_with_pauses_then_succeeds():
    calls, pauses = [], []

    def step():
        calls.append(1)
        if len(calls) < 3:
            raise _lost_connection()
        return "done"

    assert retrying(step, sleep=pauses.append) == "done"
    assert len(calls) == 3 and pauses == [0.2, 0.5]


def test_retries_are_bounded_and_other_errors_are_not_retried():
    calls = []

    def lost():
        calls.append(1)
        raise _lost_connection()

    with pytest.raises(OperationalError):
        retrying(lost, delays=(0.1, 0.1), sleep=lambda _: None)
    assert len(calls) == 3

    def bug():
        calls.append(1)
        raise ValueError("a bug")

    calls.clear()
    with pytest.raises(ValueError):
        retrying(bug, sleep=lambda _: None)
    assert len(calls) == 1


def test_known_conditions_become_one_line_with_what_to_do():
    assert is_transient(_lost_connection())
    assert is_transient(OperationalError("x", {}, Exception("database is locked")))
    assert is_transient(OperationalError("x", {}, Exception(
        "FATAL:  the database system is not yet accepting connections")))
    down = known_failure(_lost_connection())
    assert str(down).startswith("数据库无法连接：consuming input failed") and down.exit_code == 75
    full = known_failure(OperationalError("x", {}, Exception("database or disk is full")))
    assert str(full).startswith("磁盘已满：database or disk is full") and full.exit_code == 74
    assert not is_transient(OperationalError("x", {}, Exception("database or disk is full")))
    assert known_failure(ValueError("a bug")) is None
