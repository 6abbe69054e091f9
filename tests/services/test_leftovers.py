"""No leftovers: refused status changes store no notice, a failed issue leaves no out/
copy, and recover's moves stand only with their log entry."""

from __future__ import annotations

import errno
import threading

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import RuleViolation
from certdesk.services.audit import audit, recover
from certdesk.services.transitions import change_status
from certdesk.store.blobs import BlobStore
from certdesk.store.models import Event, Record, VoidNumber
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED
from tests.store.conftest import make_pdf


def test_parallel_status_changes_store_the_notice_of_the_one_that_won_only(issuer, settings):
    main = issuer.issue(TWO_SITES)[0].number
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def suspend() -> None:
        start.wait()
        try:
            change_status(issuer, main, "suspend", "未按期接受监督审查")
            outcomes.append("suspended")
        except RuleViolation as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=suspend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("suspended") == 1
    # refused at the re-check, after rendering
    assert any("状态刚被他人更改" in o for o in outcomes)
    with Session(issuer.engine) as s:
        report = audit(s, BlobStore(settings.blob_dir), SHIPPED)
        notices = s.exec(select(Record).where(Record.record_type == "notice")).all()
    assert report.orphans == [] and report.ok
    assert len(notices) == 1


def test_a_failure_while_storing_leaves_no_out_copy_named_after_the_number(issuer, settings,
                                                                           monkeypatch):
    real_keep, calls = issuer.keep, []

    def keep_then_fail(*args, **kw):
        calls.append(1)
        if len(calls) == 2:  # the first sub-certificate: the main one is already kept
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_keep(*args, **kw)

    monkeypatch.setattr(issuer, "keep", keep_then_fail)
    with pytest.raises(OSError):
        issuer.issue(TWO_SITES)
    assert not settings.out_dir.exists() or list(settings.out_dir.iterdir()) == []
    with Session(issuer.engine) as s:
        assert len(s.exec(select(VoidNumber)).all()) == 1


def test_recover_moves_files_back_when_its_log_entry_cannot_commit(engine, settings):
    store = BlobStore(settings.blob_dir)
    sha = store.put(make_pdf("orphan"))
    with Session(engine) as s:
        def full(*_a, **_k):
            raise OSError(errno.ENOSPC, "No space left on device")

        s.commit = full
        with pytest.raises(OSError):
            recover(s, store, "records", SHIPPED)
    assert store.exists(sha)
    assert not list((settings.blob_dir / ".quarantine").rglob("*.*")) and not [
        p for p in (settings.blob_dir / ".quarantine").rglob("*") if p.is_file()]
    with Session(engine) as s:
        assert s.exec(select(Event).where(Event.kind == "blob.quarantined")).all() == []
    with Session(engine) as s:
        assert recover(s, store, "records", SHIPPED).quarantined[0]["key"].endswith(sha)
