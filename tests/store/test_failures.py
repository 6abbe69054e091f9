"""Known conditions are one line that says what happened and what to do, with a documented
exit code, and change nothing stored: the database unreachable (75), the disk full (74)."""

from __future__ import annotations

import errno
import json
import socket
import subprocess

import pytest

from tests.store.conftest import make_pdf, make_uscc

CLIENT = make_uscc(77)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once the socket is closed


@pytest.mark.parametrize("command", [("archive", "audit"), ("log", "verify", "--json")])
def test_an_unreachable_database_is_one_line_with_exit_75(cli, command):
    url = f"postgresql+psycopg://certdesk@127.0.0.1:{_closed_port()}/certdesk"
    result = cli(*command, env={"CERTDESK_DATABASE_URL": url})
    assert result.returncode == 75
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 数据库无法连接：")
    assert "CERTDESK_DATABASE_URL" in lines[0] and "internal error" not in lines[0]
    assert result.stdout == ""


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MiB tmpfs (needs root; skipped where mounting is not allowed)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(path) -> None:
    # unbuffered: a buffer still holding bytes would fail again on close, outside the try
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_disk_is_one_line_with_exit_74_and_nothing_half_stored(tiny_disk, tmp_path):
    from tests.conftest import run_cli

    home = tiny_disk / "home"
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    first.write_bytes(make_pdf("first"))
    second.write_bytes(make_pdf("second " + "x" * 200_000))
    add = ("archive", "add", "--type", "onsite_record", "--client", CLIENT, "--profile", "cacq")
    assert run_cli(*add, str(first), home=home).returncode == 0
    filler = tiny_disk / "filler"
    _fill(filler)

    full = run_cli(*add, str(second), home=home)
    assert full.returncode == 74, full.stderr
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 磁盘已满：")
    assert "internal error" not in full.stderr

    filler.unlink()
    listed = json.loads(run_cli("archive", "list", "--json", home=home).stdout)["records"]
    assert [r["filename"] for r in listed] == ["first.pdf"]  # nothing half-stored
    run_cli("archive", "recover", home=home)
    assert run_cli("archive", "audit", home=home).returncode == 0
    assert run_cli(*add, str(second), home=home).returncode == 0  # re-running is safe
    assert run_cli("archive", "audit", home=home).returncode == 0
