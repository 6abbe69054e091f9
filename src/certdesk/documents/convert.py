"""DOCX → PDF/A-2b through long-lived LibreOffice processes (our own small UNO bridge).

Starting LibreOffice costs seconds; a warm one converts a page in a fraction of a second.
A ``ConverterPool`` keeps up to N ``soffice.bin`` workers, each with its own user profile
(two sharing one fail) and its own pipe, and hands each to one thread at a time.

Failure handling, in the order things go wrong:

* a document LibreOffice refuses (corrupt file, export error) fails alone: the worker
  stays up and the error names the document;
* a worker that crashes, or hangs past ``converter_timeout`` (the watchdog kills it),
  is restarted and the document retried once; a second death reports the document and
  the pool carries on with the next one;
* a worker is recycled after ``converter_recycle_after`` documents (LibreOffice grows);
* no worker outlives certdesk: ``close``/atexit kill them, and the kernel kills them
  (PR_SET_PDEATHSIG) when certdesk dies without running either (SIGKILL, SIGTERM).
  Workers run in their own session, so a Ctrl-C in the terminal reaches certdesk only,
  which then stops them itself rather than LibreOffice dying under a running conversion.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from certdesk.common.errors import ConversionError
from certdesk.common.proc import pid_alive
from certdesk.common.settings import Settings, get_settings
from certdesk.documents.untrusted import strip_external

FONTS_CONF = Path(__file__).with_name("fonts.conf")

# PDF/A-2b; tagged; no forms; fonts are always embedded in PDF/A.
PDF_FILTER_DATA = {
    "SelectPdfVersion": 2,
    "UseTaggedPDF": True,
    "ExportFormFields": False,
    "ExportBookmarks": False,
    "Quality": 90,
}

# Naming the import filter stops LibreOffice from guessing: a damaged .docx would
# otherwise be opened as plain text and "converted" into a page of zip garbage.
DOCX_FILTER = "MS Word 2007 XML"

PROFILE_SETTINGS = {
    # Linked images and objects are not fetched from places other than the document itself
    # (LibreOffice's protection against untrusted referers).
    ("org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks"): "true",
    ("org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution"): "true",
    # "Update links when loading": never (Writer: 0 always, 1 on request, 2 never).
    ("org.openoffice.Office.Writer/Content/Update", "Link"): "2",
}
"""Written into every worker's fresh profile: the documents converted are partly untrusted
(records intake, uploaded templates), so LibreOffice must not follow their links. The
packages are stripped of links before (``documents.untrusted``); this is the second wall."""

PROFILE_PREFIX = "certdesk-lo-"
"""A pool's folder is ``<tmp>/certdesk-lo-<certdesk pid>-<random>``: its workers' profiles,
their TMPDIR (LibreOffice's ``lu*.tmp``) and the documents being converted live inside, so
closing the pool removes everything; the pid lets a later run remove the folder of a
certdesk that was killed before it could clean up."""

LEGACY_TEMP = ("certdesk-conv-*",)
"""Conversion folders older releases made directly in the temp dir (no pid in the name)."""
LEGACY_TEMP_AGE = 3600
PIPE_GLOB = "OSL_PIPE_*_certdesk-*"
"""UNO pipe sockets LibreOffice makes in /tmp (not TMPDIR), named after our pipe names."""

RESTART_REQUESTED = 81
"""soffice.bin's exit code after it has initialised a new profile: the caller (normally the
``soffice`` script) is expected to start it again."""

_PR_SET_PDEATHSIG = 1
_prctl: Callable[..., int] | None
try:
    # Resolved once here: the child runs _child_setup between fork and exec, where it
    # must not dlopen (another thread may hold the loader lock at fork time).
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _child_setup(parent: int):
    def setup() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # certdesk died before prctl took effect
            os._exit(1)

    return setup


class _Spawner:
    """Starts every worker from one long-lived daemon thread.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process.
    A worker started from a batch's thread pool would be killed as soon as that pool shut
    down; forking from a thread that lives as long as certdesk ties the worker to the
    process instead.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="certdesk-office-spawner")
                self._thread.start()
        done: Future = Future()
        self._jobs.put((args, kwargs, done))
        return done.result()

    def _run(self) -> None:
        while True:
            args, kwargs, done = self._jobs.get()
            try:
                done.set_result(subprocess.Popen(
                    args, preexec_fn=_child_setup(os.getpid()), **kwargs))
            except BaseException as exc:  # handed to the caller, which reports it
                done.set_exception(exc)


