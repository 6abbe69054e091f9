"""Backup and restore of a whole desk, also while it is in use.

Order matters: the database first, as one consistent snapshot (SQLite's online backup API;
for PostgreSQL ``pg_dump`` inside an exported snapshot), then the blobs of exactly the rows
in that snapshot, then the keys — so every row the copy holds has its blob, whatever the
desk did meanwhile. A manifest lists every file with its sha256; ``restore`` checks it
before writing anything, fills an empty home, voids the numbers that were being issued when
the snapshot was taken (no process will finish them in the copy) and runs the audit.

An S3 store is not copied: its objects are under object lock and outlive the desk; the
manifest lists the blobs the snapshot needs and ``restore`` expects the same bucket
(``CERTDESK_BLOB_URL``), which the audit then checks (docs/records.md).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Engine

from certdesk.common.errors import ArchiveError, ConfigError, InputError
from certdesk.common.files import private_dir
from certdesk.common.i18n import N_, Msg, Said
from certdesk.common.settings import Settings
from certdesk.store.blobs import CHUNK, BlobStore, Store, blob_key

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "certdesk.db"
PG_DUMP_FILE = "database.pgdump"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class BackupResult:
    dest: Path
    database: str
    records: int
    blobs: int
    blobs_copied: bool
    keys: int
    log_head: int

    def as_dict(self) -> dict[str, Any]:
        return {"dest": str(self.dest), "database": self.database, "records": self.records,
                "blobs": self.blobs, "blobs_copied": self.blobs_copied, "keys": self.keys,
                "log_head": self.log_head}


def _empty_dir(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(N_("{path}：{what}必须是新建或空的文件夹"), path=path, what=Msg(what))


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise ConfigError(N_("找不到 {name}：请安装 PostgreSQL 客户端工具"), name=name)
    return found


def _pg_args(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for the tools (password in the environment, not on the command line)."""
    u = make_url(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = u.password
    return u.set(drivername="postgresql", password=None).render_as_string(), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ArchiveError(N_("{what} 失败：{last}"), what=what, last=last)


def _sqlite_database(url: str) -> str:
    """The file of a SQLite URL; ``sqlite://`` alone is in memory, with no file to copy."""
    database = make_url(url).database
    if not database:
        raise ConfigError(N_("{url}：内存中的 SQLite 数据库无法备份或恢复"), url=url)
    return database


_LIVE_BLOBS = text("SELECT sha256 FROM record WHERE disposed_at IS NULL")
_LOG_HEAD = text("SELECT seq FROM loghead WHERE id = 1")


@contextmanager
def _snapshot(engine: Engine, dest: Path) -> Iterator[tuple[str, list[str], int]]:
    """Write the database snapshot into ``dest``; yields (file name, live blob shas in the
    snapshot, log head)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        out = dest / SQLITE_FILE
        src = sqlite3.connect(_sqlite_database(url), timeout=60)
        copy = sqlite3.connect(out)
        try:
            src.backup(copy)  # one consistent snapshot, writers carry on meanwhile
            shas = [r[0] for r in copy.execute(_LIVE_BLOBS.text)]
            head = copy.execute(_LOG_HEAD.text).fetchone()
        finally:
            copy.close()
            src.close()
        yield SQLITE_FILE, shas, head[0] if head else 0
        return
    if engine.dialect.name != "postgresql":
        raise ConfigError(N_("备份只支持 SQLite 和 PostgreSQL，不支持 {dialect}"),
                          dialect=engine.dialect.name)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        shas = list(conn.execute(_LIVE_BLOBS).scalars())
        head = conn.execute(_LOG_HEAD).scalar() or 0
        libpq, env = _pg_args(url)
        # The dump sees exactly what this transaction sees, however long it takes.
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", "-f", str(dest / PG_DUMP_FILE), libpq], env,
             "pg_dump")
        yield PG_DUMP_FILE, shas, head


def backup(settings: Settings, engine: Engine, store: Store, dest: Path) -> BackupResult:
    _empty_dir(dest, N_("备份目标"))
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    copied = isinstance(store, BlobStore)
    with _snapshot(engine, dest) as (db_file, shas, head):
        files[db_file] = file_sha256(dest / db_file)
    for sha in shas:
        if not isinstance(store, BlobStore):  # not copied
            continue
        key = blob_key(sha)
        target = dest / "blobs" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(store.path(sha), target)
        except FileNotFoundError:
            raise ArchiveError(N_("快照中的文件 {sha} 在备份过程中消失（其间被销毁？）："
                                  "请重新备份"), sha=sha) from None
        if file_sha256(target) != sha:
            raise ArchiveError(N_("文件 {sha} 与其 sha256 不符：请运行 archive audit"), sha=sha)
        files[f"blobs/{key}"] = sha
    keys = sorted(p for p in settings.key_dir.rglob("*") if p.is_file()) \
        if settings.key_dir.is_dir() else []
    for path in keys:
        rel = path.relative_to(settings.key_dir)
        target = dest / "keys" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        files[f"keys/{rel.as_posix()}"] = file_sha256(target)
    manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(),
                "database": {"kind": engine.dialect.name, "file": db_file},
                "store": store.url, "blobs_copied": copied, "blobs": sorted(shas),
                "log_head": head, "files": files}
    tmp = dest / f".{MANIFEST}.part"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)  # the manifest last: its presence marks a whole backup
    return BackupResult(dest, engine.dialect.name, len(shas), len(shas) if copied else 0,
                        copied, len(keys), head)


def read_manifest(src: Path) -> dict[str, Any]:
    """The backup's manifest, every file checked against it (before anything is written)."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(N_("{src}：没有 {manifest}；不是 certdesk 备份（或备份未完成）"),
                         src=src, manifest=MANIFEST) from None
    except ValueError as exc:
        raise InputError(N_("{path}：不是有效的 JSON（{error}）"), path=src / MANIFEST,
                         error=exc) from None
    if manifest.get("format") != FORMAT:
        raise InputError(N_("{path}：备份格式 {format} 不是 {expected}"), path=src / MANIFEST,
                         format=repr(manifest.get("format")), expected=FORMAT)
    bad: list[Said] = []
    for rel, sha in manifest["files"].items():
        path = src / rel
        if not path.is_file():
            bad.append(Said(N_("{rel} 缺失"), rel=rel))
        elif file_sha256(path) != sha:
            bad.append(Said(N_("{rel} 与其 sha256 不符"), rel=rel))
    if manifest["blobs_copied"]:
        listed = {rel.rsplit("/", 1)[1] for rel in manifest["files"] if rel.startswith("blobs/")}
        bad += [Said(N_("文件 {sha} 不在备份中"), sha=sha) for sha in manifest["blobs"]
                if sha not in listed]
    if bad:
        if len(bad) > 1:
            raise ArchiveError(N_("{src}：备份已损坏：{problem}（另有 {more} 处）；未恢复任何内容"),
                               src=src, problem=bad[0], more=len(bad) - 1)
        raise ArchiveError(N_("{src}：备份已损坏：{problem}；未恢复任何内容"), src=src,
                           problem=bad[0])
    return manifest


