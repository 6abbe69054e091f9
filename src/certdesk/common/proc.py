"""Which process did something, and is it still running? Lets a later run tell work in
flight (leave it) from work a killed process left behind (clean it up)."""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_ticks(pid: int) -> str:
    """The process's start time (clock ticks after boot), so a reused pid is not mistaken
    for the process that drew; "0" where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]


@cache
def process_tag() -> str:
    """``host:pid:start`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def tag_alive(tag: str) -> bool | None:
    """Whether the process ``tag`` names still runs; None when it ran on another host."""
    parts = tag.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    host, pid, start = parts
    if host != socket.gethostname():
        return None
    return pid_alive(int(pid)) and _start_ticks(int(pid)) == start
