"""The converter pool survives what LibreOffice does under load: a worker killed mid-batch,
a hang (the watchdog), a document that hangs every worker (retried once, then reported,
the batch goes on), a corrupt file; and it never leaves a worker or a profile behind.

These tests start their own small pool (they kill workers; the session pool stays warm
for the others). A hang is made real by stopping soffice.bin with SIGSTOP."""

from __future__ import annotations

import io
import os
import signal
import threading
import zipfile
from pathlib import Path

import pytest
from docx import Document

from certdesk.common.errors import ConversionError
from certdesk.common.i18n import shown
from certdesk.common.settings import Settings
from certdesk.documents.convert import (
    PROFILE_PREFIX,
    ConverterPool,
    OfficeWorker,
    sweep_stale_profiles,
)
from tests.documents.support import alive, example
from tests.shipped import SHIPPED

pytestmark = pytest.mark.office

TIMEOUT = 3.0


def _docx(text: str) -> bytes:
    doc = Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def small_pool():
    with ConverterPool(size=1, settings=Settings(converter_timeout=TIMEOUT)) as pool:
        pool.convert_bytes(_docx("warm up"), "warm-up")
        yield pool


@pytest.fixture
def poison(monkeypatch):
    """Documents containing POISON hang whichever worker converts them."""
    real = OfficeWorker.convert

    def convert(self, src, dst, timeout):
        if b"POISON" in zipfile.ZipFile(src).read("word/document.xml"):
            if not self.alive:
                self.start()
            os.kill(self.proc.pid, signal.SIGSTOP)
        return real(self, src, dst, timeout)

    monkeypatch.setattr(OfficeWorker, "convert", convert)


def test_a_worker_killed_mid_batch_is_restarted_and_the_batch_goes_on(small_pool):
    restarts = small_pool.restarts
    killed = threading.Event()
    results = []

    def batch():
        for i in range(6):
            if i == 2:  # a worker dies (OOM killer, a crash) while the batch runs
                os.kill(small_pool.pids[0], signal.SIGKILL)
                killed.set()
            results.append(small_pool.convert_bytes(_docx(f"document {i}"), f"doc-{i}"))

    batch()
    assert killed.is_set() and len(results) == 6
    assert all(pdf.startswith(b"%PDF") for pdf in results)
    assert small_pool.restarts >= restarts + 1 or small_pool.pids  # restarted on demand


def test_a_hanging_worker_is_killed_by_the_watchdog_and_the_document_retried(small_pool):
    hung = small_pool.pids[0]
    os.kill(hung, signal.SIGSTOP)
    restarts = small_pool.restarts
    pdf = small_pool.convert_bytes(_docx("after the hang"), "after-hang")
    assert pdf.startswith(b"%PDF")
    assert small_pool.restarts == restarts + 1
    assert not alive(hung) and small_pool.pids != [hung]


def test_a_document_that_hangs_every_worker_is_retried_once_then_reported_alone(
        small_pool, poison, tmp_path):
    from certdesk.documents.batch import render_batch
    from certdesk.documents.kinds import kind

    records = [{**example("suspension_notice"), "reason": reason}
               for reason in ("逾期未监督", "POISON", "整改未完成")]
    restarts = small_pool.restarts
    result = render_batch(kind("suspension_notice"), SHIPPED.get("cacq"), records, tmp_path,
                          small_pool, settings=small_pool.settings, source="batch.json")
    assert [r.index for r in result.rendered] == [1, 3]
    assert [f.index for f in result.failed] == [2]
    reason = result.failed[0].reason
    assert reason.startswith("batch.json：第 2 条记录：")
    assert shown(reason, "en").startswith("batch.json: record 2:")
    assert "hung" in reason and "also on the retry" in reason
    assert small_pool.restarts == restarts + 2  # the first try and the one retry
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        r.pdf.name for r in result.rendered)  # no half-written file left


@pytest.mark.parametrize("data", [_docx("x")[:2000], b"not a zip at all", b""],
                         ids=["truncated", "garbage", "empty"])
def test_a_corrupt_docx_is_refused_without_restarting_libreoffice(small_pool, data):
    pids, restarts = small_pool.pids, small_pool.restarts
    with pytest.raises(ConversionError) as err:
        small_pool.convert_bytes(data, "corrupt-input")
    assert "corrupt-input" in str(err.value)
    assert small_pool.pids == pids and small_pool.restarts == restarts


def test_a_worker_outlives_the_thread_that_started_it():
    """PR_SET_PDEATHSIG fires when the forking *thread* ends: workers started from a
    batch's thread pool used to die with that pool."""
    with ConverterPool(size=1, settings=Settings()) as pool:
        thread = threading.Thread(target=pool.convert_bytes, args=(_docx("a"), "a"))
        thread.start()
        thread.join()
        while Path(f"/proc/self/task/{thread.native_id}").exists():
            pass  # the OS thread is gone once its task entry is
        pid, restarts = pool.pids[0], pool.restarts
        pool.convert_bytes(_docx("b"), "b")
        assert pool.pids == [pid] and pool.restarts == restarts and alive(pid)


