"""The README's everyday commands, run in order as written on a fresh home (real
LibreOffice): a user copying them line by line must not meet an error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.office


def everyday_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Everyday commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_everyday_commands_run_in_order_on_a_fresh_home(tmp_path):
    commands = everyday_commands()
    exports = [line for line in commands if line.startswith("export ")]
    commands = [line for line in commands if not line.startswith("export ")]
    assert len(commands) >= 10 and commands[0].startswith("certdesk certify")
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTDESK_")}
    # The default home (~/.local/share/certdesk) as the README means it, in a fresh HOME.
    env.update(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    for line in exports:  # each command runs in its own shell: the exports go into its env
        key, _, value = line.removeprefix("export ").split("#")[0].strip().partition("=")
        env[key] = value
    for line in commands:
        done = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    home = tmp_path / ".local" / "share" / "certdesk"
    assert (home / "certdesk.db").is_file() and (work / "认监委报送.xlsx").is_file()
    assert (work / "即将到期.xlsx").is_file()
    # Yesterday's number after re-certification: refused, naming the number to use now.
    stale = subprocess.run(["bash", "-c", 'certdesk reissue 027326FWF0001R000 --name x --reason y'],
                           cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert stale.returncode != 0
    assert "re-certified as 027329FWF0001R100: use that number" in stale.stderr
