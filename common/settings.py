"""Settings: the only module that reads the environment.

Every value comes from a ``CERTDESK_*`` variable (or a ``.env`` file in the working
directory) and has a default that makes the embedded install work with no server.
"""

from __future__ import annotations

import os
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

    soffice: str = "/usr/lib/libreoffice/program/soffice.bin"
    """The LibreOffice binary run (kept warm) for conversion."""

    converter_workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    converter_recycle_after: int = 200
    """Restart a LibreOffice worker after this many documents (it slowly grows)."""

    converter_timeout: float = 120.0
    """Seconds one conversion may take before the worker is killed and the job retried."""

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'certdesk.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def key_dir(self) -> Path:
        return self.home / "keys"

    @property
    def out_dir(self) -> Path:
        return self.home / "out"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
