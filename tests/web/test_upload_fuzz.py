"""Fuzzing the upload check with mutants of a real certificate: byte flips, truncations,
duplicated and cut chunks, and object-stream bombs appended as an update (seeded, so
every run sends the same files). None may be accepted, none may cause a 500 or a
traceback, and every one is answered by a verdict or refused as too complex.

The figures (slowest answer, how many were refused as too complex) are printed; run with
``-s`` to see them. No assertion is timed: the bound is the sandbox's.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from certdesk.web import create_app
from tests.conftest import run_cli
from tests.signing.bombs import mutants
from tests.signing.support import issue_home

pytestmark = pytest.mark.office

WEB_MUTANTS = 300
CLI_EVERY = 25
"""Every 25th mutant also goes through ``certdesk verify`` (a process each: 12 of them)."""

LIMIT = 2.0
"""The check's time limit in these tests (seconds): shorter than the default to keep the
bombs quick, long enough for a genuine file on a loaded machine."""


@pytest.fixture(scope="module")
def issued(tmp_path_factory, pool):
    return issue_home(tmp_path_factory.mktemp("fuzz-home"), pool, public_rate_burst=100_000,
                      upload_check_seconds=LIMIT)


@pytest.fixture(scope="module")
def original(issued) -> bytes:
    return issued.certificates[0].pdf.read_bytes()


def test_mutants_of_a_real_certificate_are_never_accepted_nor_crash_the_web_check(
        issued, original, capfd):
    answers: dict[str, int] = {}
    slowest = (0.0, "")
    with TestClient(create_app(issued.settings, issued.engine),
                    raise_server_exceptions=False) as c:
        first = c.post("/api/v1/verify", files={"file": ("c.pdf", original, "application/pdf")})
        assert first.json()["verdict"] == "genuine"  # the real file passes the same path
        for name, data in mutants(original, WEB_MUTANTS):
            started = time.monotonic()
            answer = c.post("/api/v1/verify", files={"file": (f"{name}.pdf", data,
                                                              "application/pdf")})
            slowest = max(slowest, (time.monotonic() - started, name))
            body = answer.json()
            assert answer.status_code in (200, 415, 422), (name, answer.status_code, body)
            if answer.status_code == 200:
                assert not body["genuine"], name
                outcome = body["verdict"]
            else:
                outcome = body["error"]
            answers[outcome] = answers.get(outcome, 0) + 1
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert sum(answers.values()) == WEB_MUTANTS
    print(f"\n{WEB_MUTANTS} mutants on the web, limit {LIMIT} s: {answers}; slowest "
          f"{slowest[0]:.2f} s ({slowest[1]})")


def test_a_sample_of_the_mutants_is_refused_by_certdesk_verify_in_one_line(
        issued, original, tmp_path):
    slowest = (0.0, "")
    for i, (name, data) in enumerate(mutants(original, WEB_MUTANTS)):
        if i % CLI_EVERY:
            continue
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        started = time.monotonic()
        result = run_cli("verify", str(path), env=issued.env
                         | {"CERTDESK_UPLOAD_CHECK_SECONDS": str(LIMIT)})
        slowest = max(slowest, (time.monotonic() - started, name))
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, (name, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert path.name in result.stderr
    print(f"\ncertdesk verify: {WEB_MUTANTS // CLI_EVERY} mutants, slowest "
          f"{slowest[0]:.2f} s ({slowest[1]})")
