"""Many machines on one PostgreSQL and one S3 bucket with object lock (docs/deployment.md): two
web processes (``CERTDESK_QUEUE_IN_PROCESS=false``) and two ``certdesk worker`` processes on
the PostgreSQL job queue, each with a data home of its own (as on separate hosts) holding a
copy of the one key folder. Two issuing clerks, signed in on different web processes, upload
overlapping batches (upload → preview → confirm, as the desk does) and confirm them at once,
each on the other web process; the workers run the jobs while a client verifies what they
issue through both web processes, and a staff session signed in on one web process is used
on the other. Afterwards: every job done, both workers took jobs, no number twice, every
organisation certified once, no object without its row nor row without its object, and the
audit and the log are clean."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy import create_engine, func, text
from sqlmodel import Session, select

from certdesk.common.files import private_dir
from certdesk.common.settings import Settings
from certdesk.domain.uscc import check_character
from certdesk.signing.tokens import TokenClaims, current_token
from certdesk.store.blobs import blob_key
from certdesk.store.db import make_engine
from certdesk.store.jobs import Job
from certdesk.store.models import Certificate, Event, Organisation, Record
from tests.conftest import CERTDESK, S3_KEY, S3_SECRET, run_process

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.office]

ORGANISATIONS = 24
"""Per batch; the two batches share half of them."""
PASSWORD = "many-machines-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _uscc(i: int) -> str:
    body = f"91310115MA{i:07d}"
    return body + check_character(body)


def _batch(path: Path, first: int) -> Path:
    path.write_text(json.dumps(
        [{"name": f"多机测试家电服务有限公司{i:03d}", "uscc": _uscc(i),
          "registered_address": "上海市浦东新区世纪大道100号", "scope": "家用电器的维修",
          "grade": "四星级", "decision_date": "2026-11-20"}
         for i in range(first, first + ORGANISATIONS)], ensure_ascii=False), encoding="utf-8")
    return path


@dataclass
class Cluster:
    """The settings every process shares, and a data home per process."""

    shared: dict[str, str]
    root: Path
    key_material: Path
    homes: dict[str, Path] = field(default_factory=dict)

    def home(self, name: str) -> Path:
        """``name``'s own data home, with a copy of the key folder (as deployed per host)."""
        if name not in self.homes:
            home = self.root / name
            shutil.copytree(self.key_material, private_dir(home) / "keys")
            self.homes[name] = home
        return self.homes[name]

    def env(self, name: str) -> dict[str, str]:
        env = {**os.environ, **self.shared, "CERTDESK_HOME": str(self.home(name))}
        env.pop("CERTDESK_QUEUE_URL", None)  # the suite's immediate: queue; here PostgreSQL's
        return env


@pytest.fixture
def cluster(postgres_url, bucket_url, key_material, tmp_path) -> Iterator[Cluster]:
    name = f"many_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    shared = {"CERTDESK_DATABASE_URL": postgres_url.rsplit("/", 1)[0] + f"/{name}",
              "CERTDESK_BLOB_URL": bucket_url, "CERTDESK_S3_ACCESS_KEY": S3_KEY,
              "CERTDESK_S3_SECRET_KEY": S3_SECRET,
              # the client below checks every certificate twice on each process
              "CERTDESK_PUBLIC_RATE_BURST": "100000",
              "CERTDESK_CONVERTER_WORKERS": "1"}  # two workers on a shared 2-core machine
    yield Cluster(shared, tmp_path, key_material)


@contextlib.contextmanager
def job_workers(cluster: Cluster, names: list[str]) -> Iterator[list[subprocess.Popen]]:
    """A ``certdesk worker`` per host in ``names`` on the PostgreSQL queue (the database
    URL, the default), stopped at the end with SIGTERM as a service manager stops them."""
    procs = [subprocess.Popen([str(CERTDESK), "worker", "--workers", "1"],
                              env=cluster.env(name), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
             for name in names]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            _out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]


