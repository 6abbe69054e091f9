"""DOCX → PDF/A-2b through long-lived LibreOffice processes (our own small UNO bridge).

Starting LibreOffice costs seconds; a warm one converts a page in a fraction of a second.
A ``ConverterPool`` keeps up to N ``soffice.bin`` workers, each with its own user profile
(two sharing one fail) and its own pipe. A worker is recycled after ``recycle_after``
documents (LibreOffice slowly grows) and killed by a watchdog when a conversion hangs; the
document is then retried once on a fresh worker. Workers die with certdesk (PDEATHSIG,
atexit), so none is left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

from common.errors import ConversionError
from common.settings import Settings, get_settings

FONTS_CONF = Path(__file__).with_name("fonts.conf")

# PDF/A-2b; tagged; no forms; fonts are always embedded in PDF/A.
PDF_FILTER_DATA = {
    "SelectPdfVersion": 2,
    "UseTaggedPDF": True,
    "ExportFormFields": False,
    "ExportBookmarks": False,
    "Quality": 90,
}


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the worker gets SIGKILL if certdesk dies, even by kill -9.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def _uno():
    try:
        import uno  # noqa: PLC0415 - only present with python3-uno (system site-packages)
    except ImportError:
        raise ConversionError(
            "LibreOffice's Python bridge (python3-uno) is not importable: run scripts/setup.sh"
        ) from None
    return uno


def _props(uno, **values):
    from com.sun.star.beans import PropertyValue  # noqa: PLC0415

    out = []
    for name, value in values.items():
        pv = PropertyValue()
        pv.Name, pv.Value = name, value
        out.append(pv)
    return tuple(out)


class OfficeWorker:
    """One warm ``soffice.bin`` and the UNO connection to it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen | None = None
        self.desktop = None
        self.jobs = 0
        self.profile_dir = Path(tempfile.mkdtemp(prefix="certdesk-lo-"))
        self.pipe = f"certdesk-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def start(self) -> None:
        uno = _uno()
        soffice = self.settings.soffice
        if not Path(soffice).exists() and not shutil.which(soffice):
            raise ConversionError(f"LibreOffice not found at {soffice}: run scripts/setup.sh")
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "SAL_USE_VCLPLUGIN": "svp"}
        self.proc = subprocess.Popen(
            [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             "--nolockcheck", "--nofirststartwizard",
             f"-env:UserInstallation={self.profile_dir.as_uri()}",
             f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + 90
        while True:
            try:
                ctx = resolver.resolve(
                    f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except Exception as exc:  # NoConnectException while it boots
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ConversionError(f"LibreOffice did not start ({exc})") from None
                time.sleep(0.1)
        self.desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx)
        self.jobs = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.desktop is not None

    def convert(self, src: Path, dst: Path, timeout: float) -> None:
        uno = _uno()
        if not self.alive:
            self.start()
        watchdog = threading.Timer(timeout, self.kill)
        watchdog.start()
        doc = None
        try:
            doc = self.desktop.loadComponentFromURL(
                Path(src).resolve().as_uri(), "_blank", 0,
                _props(uno, Hidden=True, ReadOnly=True, UpdateDocMode=0))
            if doc is None:
                raise ConversionError(f"LibreOffice could not open {Path(src).name}")
            filter_data = uno.Any("[]com.sun.star.beans.PropertyValue",
                                  _props(uno, **PDF_FILTER_DATA))
            uno.invoke(doc, "storeToURL", (Path(dst).resolve().as_uri(), _props(
                uno, FilterName="writer_pdf_Export", FilterData=filter_data)))
        except ConversionError:
            raise
        except Exception as exc:
            self.kill()
            raise ConversionError(f"LibreOffice failed on {Path(src).name}: {exc}") from None
        finally:
            watchdog.cancel()
            if doc is not None:
                with contextlib.suppress(Exception):
                    doc.close(True)
        self.jobs += 1

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        self.desktop = None

    def stop(self) -> None:
        if self.desktop is not None and self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        self.kill()
        self.proc = None

    def discard(self) -> None:
        self.stop()
        shutil.rmtree(self.profile_dir, ignore_errors=True)


_live_pools: weakref.WeakSet[ConverterPool] = weakref.WeakSet()


class ConverterPool:
    """Up to ``size`` warm workers; ``convert`` is thread-safe and blocks for a free one."""

    def __init__(self, size: int | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.size = size or self.settings.converter_workers
        self._idle: queue.LifoQueue[OfficeWorker] = queue.LifoQueue()
        self._all: list[OfficeWorker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        _live_pools.add(self)

    def _acquire(self) -> OfficeWorker:
        with self._lock:
            if self._closed:
                raise ConversionError("converter pool is closed")
            if self._idle.empty() and len(self._all) < self.size:
                worker = OfficeWorker(self.settings)
                self._all.append(worker)
                return worker
        return self._idle.get()

    def convert(self, src: Path, dst: Path) -> Path:
        """Convert ``src`` (.docx) to PDF/A at ``dst``; retried once on a fresh worker."""
        worker = self._acquire()
        try:
            for attempt in (1, 2):
                try:
                    worker.convert(src, dst, self.settings.converter_timeout)
                    break
                except ConversionError:
                    if worker.alive or attempt == 2:
                        raise
                    self.restarts += 1  # it crashed or hung: retry on a fresh process
            if worker.jobs >= self.settings.converter_recycle_after:
                worker.stop()
                self.restarts += 1
        finally:
            self._idle.put(worker)
        return dst

    def convert_bytes(self, docx: bytes, name: str = "document") -> bytes:
        with tempfile.TemporaryDirectory(prefix="certdesk-conv-") as tmp:
            src = Path(tmp) / f"{name}.docx"
            src.write_bytes(docx)
            dst = Path(tmp) / f"{name}.pdf"
            self.convert(src, dst)
            if not dst.is_file() or dst.stat().st_size == 0:
                raise ConversionError(f"LibreOffice produced no PDF for {name}")
            return dst.read_bytes()

    @property
    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._all if w.proc is not None and w.proc.poll() is None]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for worker in workers:
            worker.discard()

    def __enter__(self) -> ConverterPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for pool in list(_live_pools):
        pool.close()
