"""Shared helpers: run the real ``certdesk`` boundary in-process and read its output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture
def certdesk(monkeypatch, capsys):
    """``certdesk(*args)`` runs ``certdesk.cli.main.main`` (the console script) and returns
    exit code, stdout and stderr, so error handling is tested exactly as users meet it."""
    from certdesk.cli.main import main

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["certdesk", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run
