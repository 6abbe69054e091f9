"""The S3 blob store against a local SeaweedFS that enforces object lock (COMPLIANCE):
the same interface as the folder store, and an early delete is refused by the server."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from certdesk.common.errors import ArchiveError
from certdesk.common.settings import Settings
from certdesk.store.blobs import S3BlobStore, blob_key, sha256_hex
from tests.conftest import S3_KEY as KEY
from tests.conftest import S3_SECRET as SECRET
from tests.shipped import SHIPPED
from tests.store.conftest import make_pdf, make_uscc

pytestmark = pytest.mark.slow  # runs a real S3 server (SeaweedFS) for the session


@pytest.fixture
def s3_store(bucket_url) -> S3BlobStore:
    return S3BlobStore.from_url(bucket_url, Settings(s3_access_key=KEY, s3_secret_key=SECRET))


def test_object_lock_refuses_an_early_delete(s3_store):
    data = make_pdf("locked")
    until = date.today() + timedelta(days=1)
    sha = s3_store.put(data, retain_until=until)
    assert s3_store.retention(sha).date() == until
    with pytest.raises(ArchiveError, match="S3 拒绝抹除"):
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
    with pytest.raises(ArchiveError, match="存储中缺少文件"):
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
    assert out.quarantined == [] and "object lock" in out.refused[0][1].text("en")
