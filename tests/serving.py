"""An ASGI app served by uvicorn on a free loopback port, in a thread of the test process
(so it shares fixtures such as the warm LibreOffice pool).

uvicorn is imported at the top: once LibreOffice's ``uno`` is loaded, its import hook turns
ModuleNotFoundError into a plain ImportError, and uvicorn's optional ``try: import a2wsgi /
except ModuleNotFoundError`` then fails if imported after it. Test modules import this one
at collection for the same reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """The base URL of ``app`` served until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
