"""Backup and restore: the copy restores into an empty home with a clean audit; a damaged
backup or a non-empty home is refused before anything is written."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import run_cli
from tests.store.conftest import make_pdf, make_uscc

CLIENT = make_uscc(88)


@pytest.fixture
def backed_up(home, tmp_path):
    for i in range(3):
        path = tmp_path / f"r{i}.pdf"
        path.write_bytes(make_pdf(f"backup {i}"))
        added = run_cli("archive", "add", str(path), "--type", "onsite_record", "--client",
                        CLIENT, "--profile", "cacq", home=home)
        assert added.returncode == 0, added.stderr
    dest = tmp_path / "backup"
    done = run_cli("backup", str(dest), "--json", home=home)
    assert done.returncode == 0, done.stderr
    return dest, json.loads(done.stdout)


def test_a_backup_restores_into_an_empty_home_with_a_clean_audit(backed_up, tmp_path, home):
    dest, made = backed_up
    assert made["records"] == made["blobs"] == 3 and made["blobs_copied"]
    manifest = json.loads((dest / "manifest.json").read_text())
    assert len(manifest["blobs"]) == 3 and "certdesk.db" in manifest["files"]
    target = tmp_path / "restored"
    restored = run_cli("restore", str(dest), "--json", home=target)
    assert restored.returncode == 0, restored.stderr
    data = json.loads(restored.stdout)
    assert data["audit"]["ok"] and data["records"] == 3 and data["voided"] == []
    blob = next((target / "blobs").glob("*/*/*"))
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444  # write-once, as the store keeps it
    listed = json.loads(run_cli("archive", "list", "--json", home=target).stdout)["records"]
    assert len(listed) == 3
    # The log the copy holds is the original's, entry for entry.
    original = json.loads(run_cli("log", "verify", "--json", home=home).stdout)
    copy = json.loads(run_cli("log", "verify", "--json", home=target).stdout)
    assert copy["ok"] and copy["head_hash"] == original["head_hash"]


def test_a_damaged_backup_is_refused_and_nothing_is_written(backed_up, tmp_path):
    dest, _ = backed_up
    blob = next((dest / "blobs").glob("*/*/*"))
    os.chmod(blob, 0o644)
    blob.write_bytes(blob.read_bytes() + b"%")
    target = tmp_path / "restored"
    refused = run_cli("restore", str(dest), home=target)
    assert refused.returncode == 2
    assert "backup damaged" in refused.stderr and "does not match its sha256" in refused.stderr
    assert not target.exists() or list(target.iterdir()) == []


def test_restore_refuses_a_home_in_use_and_a_folder_without_manifest(backed_up, tmp_path,
                                                                      home):
    dest, _ = backed_up
    into_used = run_cli("restore", str(dest), home=home)
    assert into_used.returncode == 2 and "not empty" in into_used.stderr
    (dest / "manifest.json").unlink()
    no_manifest = run_cli("restore", str(dest), home=tmp_path / "other")
    assert no_manifest.returncode == 2 and "not a certdesk backup" in no_manifest.stderr
    assert run_cli("backup", str(dest), home=home).returncode == 2  # not an empty folder


def test_a_backup_of_an_in_memory_database_is_refused_with_a_message_not_an_internal_error(
        tmp_path):
    # Found by mypy: the URL ``sqlite://`` has no database file, and the backup handed None
    # to sqlite3.connect ("internal error: TypeError").
    done = run_cli("backup", str(tmp_path / "backup"), home=tmp_path / "home",
                   env={"CERTDESK_DATABASE_URL": "sqlite://"})
    assert done.returncode == 2, done.stderr
    assert "in-memory SQLite database cannot be backed up" in done.stderr
    assert "internal error" not in done.stderr
