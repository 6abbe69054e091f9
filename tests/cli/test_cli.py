"""The CLI as a product: every command answers --help, and failures are one line."""

from __future__ import annotations

import json
import re

import typer.main

from certdesk.cli.main import app
from tests.conftest import run_cli


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        yield path
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path)


def test_every_command_answers_help_with_a_description():
    from click.testing import CliRunner

    root = typer.main.get_command(app)
    paths = list(_commands(root))
    assert len(paths) > 10
    runner = CliRunner()
    for path in paths:  # on the tree built once, as typer's runner would rebuild it per call
        result = runner.invoke(root, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output and len(result.output.splitlines()) > 3, path


def test_no_help_text_holds_what_markdown_would_swallow():
    """Help is rendered as Markdown (paragraphs wrap): ``<home>`` would vanish as an HTML
    tag, as it once did from ``export --out``."""
    root = typer.main.get_command(app)
    texts = []

    def walk(cmd, path=()):
        texts.append((path, cmd.help or ""))
        texts.extend(((*path, p.name), getattr(p, "help", None) or "") for p in cmd.params)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(root)
    assert [(path, text) for path, text in texts if re.search(r"<[A-Za-z/]", text)] == []


def test_profiles_lists_the_five_bodies_as_json(cli):
    result = cli("profiles", "--json")
    assert result.returncode == 0
    ids = [p["id"] for p in json.loads(result.stdout)["profiles"]]
    assert ids == ["cacq", "dni-sh", "dni-spshfw", "xbht", "zpic"]


def test_number_parse_prints_the_parts_of_a_spaced_number(cli):
    result = cli("number", "parse", "0273 26 FWF 0001 R0 00 -1", "--json")
    assert json.loads(result.stdout) == {
        "body_code": "0273", "year": 26, "scheme": "FWF", "sequence": "0001", "cycle": 0,
        "accreditation_code": "00", "sub": 1}


def test_an_invalid_number_gets_one_line_and_a_non_zero_exit(cli):
    result = cli("number", "parse", "0273 26 FWX 0001 R0 00")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "scheme 'FWX'" in result.stderr
    result = cli("number", "parse", "27326FWF1R000")
    assert result.returncode == 2 and "not a certificate number" in result.stderr


def test_verify_of_a_missing_file_is_one_line(tmp_path):
    result = run_cli("verify", str(tmp_path / "nope.pdf"), home=tmp_path)
    assert result.returncode != 0
    assert "nope.pdf" in result.stderr and "Traceback" not in result.stderr
