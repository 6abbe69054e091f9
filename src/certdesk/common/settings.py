"""Settings: the only module that reads the environment.

Every value comes from a ``CERTDESK_*`` variable (or a ``.env`` file in the working
directory) and has a default that makes the embedded install work with no server.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "certdesk"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CERTDESK_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Data directory: SQLite database, write-once blob folder, keys."""

    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<home>/certdesk.db``."""

    public_url: str = "http://127.0.0.1:8000"
    """Base URL printed in QR codes; the verification page lives at ``/v/<number>``."""

    key_passphrase: str = "certdesk-demo-passphrase"
    """Passphrase of the PKCS#12 signing key. The default suits the demo key only."""

    tsa_url: str | None = None
    """RFC 3161 time-stamping authority; when set every signature is time-stamped."""

    tsa_roots: Path | None = None
    """PEM file of the root certificate(s) of the TSA; a timestamp must chain to one of them."""

    public_rate_per_minute: int = 60
    """Requests per minute each client address may make to the public pages (then 429)."""

    public_rate_burst: int = 30
    """Requests a client may make at once before the per-minute rate applies."""

    upload_max_bytes: int = 10 * 1024 * 1024
    """Largest PDF the public verification form accepts (then 413)."""

    upload_check_seconds: float = 3.0
    """Wall-clock seconds one check of a PDF from outside may take (web upload or
    ``certdesk verify FILE``); past it the file is refused as too complex."""

    upload_check_memory_mb: int = 512
    """Memory a check's worker process may add to what it holds at start."""

    upload_check_workers: int = Field(default_factory=lambda: max(1, min(2, os.cpu_count() or 1)))
    """Worker processes checking files at once (per server process)."""
    allowed_hosts: list[str] = ["*"]
    """Host names the web app answers (others get 400), e.g. ``["cert.example.cn"]`` (JSON in
    the environment). Links and redirects never use the Host header either way."""

    forwarded_allow_ips: str | None = None
    """Proxies (comma-separated addresses) whose X-Forwarded-For gives the client address the
    rate limits count. Unset: no proxy is trusted, not even 127.0.0.1."""

    staff_rate_per_minute: int = 30
    """Requests per minute one address may make to the staff desk while not signed in."""

    soffice: str = "/usr/lib/libreoffice/program/soffice.bin"
    """The LibreOffice binary run (kept warm) for conversion."""

    converter_workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    converter_recycle_after: int = 200
    """Restart a LibreOffice worker after this many documents (it slowly grows)."""

    converter_timeout: float = 120.0
    """Seconds one conversion may take before the worker is killed and the job retried."""

    staff_session_hours: float = 10.0
    """A staff sign-in lasts at most this long (one working day), however active."""

    staff_idle_minutes: int = 60
    """A staff session unused for this long ends (an unattended laptop or tablet)."""

    staff_login_max_failures: int = 5
    """Failed sign-ins per account (four times as many per address) before refusing more."""

    staff_login_window_minutes: int = 15
    """The window in which failed sign-ins are counted, and how long a lock-out lasts."""

    staff_password_time_cost: int = 3
    staff_password_memory_kib: int = 65536
    """argon2id cost of new staff password hashes: RFC 9106's low-memory choice (3 passes,
    64 MiB). Lowered only by the test suite; a sign-in rehashes a password stored with other
    parameters."""

    staff_timezone: str = "Asia/Shanghai"
    """Zone in which the staff pages show event times (the log stores UTC)."""

    blob_url: str | None = None
    """Where blobs live: ``s3://bucket[/prefix]?endpoint=…`` (object lock) or ``file:///path``;
    default the folder ``<home>/blobs``."""

    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    """Credentials for an S3 ``blob_url``; unset, boto3's usual sources apply."""

    allow_unverified_profile: bool = False
    """Issue certificates although the body profile holds values its body has not confirmed
    (``unverified`` in profile.toml: placeholder addresses, guessed approval numbers, a
    placeholder mark). For test and demo installs only; such certificates say so on the
    page. ``certdesk profiles check`` lists the values to confirm."""

    profile_dirs: str = ""
    """Folders holding body profiles (one sub-folder per profile with ``profile.toml`` and
    ``rules.toml``), separated by ``os.pathsep`` (``:`` on Linux). They are searched in
    order and the shipped ``certdesk/profiles/`` last; the first folder holding an id wins."""

    queue_url: str | None = None
    """Where the staff desk's job queue lives (huey): ``sqlite:///path`` (a file of its own,
    for workers on this machine), ``postgresql://…`` (tables in that database, for workers
    on several machines), or ``immediate:`` (each job runs inside the request that starts
    it: tests). Default: beside the database — ``certdesk-queue.db`` in its folder for a
    SQLite database, the database itself for PostgreSQL."""

    queue_in_process: bool = True
    """``certdesk serve`` runs queued jobs in its own processes (a consumer thread each).
    Turn off where ``certdesk worker`` processes run them."""

    archive_pause_file: Path | None = None
    """Test hook for crash tests: an archive write creates this file once its blob is durable
    and waits, before its row commits, while the file exists."""

    today: date | None = None
    """The date certdesk takes as today (tests and rehearsals); unset: the calendar date in
    ``staff_timezone``. Read only through ``common.clock.today``."""

    @property
    def upload_max_mb(self) -> int:
        """The upload limit as refusals state it (whole MB, at least 1)."""
        return self.upload_max_bytes // (1024 * 1024) or 1

    @property
    def profile_folders(self) -> tuple[Path, ...]:
        """``profile_dirs`` as paths (the shipped folder is added by the loader)."""
        return tuple(Path(p) for p in self.profile_dirs.split(os.pathsep) if p.strip())

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'certdesk.db'}"

    @property
    def job_queue_url(self) -> str:
        """``queue_url``, or its default derived from the database's."""
        if self.queue_url:
            return self.queue_url
        db = self.db_url
        if db.startswith("sqlite:///"):
            return f"sqlite:///{Path(db.removeprefix('sqlite:///')).with_name('certdesk-queue.db')}"
        return db

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def key_dir(self) -> Path:
        return self.home / "keys"

    @property
    def out_dir(self) -> Path:
        return self.home / "out"


PASSWORD_ENV = "CERTDESK_PASSWORD"


def cli_password() -> str | None:
    """The password of the account a CLI command acts as (``--as``), read at each use and
    never kept in the cached settings."""
    return os.environ.get(PASSWORD_ENV) or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