_spawner = _Spawner()

_uno_lock = threading.Lock()
"""Serialises PyUNO's bootstrap and the workers' connection set-up (the shared local
service manager and resolver); conversions run on separate bridges and need no lock."""
_uno_local = None


def _uno():
    try:
        import uno  # noqa: PLC0415 - only present with python3-uno (system site-packages)
    except ImportError:
        raise ConversionError(
            "LibreOffice's Python bridge (python3-uno) is not importable: run scripts/setup.sh"
        ) from None
    return uno


def _local_context():
    """The process-wide UNO context, bootstrapped once: two workers starting at the same
    time must not both initialise PyUNO's runtime."""
    global _uno_local
    with _uno_lock:
        if _uno_local is None:
            _uno_local = _uno().getComponentContext()
    return _uno_local


def _props(**values):
    from com.sun.star.beans import PropertyValue  # noqa: PLC0415

    out = []
    for name, value in values.items():
        pv = PropertyValue()
        pv.Name, pv.Value = name, value
        out.append(pv)
    return tuple(out)


def sweep_stale_profiles(tmp: Path | None = None, pipes: Path = Path("/tmp")) -> list[Path]:
    """Remove pool folders and UNO pipes left by a certdesk process that no longer exists,
    and conversion folders of older releases (an hour old)."""
    tmp = Path(tmp or tempfile.gettempdir())
    removed = []
    for path in tmp.glob(f"{PROFILE_PREFIX}*-*"):
        owner = path.name[len(PROFILE_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    cutoff = time.time() - LEGACY_TEMP_AGE
    for pattern in LEGACY_TEMP:
        for path in tmp.glob(pattern):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
    for path in pipes.glob(PIPE_GLOB):
        owner = path.name.split("_certdesk-", 1)[1].split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class OfficeDied(ConversionError):
    """The worker crashed or hung (and was killed) while converting: worth one retry."""


class OfficeWorker:
    """One warm ``soffice.bin`` and the UNO connection to it; used by one thread at a time
    (the watchdog and ``ConverterPool.close`` only ever kill the process)."""

    def __init__(self, settings: Settings, folder: Path | None = None) -> None:
        self.settings = settings
        self.proc: subprocess.Popen | None = None
        self.desktop: Any = None  # a UNO object: no Python types
        self.jobs = 0
        self.profile_dir = Path(tempfile.mkdtemp(
            prefix="worker-" if folder else f"{PROFILE_PREFIX}{os.getpid()}-", dir=folder))
        self.pipe = f"certdesk-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._guard = threading.Lock()
        self._job_id = 0
        self._hung = False
        self._discarded = False
        """Set by ``discard`` (under ``_guard``): a start still running in another thread (a
        prestart) writes no profile and spawns no LibreOffice after it."""

    def _write_profile_settings(self) -> None:
        items = "".join(
            f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse">'
            f'<value>{value}</value></prop></item>'
            for (path, name), value in PROFILE_SETTINGS.items())
        user = self.profile_dir / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items '
            'xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"{items}</oor:items>\n", encoding="utf-8")

    def _refuse_if_discarded(self) -> None:
        """Called under ``_guard`` before each step that writes into the pool's folder."""
        if self._discarded:
            raise ConversionError("the converter pool was closed while LibreOffice started")

    def start(self) -> None:
        soffice = self.settings.soffice
        if not Path(soffice).exists() and not shutil.which(soffice):
            raise ConversionError(f"LibreOffice not found at {soffice}: run scripts/setup.sh")
        tmp = self.profile_dir / "tmp"  # LibreOffice's lu*.tmp go here, removed with it
        with self._guard:
            self._refuse_if_discarded()
            self._write_profile_settings()
            tmp.mkdir(exist_ok=True)
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "SAL_USE_VCLPLUGIN": "svp",
               "TMPDIR": str(tmp)}
        args = [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
                "--nolockcheck", "--nofirststartwizard",
                f"-env:UserInstallation={self.profile_dir.as_uri()}",
                f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"]
        local = _local_context()
        with _uno_lock:
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + 90
        self.proc = None
        while True:
            if self.proc is None or self.proc.returncode == RESTART_REQUESTED:
                with self._guard:  # discard() kills what was spawned before, not after
                    self._refuse_if_discarded()
                    self.proc = _spawner.popen(
                        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                with _uno_lock:
                    ctx = resolver.resolve(
                        f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                    desktop = ctx.ServiceManager.createInstanceWithContext(
                        "com.sun.star.frame.Desktop", ctx)
                    desktop.loadComponentFromURL  # noqa: B018 - looked up once, under the lock
                break
            except Exception as exc:
                # NoConnectException while it boots; a first start with a new profile can
                # accept the connection and then exit to restart, so anything failing here
                # means "not up yet" until the process has really died or time is up.
                code = self.proc.poll()
                if (code is not None and code != RESTART_REQUESTED) \
                        or time.monotonic() > deadline:
                    self.kill()
                    raise OfficeDied(f"LibreOffice did not start ({exc})") from None
                time.sleep(0.1)
        self.desktop = desktop
        self.jobs = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.desktop is not None

    def _watchdog(self, job_id: int) -> None:
        with self._guard:
            if job_id != self._job_id:  # that job finished in time
                return
            self._hung = True
        self.kill()

    def convert(self, src: Path, dst: Path, timeout: float) -> None:
        """Convert one document. ``OfficeDied`` when the process crashed or hung (it is
        then dead and the next call starts a fresh one); ``ConversionError`` when
        LibreOffice refused the document but lives on."""
        uno = _uno()
        name = Path(src).name
        if Path(src).stat().st_size == 0:  # LibreOffice would make a blank page of it
            raise ConversionError(f"{name} is empty")
        if not self.alive:
            self.start()
        with self._guard:
            self._job_id += 1
            self._hung = False
            timer = threading.Timer(timeout, self._watchdog, (self._job_id,))
        timer.daemon = True
        timer.start()
        doc = None
        try:
            doc = self.desktop.loadComponentFromURL(
                Path(src).resolve().as_uri(), "_blank", 0,
                _props(Hidden=True, ReadOnly=True, UpdateDocMode=0, MacroExecutionMode=0,
                       FilterName=DOCX_FILTER))
            if doc is None:
                raise ConversionError(f"LibreOffice could not open {name}")
            filter_data = uno.Any("[]com.sun.star.beans.PropertyValue",
                                  _props(**PDF_FILTER_DATA))
            uno.invoke(doc, "storeToURL", (Path(dst).resolve().as_uri(), _props(
                FilterName="writer_pdf_Export", FilterData=filter_data)))
        except ConversionError:
            raise
        except Exception as exc:  # UNO exceptions do not share a Python base class
            if self._hung:
                raise OfficeDied(f"LibreOffice hung on {name} (killed after {timeout:g} s)"
                                 ) from None
            assert self.proc is not None, "started above"
            if self.proc.poll() is not None or "Disposed" in type(exc).__name__ \
                    or "Runtime" in type(exc).__name__:
                self.kill()
                raise OfficeDied(f"LibreOffice crashed on {name}") from None
            message = getattr(exc, "Message", "") or type(exc).__name__
            raise ConversionError(f"LibreOffice refused {name}: {message}") from None
        finally:
            with self._guard:
                self._job_id += 1  # disarm the watchdog before anything else can block
            timer.cancel()
            if doc is not None and self.alive:
                with contextlib.suppress(Exception):
                    doc.close(True)
        self.jobs += 1

    def kill(self) -> None:
        self.desktop = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Ask LibreOffice to quit (it saves its profile), kill it if it does not."""
        if self.alive and self.proc is not None:
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()
        self.proc = None

    def discard(self) -> None:
        """Kill the worker and remove its profile for good, also while another thread is
        starting it (``ConverterPool.close`` during a prestart, on SIGTERM): that start then
        fails instead of recreating the profile folder after it was removed."""
        with self._guard:
            self._discarded = True
        self.kill()
        shutil.rmtree(self.profile_dir, ignore_errors=True)


_live_pools: weakref.WeakSet[ConverterPool] = weakref.WeakSet()


class ConverterPool:
    """Up to ``size`` warm workers; ``convert`` is thread-safe and blocks for a free one."""

    def __init__(self, size: int | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.size = max(1, size or self.settings.converter_workers)
        self._cond = threading.Condition()
        self._idle: list[OfficeWorker] = []
        self._all: list[OfficeWorker] = []
        self._closed = False
        self.restarts = 0
        """Workers restarted: crashed, hung or recycled."""
        sweep_stale_profiles()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-"))
        _live_pools.add(self)

    def _acquire(self) -> OfficeWorker:
        with self._cond:
            while True:
                if self._closed:
                    raise ConversionError("the converter pool is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self.size:
                    worker = OfficeWorker(self.settings, self.folder)
                    self._all.append(worker)
                    return worker
                self._cond.wait()

    def _release(self, worker: OfficeWorker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        worker.discard()  # close() ran while this worker was busy

    def _restarted(self) -> None:
        with self._cond:
            self.restarts += 1

    def convert(self, src: Path, dst: Path, documents: int = 1) -> Path:
        """Convert ``src`` (.docx) to PDF/A at ``dst``; retried once on a fresh worker
        when LibreOffice crashes or hangs on it. ``documents``: how many documents ``src``
        merges (``documents.merge``); each counts towards the worker's recycling, as
        LibreOffice grows with the pages it lays out, not with the files."""
        timeout = self.settings.converter_timeout
        worker = self._acquire()
        try:
            try:
                worker.convert(src, dst, timeout)
            except OfficeDied as first:
                self._restarted()
                if self._closed:
                    raise ConversionError(f"{first}; the converter pool was closed") from None
                try:
                    worker.convert(src, dst, timeout)
                except OfficeDied as second:
                    self._restarted()
                    raise ConversionError(f"{second}, also on the retry: not converted"
                                          ) from None
            worker.jobs += documents - 1
            if worker.jobs >= self.settings.converter_recycle_after:
                worker.stop()
                self._restarted()
        finally:
            self._release(worker)
        return dst

    def prestart(self) -> None:
        """Start the workers in the background now, so that the first conversions do not
        wait for LibreOffice to start (seconds); a worker that fails to start is started
        again, and its error reported, by the conversion that needs it."""
        def start() -> None:
            try:
                worker = self._acquire()
            except ConversionError:  # closed meanwhile
                return
            try:
                if not worker.alive:
                    worker.start()
            except ConversionError:
                pass
            finally:
                self._release(worker)

        with self._cond:
            missing = self.size - len(self._all)
        for _ in range(missing):
            threading.Thread(target=start, daemon=True, name="certdesk-office-prestart").start()

    def convert_bytes(self, docx: bytes, name: str = "document", documents: int = 1) -> bytes:
        """Convert in-memory .docx bytes (links to outside the package removed first, see
        ``documents.untrusted``); ``name`` (a certificate number, a reference)
        names the file LibreOffice sees, so its errors name the document; ``documents``
        as for ``convert``."""
        stem = re.sub(r"[^\w.-]+", "_", name).strip("._")[:80] or "document"
        docx, _removed = strip_external(docx)  # every package may come from outside
        if self._closed:
            raise ConversionError("the converter pool is closed")
        with tempfile.TemporaryDirectory(prefix="conv-", dir=self.folder) as tmp:
            src = Path(tmp) / f"{stem}.docx"
            src.write_bytes(docx)
            dst = Path(tmp) / f"{stem}.pdf"
            self.convert(src, dst, documents)
            if not dst.is_file() or dst.stat().st_size == 0:
                raise ConversionError(f"LibreOffice produced no PDF for {name}")
            return dst.read_bytes()

    @property
    def pids(self) -> list[int]:
        return [w.proc.pid for w in list(self._all)
                if w.proc is not None and w.proc.poll() is None]

    def close(self) -> None:
        """Kill every worker now, busy or not (a busy one's conversion fails), and remove
        the profiles. Idempotent."""
        with self._cond:
            self._closed = True
            workers, self._all, self._idle = self._all, [], []
            self._cond.notify_all()
        for worker in workers:
            worker.discard()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ConverterPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for pool in list(_live_pools):
        pool.close()