def _add_accounts(cluster: Cluster) -> None:
    """An admin (signs in on the web) and two issuing clerks (their jobs act as them)."""
    for name, role in (("ada", "admin"), ("ivy", "issuer"), ("ian", "issuer")):
        added = run_process("users", "add", name, "--role", role, "--password-stdin",
                            *(("--as", "ada") if name != "ada" else ()),
                            env={**cluster.env("admin"), "CERTDESK_PASSWORD": PASSWORD},
                            input=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr


@contextlib.contextmanager
def web_process(cluster: Cluster, name: str, port: int) -> Iterator[str]:
    """``certdesk serve`` on ``port``, once it answers; its base URL."""
    server = subprocess.Popen([str(CERTDESK), "serve", "--port", str(port)],
                              env={**cluster.env(name), "CERTDESK_QUEUE_IN_PROCESS": "false"},
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, f"{name} does not answer"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class Verifier(threading.Thread):
    """A client checking each certificate as soon as it is committed, by its QR URL, on every
    web process: the page and the JSON API."""

    def __init__(self, url: str, key_home: Path, bases: list[str]) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.settings = Settings(home=key_home, database_url=url)
        self.bases = bases
        self.done = threading.Event()
        self.answers: list[tuple[str, str, int, dict | None]] = []
        self.checked: set[str] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(timeout=30) as http:
                while not self.done.is_set():
                    self._round(http)
                    time.sleep(0.2)
                self._round(http)  # what the workers committed last
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        finally:
            self.engine.dispose()

    def _round(self, http: httpx.Client) -> None:
        with Session(self.engine) as s:
            rows = s.exec(select(Certificate.number, Certificate.holder_name,
                                 Certificate.issue_date, Certificate.expiry_date)).all()
        for number, holder, issued, expires in rows:
            if number in self.checked:
                continue
            token = current_token(self.settings, TokenClaims(number, holder, issued, expires))
            for base in self.bases:
                page = http.get(f"{base}/v/{number}", params={"t": token})
                self.answers.append((base, number, page.status_code, None))
                api = http.get(f"{base}/api/v1/certificates/{number}", params={"t": token})
                self.answers.append((base, number, api.status_code, api.json()))
            self.checked.add(number)


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def _signed_in(base: str, name: str) -> httpx.Client:
    """A browser signed in as ``name`` on the web process at ``base``."""
    client = httpx.Client(base_url=base, timeout=60)
    csrf = _CSRF.search(client.get("/staff/login").text).group(1)
    signed = client.post("/staff/login", data={"name": name, "password": PASSWORD,
                                                "csrf": csrf})
    assert signed.status_code == 303, signed.text
    return client


def _sign_in_here_use_there(here: str, there: str) -> None:
    with contextlib.closing(_signed_in(here, "ada")) as a, \
            httpx.Client(base_url=there, timeout=30) as b:
        b.cookies = a.cookies  # the same browser, routed to the other process
        desk = b.get("/staff/")
        assert desk.status_code == 200 and "ada" in desk.text


def _previewed(clerk: httpx.Client, batch: Path) -> dict[str, str]:
    """Upload ``batch`` on the issue page; the preview's confirm form, every row issuable."""
    page = clerk.get("/staff/issue").text
    form = {"csrf": _CSRF.search(page).group(1),
            "form_token": page.split('name="form_token" value="')[1].split('"')[0]}
    uploaded = clerk.post("/staff/issue", data={**form, "profile": "cacq"},
                          files={"file": (batch.name, batch.read_bytes(), "application/json")})
    assert uploaded.status_code == 303, uploaded.text
    preview = clerk.get(uploaded.headers["location"])
    assert preview.status_code == 200, preview.text
    fields = dict(_HIDDEN.findall(preview.text))
    assert len(fields["rows"].split(",")) == ORGANISATIONS, fields  # nothing issued yet
    return {"csrf": form["csrf"], **fields}


def _confirmed(clerk: httpx.Client, fields: dict[str, str], there: str) -> str:
    """Press "签发这 N 个组织", the request routed to the web process at ``there``; the job's
    page."""
    queued = clerk.post(f"{there}/staff/issue/confirm", data=fields)
    assert queued.status_code == 303, queued.text
    return queued.headers["location"]


def _ended(clerk: httpx.Client, location: str, workers: list[subprocess.Popen]) -> dict:
    """The job's JSON once it has ended (the workers still running meanwhile)."""
    deadline = time.monotonic() + 900
    while True:
        job = clerk.get(f"{location}.json").json()
        if job["state"] in ("done", "failed", "interrupted"):
            return job
        stopped = [w.stderr.read() for w in workers if w.poll() is not None]
        assert not stopped, stopped
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def _objects(bucket_url: str) -> set[str]:
    """Every object key under the bucket's prefix, without it (listed here, not by the
    store under test)."""
    bucket, rest = bucket_url.removeprefix("s3://").split("/", 1)
    prefix, endpoint = rest.split("?endpoint=")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return {o["Key"].removeprefix(prefix + "/") for page in pages
            for o in page.get("Contents", [])}


def test_two_web_processes_and_two_issuing_workers_share_one_database_and_bucket(
        cluster, tmp_path):
    url, bucket_url = cluster.shared["CERTDESK_DATABASE_URL"], cluster.shared["CERTDESK_BLOB_URL"]
    # Migrations run once, from one host, before the others start.
    assert run_process("log", "verify", env=cluster.env("migrate")).returncode == 0
    _add_accounts(cluster)
    batches = [_batch(tmp_path / "a.json", 0), _batch(tmp_path / "b.json", ORGANISATIONS // 2)]
    ports = [_free_port(), _free_port()]
    cluster.shared["CERTDESK_PUBLIC_URL"] = f"http://127.0.0.1:{ports[0]}"
    with web_process(cluster, "web-a", ports[0]) as web_a, \
            web_process(cluster, "web-b", ports[1]) as web_b, \
            contextlib.closing(_signed_in(web_a, "ivy")) as ivy, \
            contextlib.closing(_signed_in(web_b, "ian")) as ian, \
            job_workers(cluster, ["worker-a", "worker-b"]) as workers:
        verifier = Verifier(url, cluster.home("client"), [web_a, web_b])
        verifier.start()
        clerks = [ivy, ian]
        # both previews before either job runs, then both confirmed at once, each on the
        # other web process than its upload (the staged file is in the database)
        forms = [_previewed(clerk, batch) for clerk, batch in zip(clerks, batches, strict=True)]
        with ThreadPoolExecutor(2) as pool:
            locations = list(pool.map(_confirmed, clerks, forms, [web_b, web_a]))
        _sign_in_here_use_there(web_a, web_b)
        jobs = [_ended(clerk, loc, workers) for clerk, loc in zip(clerks, locations, strict=True)]
        verifier.done.set()
        verifier.join(timeout=300)
        assert verifier.error is None, verifier.error
        # The PDFs the workers wrote, checked by upload on both web processes.
        pdfs = [pdf for n in "ab" for pdf in (cluster.home(f"worker-{n}") / "out").glob("*.pdf")]
        uploads = [httpx.post(f"{base}/api/v1/verify", timeout=60,
                              files={"file": (p.name, p.read_bytes(), "application/pdf")})
                   for base in (web_a, web_b) for p in pdfs[:1] + pdfs[-1:]]

    assert [j["state"] for j in jobs] == ["done", "done"], jobs
    results = [j["result"] for j in jobs]
    total = ORGANISATIONS * 3 // 2
    assert sum(len(r["mains"]) for r in results) == total
    assert sum(len(r["skipped"]) for r in results) == ORGANISATIONS // 2  # the overlap, once
    assert [r["failed"] for r in results] == [[], []]
    listed = run_process("jobs", "list", "--json", env=cluster.env("audit"))
    assert listed.returncode == 0, listed.stderr
    assert sorted((j["account"], j["state"], j["done"], j["total"])
                  for j in json.loads(listed.stdout)["jobs"]) == [
        ("ian", "done", ORGANISATIONS, ORGANISATIONS), ("ivy", "done", ORGANISATIONS,
                                                         ORGANISATIONS)]

    engine = make_engine(url)
    with Session(engine) as s:
        per_org = s.exec(select(Organisation.uscc, func.count(Certificate.id))
                         .join(Certificate, Certificate.organisation_id == Organisation.id)
                         .group_by(Organisation.uscc)).all()
        numbers = s.exec(select(Certificate.number)).all()
        drawn = s.exec(select(Event.subject).where(Event.kind == "number.drawn")).all()
        blobs = set(s.exec(select(Record.sha256)))
        ran_in = s.exec(select(Job.worker).distinct()).all()
    engine.dispose()
    assert len(ran_in) == 2 and None not in ran_in, ran_in  # both workers took a job
    assert sorted(per_org) == sorted((_uscc(i), 1) for i in range(total))
    assert len(numbers) == len(set(numbers)) == total
    assert len(drawn) == len(set(drawn))  # no number drawn twice, even one voided later
    assert _objects(bucket_url) == {blob_key(sha) for sha in blobs}  # no orphan either way

    audit = run_process("archive", "audit", "--json", env=cluster.env("audit"))
    assert audit.returncode == 0, audit.stdout
    report = json.loads(audit.stdout)
    assert report["missing"] == [] and report["orphans"] == []
    assert run_process("log", "verify", env=cluster.env("audit")).returncode == 0

    assert verifier.checked == set(numbers)
    assert {(base, code) for base, _, code, _ in verifier.answers} == {(web_a, 200),
                                                                       (web_b, 200)}
    for _, number, _, body in verifier.answers:
        if body is not None:
            assert body["token"]["state"] == "ok", (number, body)
            assert (body["verdict"]["verdict"], body["verdict"]["status"]) == ("genuine",
                                                                              "valid")
    for answer in uploads:
        assert answer.status_code == 200 and answer.json()["verdict"] == "genuine", answer.text
