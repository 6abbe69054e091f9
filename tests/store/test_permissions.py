"""The home holds password hashes and signing keys: it is made 0700, the database and key
files 0600 even under a permissive umask, and ``archive audit`` reports any that others can
read."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from tests.conftest import CERTDESK

pytestmark = pytest.mark.slow  # certdesk in a process of its own under umask 022


def _run(home, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CERTDESK_HOME": str(home)}
    return subprocess.run([str(CERTDESK), *args], capture_output=True, text=True, env=env,
                          preexec_fn=lambda: os.umask(0o022), timeout=300)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_is_private_under_umask_022_and_the_audit_says_so(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "keys", "init").returncode == 0
    audit = _run(home, "archive", "audit", "--json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert json.loads(audit.stdout)["permissions"] == []
    assert _mode(home) == 0o700 and _mode(home / "keys") == 0o700
    assert _mode(home / "certdesk.db") == 0o600
    keys = list((home / "keys").glob("*.p12"))
    assert keys and all(_mode(k) == 0o600 for k in keys)
    assert all(_mode(p) == 0o600 for p in home.glob("certdesk.db-*"))


def test_the_audit_reports_a_database_or_home_others_can_read(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "keys", "init").returncode == 0
    assert _run(home, "archive", "audit").returncode == 0
    (home / "certdesk.db").chmod(0o644)
    home.chmod(0o755)
    audit = _run(home, "archive", "audit", "--json")
    assert audit.returncode == 1
    found = {p["path"]: (p["mode"], p["wanted"]) for p in json.loads(audit.stdout)["permissions"]}
    assert found[str(home / "certdesk.db")] == ("0644", "0600")
    assert found[str(home)] == ("0755", "0700")