def _target_empty(settings: Settings, engine: Engine) -> None:
    home = settings.home
    db = Path(_sqlite_database(settings.db_url)) if engine.dialect.name == "sqlite" else None
    # make_engine creates the SQLite file empty and private (0600) before SQLite would: such a
    # file holds nothing and is filled by the restore.
    fresh = db if db is not None and db.exists() and db.stat().st_size == 0 else None
    if home.exists() and any(p != fresh for p in home.iterdir()):
        raise InputError(N_("{home}：只能恢复到空的 CERTDESK_HOME；此目录不为空（未作任何改动）"),
                         home=home)
    if db is not None:
        if db.exists() and db != fresh:
            raise InputError(N_("{db}：只能恢复到新数据库；此数据库已存在（未作任何改动）"), db=db)
    else:
        with engine.connect() as conn:
            if inspect(conn).get_table_names():
                raise InputError(N_("{url}：只能恢复到空数据库；此数据库已有表（未作任何改动）"),
                                 url=engine.url.render_as_string())


def restore(settings: Settings, engine: Engine, src: Path) -> dict[str, Any]:
    """Fill the empty home (and database) from the backup ``src``; returns what was restored.
    ``engine`` must not have been migrated (``make_engine``, not ``get_engine``)."""
    manifest = read_manifest(src)
    kind = manifest["database"]["kind"]
    if kind != engine.dialect.name:
        raise InputError(N_("{src}：{kind} 备份不能恢复到 {dialect} 数据库（请设置 "
                            "CERTDESK_DATABASE_URL）"), src=src, kind=kind,
                         dialect=engine.dialect.name)
    if not manifest["blobs_copied"] and not settings.blob_url:
        raise ConfigError(N_("{src}：此备份的文件仍在 {store}；恢复前请把 CERTDESK_BLOB_URL "
                             "设为该存储"), src=src, store=manifest["store"])
    _target_empty(settings, engine)
    private_dir(settings.home)
    if kind == "sqlite":
        target = Path(_sqlite_database(settings.db_url))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / SQLITE_FILE, target)
    else:
        libpq, env = _pg_args(engine.url.render_as_string(hide_password=False))
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "-d", libpq, str(src / PG_DUMP_FILE)], env, "pg_restore")
    for rel in manifest["files"]:
        if rel.startswith("blobs/"):
            target = settings.blob_dir / rel.removeprefix("blobs/")
            mode = 0o444
        elif rel.startswith("keys/"):
            target = settings.key_dir / rel.removeprefix("keys/")
            mode = None
        else:
            continue
        if mode is None:  # keys: the folder and files private, as `certdesk keys init` makes them
            private_dir(target.parent)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)
        if mode is not None:
            os.chmod(target, mode)
    return {"source": str(src), "database": kind, "records": len(manifest["blobs"]),
            "blobs": sum(1 for r in manifest["files"] if r.startswith("blobs/")),
            "keys": sum(1 for r in manifest["files"] if r.startswith("keys/")),
            "log_head": manifest["log_head"], "created": manifest["created"]}
