"""`certdesk render` as a user runs it: one PDF per record, a bad record reported and the
others done, and no LibreOffice process left behind — after a normal exit, SIGTERM,
Ctrl-C (SIGINT to the whole process group) or even SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.conftest import CERTDESK
from tests.documents.support import example, office_pids

pytestmark = pytest.mark.office


def _records(tmp_path, n: int, bad: tuple[int, ...] = ()):
    base = example("certificate")
    records = [{**base, "number": f"027326FWF{i:04d}R000",
                **({"uscc": "91110105MA01XB8H2X"} if i in bad else {})}
               for i in range(1, n + 1)]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def _start(home, *args: str, workers: int = 1) -> subprocess.Popen:
    """certdesk in its own process group, as a terminal would run it."""
    env = {**os.environ, "CERTDESK_HOME": str(home),
           "CERTDESK_CONVERTER_WORKERS": str(workers)}
    return subprocess.Popen([str(CERTDESK), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_render_makes_one_pdf_per_record_and_reports_the_bad_one(home, tmp_path):
    out = tmp_path / "out"
    proc = _start(home, "render", "certificate", "-p", "cacq", "-i",
                  str(_records(tmp_path, 3, bad=(2,))), "-o", str(out), "--json", workers=2)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    data = json.loads(stdout)
    assert data["signed"] is False
    assert data["summary"] == {"records": 3, "documents": 2, "failed": 1,
                               "interrupted": False}, data["failed"]
    assert data["failed"][0]["index"] == 2 and "check character" in data["failed"][0]["reason"]
    assert sorted(p.name for p in out.iterdir()) == ["027326FWF0001R000.pdf",
                                                     "027326FWF0003R000.pdf"]
    assert "Traceback" not in stderr
    assert office_pids(proc.pid) == []


def test_a_single_failing_record_is_a_one_line_error(cli, tmp_path):
    res = cli("render", "certificate", "-p", "cacq", "-i", str(_records(tmp_path, 1, bad=(1,))))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "check character" in res.stderr


def test_an_unknown_document_kind_lists_the_known_ones(cli, tmp_path):
    res = cli("render", "invoice", "-p", "cacq", "-i", str(_records(tmp_path, 1)))
    assert res.returncode == 2 and "unknown document kind 'invoice'" in res.stderr
    assert "surveillance_notice" in res.stderr and "Traceback" not in res.stderr


def _interrupt(home, tmp_path, wait_for, send) -> tuple[subprocess.Popen, dict, list]:
    """Start a 40-record render, wait until it has written a PDF, then ``send``."""
    out = tmp_path / "out"
    proc = _start(home, "render", "certificate", "-p", "xbht", "-i",
                  str(_records(tmp_path, 40)), "-o", str(out), "--json")
    assert wait_for(lambda: out.is_dir() and any(out.glob("*.pdf")), timeout=120)
    workers = office_pids(proc.pid)
    assert workers
    send(proc)
    stdout, _ = proc.communicate(timeout=120)
    return proc, (json.loads(stdout) if stdout.strip() else {}), workers


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT to the process group"])
def test_an_interrupted_render_stops_cleanly_and_leaves_no_converter(home, tmp_path, wait_for,
                                                                     how):
    def send(proc):
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)

    proc, data, workers = _interrupt(home, tmp_path, wait_for, send)
    assert proc.returncode == (143 if how == "SIGTERM" else 130)
    assert data["summary"]["interrupted"] is True
    assert 0 < data["summary"]["documents"] < 40
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        os.path.basename(d["pdf"]) for d in data["documents"])  # no partial file
    assert office_pids(proc.pid) == []
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)


def test_converters_die_with_certdesk_even_on_sigkill(home, tmp_path, wait_for):
    proc, _, workers = _interrupt(home, tmp_path, wait_for,
                                  lambda p: p.send_signal(signal.SIGKILL))
    assert proc.returncode == -signal.SIGKILL
    # The kernel delivers PR_SET_PDEATHSIG as the process exits.
    assert wait_for(lambda: office_pids(proc.pid) == [], timeout=30)
