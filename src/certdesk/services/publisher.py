"""The shared path of every record certdesk produces: Word template → PDF/A → signature →
write-once blob + record row. Issuing and status notices both go through it."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from sqlalchemy.engine import Engine
from sqlmodel import Session

from certdesk.common.settings import Settings, get_settings
from certdesk.documents.convert import ConverterPool
from certdesk.documents.converter import Converter
from certdesk.documents.render import render_docx
from certdesk.domain.profiles import Profile, Profiles, installed_profiles
from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.store.blobs import open_store
from certdesk.store.db import get_engine
from certdesk.store.records import Filing, add_record


def body_signature(profile: Profile, title: str) -> SignatureSpec:
    """The certification signature of a record the body issues: "<body> <title>"."""
    return SignatureSpec(reason=f"{profile.body.name} {title}",
                         location=profile.body.address, name=profile.body.name)


class Publisher:
    """Holds the converter (warm LibreOffice unless given another ``Converter``), the signing
    key and the stores. Thread-safe."""

    def __init__(self, *, settings: Settings | None = None, engine: Engine | None = None,
                 pool: Converter | None = None, shared: Publisher | None = None,
                 profiles: Profiles | None = None) -> None:
        """``shared``: a running publisher whose stores, pool, key, signing lock and
        profiles this one uses (loading the key again costs ~136 ms; two signers would not
        share the lock)."""
        if shared is not None:
            self._share(shared)
            return
        self.settings = settings or get_settings()
        self.profiles = profiles or installed_profiles(self.settings)
        """The install's body profiles, for records that name theirs by id."""
        self.engine = engine or get_engine(self.settings.db_url)
        self.blobs = open_store(self.settings)
        self._own_pool = pool is None
        self.pool: Converter = pool or ConverterPool(settings=self.settings)
        self.key = ensure_keys(self.settings)
        self.signer = load_signer(self.key, self.settings.key_passphrase)
        self._sign_lock = threading.Lock()

    def _share(self, other: Publisher) -> None:
        self.settings, self.engine, self.blobs = other.settings, other.engine, other.blobs
        self.pool, self.key, self.signer = other.pool, other.key, other.signer
        self.profiles = other.profiles
        self._sign_lock, self._own_pool = other._sign_lock, False

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def signed_pdf(self, template: Path, context: Mapping[str, Any], name: str,
                   spec: SignatureSpec) -> bytes:
        return self.sign(self.pool.convert_bytes(render_docx(template, context), name), spec)

    def sign(self, pdf: bytes, spec: SignatureSpec) -> bytes:
        # pyHanko's signer shares lazily parsed asn1crypto objects that are not safe to use
        # from two threads at once (seen as random "serial_number is not set" failures in a
        # 1,000-document batch); signing is CPU-bound under the GIL, so a lock costs nothing.
        with self._sign_lock:
            return sign_pdf(pdf, self.signer, spec, self.settings.tsa_url)

    def keep(self, session: Session, data: bytes, *, record_type: str, filename: str,
             profile: Profile, organisation_id: int | None, certificate_number: str | None,
             actor: str = "system") -> str:
        """Archive ``data`` inside the caller's transaction: row, log entry and the durable
        blob (locked until its earliest disposal date on S3) before the commit. The
        certificate it belongs to must already be in the session (its dates set the lock)."""
        row, _new = add_record(
            session, self.blobs, self.settings, data, record_type=record_type,
            filename=filename, filing=Filing(profile, None, organisation_id, certificate_number),
            signer=self.key.kid, actor=actor)
        return row.sha256

    def out_path(self, filename: str) -> Path:
        return self.settings.out_dir / filename

    def export(self, filename: str, data: bytes) -> Path:
        """A named copy for the user; the archived blob stays the record of truth. Call it
        after the record's commit; written under a temp name and renamed, so out/ never
        holds a half-written file or one named after a number that was not issued."""
        path = self.out_path(filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def export_all(self, exports: list[tuple[str, bytes]]) -> None:
        for filename, data in exports:
            self.export(filename, data)