def test_a_worker_is_recycled_after_its_quota_of_documents():
    settings = Settings(converter_recycle_after=2)
    with ConverterPool(size=1, settings=settings) as pool:
        pool.convert_bytes(_docx("1"), "one")
        first = pool.pids
        pool.convert_bytes(_docx("2"), "two")
        assert pool.pids == [] and pool.restarts == 1  # stopped after its second document
        pool.convert_bytes(_docx("3"), "three")
        assert pool.pids and pool.pids != first


def test_a_merged_document_counts_as_the_documents_it_merges_towards_recycling():
    settings = Settings(converter_recycle_after=3)
    with ConverterPool(size=1, settings=settings) as pool:
        pool.convert_bytes(_docx("1"), "one", documents=2)
        assert pool.pids and pool.restarts == 0
        pool.convert_bytes(_docx("2+1"), "two and three", documents=2)
        assert pool.pids == [] and pool.restarts == 1  # four documents: over its quota


def test_closing_the_pool_kills_every_worker_and_removes_its_profile():
    pool = ConverterPool(size=2, settings=Settings())
    done = [threading.Thread(target=pool.convert_bytes, args=(_docx(str(i)), str(i)))
            for i in range(2)]
    for t in done:
        t.start()
    for t in done:
        t.join()
    pids = pool.pids
    profiles = [w.profile_dir for w in pool._all]
    assert len(pids) == 2 and all(p.is_dir() for p in profiles)
    pool.close()
    assert not any(alive(p) for p in pids)
    assert not any(p.exists() for p in profiles)
    with pytest.raises(ConversionError, match="closed"):
        pool.convert_bytes(_docx("late"), "late")


def test_profiles_left_by_a_killed_certdesk_are_swept(tmp_path):
    dead = tmp_path / f"{PROFILE_PREFIX}{2 ** 22 + 12345}-abc"  # above pid_max: never alive
    mine = tmp_path / f"{PROFILE_PREFIX}{os.getpid()}-def"
    other = tmp_path / "certdesk-lo-notapid"
    for path in (dead, mine, other):
        path.mkdir()
    # no pipes folder: other runs' dead pipes in the real /tmp are not this test's
    assert sweep_stale_profiles(tmp_path, tmp_path / "no-pipes") == [dead]
    assert mine.exists() and other.exists() and not dead.exists()


def test_pipes_of_a_killed_certdesk_and_old_conversion_folders_are_swept(tmp_path):
    dead = 2 ** 22 + 12345  # above pid_max: never alive
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    dead_pipe = pipes / f"OSL_PIPE_0_certdesk-{dead}-abcd1234"
    live_pipe = pipes / f"OSL_PIPE_0_certdesk-{os.getpid()}-abcd1234"
    old_conv, new_conv = tmp_path / "certdesk-conv-old", tmp_path / "certdesk-conv-new"
    for path in (dead_pipe, live_pipe):
        path.touch()
    for path in (old_conv, new_conv):
        path.mkdir()
    os.utime(old_conv, (0, 0))
    assert sorted(sweep_stale_profiles(tmp_path, pipes)) == sorted([old_conv, dead_pipe])
    assert live_pipe.exists() and new_conv.exists()


@pytest.mark.office
def test_a_pool_keeps_libreoffice_temp_files_in_its_own_folder_and_removes_it():
    with ConverterPool(size=1, settings=Settings()) as p:
        folder = p.folder
        assert p.convert_bytes(_docx("hello"), "hello").startswith(b"%PDF")
        worker_tmp = list(folder.glob("worker-*/tmp"))
        assert len(worker_tmp) == 1 and list(worker_tmp[0].glob("lu*.tmp"))  # LibreOffice's
    assert not folder.exists()


def test_closing_the_pool_while_a_prestart_is_starting_libreoffice_leaves_nothing(
        tmp_path, monkeypatch):
    """SIGTERM during ``prestart`` closes the pool while a daemon thread is starting a
    worker: that start used to spawn LibreOffice afterwards, which recreated the removed
    ``certdesk-lo-*`` folder for its profile. The start is held at the UNO bootstrap (just
    before the spawn) until the pool is closed, so the order is certain."""
    from certdesk.documents import convert

    monkeypatch.setattr(convert.tempfile, "tempdir", str(tmp_path))
    starting, closed = threading.Event(), threading.Event()
    real_context = convert._local_context

    def held_context():
        starting.set()
        assert closed.wait(60)
        return real_context()

    monkeypatch.setattr(convert, "_local_context", held_context)
    pool = ConverterPool(size=1, settings=Settings())
    pool.prestart()
    assert starting.wait(60)
    pool.close()
    closed.set()
    for thread in threading.enumerate():
        if thread.name == "certdesk-office-prestart":
            thread.join(120)
    assert list(tmp_path.glob(f"{PROFILE_PREFIX}*")) == []
    assert pool.pids == []
