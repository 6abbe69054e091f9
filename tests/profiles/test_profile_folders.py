"""A body keeps its profiles outside the code: ``CERTDESK_PROFILE_DIRS`` names folders that
are searched before the shipped ``certdesk/profiles/``. A broken profile there is refused in
one line naming the file and the field."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from certdesk.common.errors import ConfigError
from certdesk.domain.profiles import load_profiles
from certdesk.profiles import TEMPLATES_DIR
from tests.conftest import run_cli
from tests.documents.support import pdftotext

BODY = "远方认证有限公司"


def _body_folder(root: Path, pid: str = "acme", *, like: str = "xbht") -> Path:
    """A copy of shipped profile ``like`` under ``root/pid`` with its own body name and its
    own certificate template (the other templates stay the shipped ``base/`` ones)."""
    folder = root / pid
    shutil.copytree(TEMPLATES_DIR / like, folder)
    shutil.copy(TEMPLATES_DIR / "base" / "certificate.docx", folder / "certificate.docx")
    text = (folder / "profile.toml").read_text(encoding="utf-8")
    text = text.replace('certificate = "base/certificate.docx"',
                        f'certificate = "{pid}/certificate.docx"')
    lines = [f'name = "{BODY}"' if line.startswith("name = ") and i < 10 else line
             for i, line in enumerate(text.splitlines())]
    (folder / "profile.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_profile_folder_outside_the_package_is_loaded_before_the_shipped_one(tmp_path):
    _body_folder(tmp_path)
    profiles = load_profiles([tmp_path])
    acme = profiles.get("acme")
    assert acme.body.name == BODY
    assert acme.template_path("certificate") == (tmp_path / "acme" / "certificate.docx").resolve()
    assert acme.template_path("report") == (TEMPLATES_DIR / "base" / "report.docx").resolve()
    assert acme.rules.scoring.profile == "acme"  # parsed with the profile, from its folder
    assert set(profiles.ids()) > {"acme", "xbht", "cacq"}
    assert profiles.folders == (tmp_path.resolve(), TEMPLATES_DIR)


def test_a_body_folder_holding_a_shipped_id_overrides_the_shipped_profile(tmp_path):
    _body_folder(tmp_path, "xbht")
    assert load_profiles([tmp_path]).get("xbht").body.name == BODY
    assert load_profiles().get("xbht").body.name != BODY


@pytest.mark.office
def test_a_certificate_is_issued_from_a_body_profile_kept_outside_the_code(home, tmp_path):
    _body_folder(tmp_path / "bodies")
    org = tmp_path / "o.json"
    org.write_text(json.dumps({
        "name": "测试家电服务有限公司", "uscc": "91110105MA01XB8H2N",
        "registered_address": "北京市朝阳区", "scope": "家用电器的维修",
        "decision_date": "2026-11-18", "grade": "五星级"}, ensure_ascii=False), encoding="utf-8")
    env = {"CERTDESK_PROFILE_DIRS": os.pathsep.join(["", str(tmp_path / "bodies")])}
    listed = run_cli("profiles", "--json", home=home, env=env)
    assert "acme" in [p["id"] for p in json.loads(listed.stdout)["profiles"]]
    res = run_cli("issue", "-p", "acme", "-i", str(org), "--json", home=home, env=env)
    assert res.returncode == 0, res.stderr
    [issued] = json.loads(res.stdout)["certificates"]
    assert BODY in "".join(pdftotext(Path(issued["pdf"])).split())
    checked = run_cli("verify", issued["pdf"], "--json", home=home, env=env)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    "file,old,new,named",
    [
        ("profile.toml", "[body]\n", "[body]\ncolour = \"red\"\n",
         r"profile\.toml \[body\]: unknown key\(s\) colour"),
        ("profile.toml", '\ncode = "', '\ncode = "Z', r"profile\.toml \[scheme\] code: 'Z"),
        ("profile.toml", "sequence_width = 4", "sequence_width = 6",
         r"profile\.toml \[numbering\] sequence_width"),
        ("rules.toml", "[sampling]\n", "[sampling]\nstyle = 1\n",
         r"rules\.toml \[sampling\]: unknown key\(s\) style"),
        ("rules.toml", "[decision]", "[decisions]", r"rules\.toml has no \[decision\] section"),
        ("rules.toml", "[cycle]\n", "[cycle\n", r"rules\.toml: "),
    ],
)
def test_a_broken_profile_folder_is_refused_naming_the_file_and_field(tmp_path, file, old, new,
                                                                      named):
    folder = _body_folder(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=str(folder.resolve()) + ".*" + named):
        load_profiles([tmp_path])


def test_the_cli_refuses_a_broken_profile_folder_in_one_line(home, tmp_path):
    folder = _body_folder(tmp_path)
    rules = folder / "rules.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("[sampling]\n",
                                                               "[sampling]\nstyle = 1\n"),
                     encoding="utf-8")
    res = run_cli("profiles", home=home, env={"CERTDESK_PROFILE_DIRS": str(tmp_path)})
    assert res.returncode != 0
    errors = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, res.stderr
    assert str(rules.resolve()) in errors[0] and "[sampling]" in errors[0] and "style" in errors[0]


def test_a_profile_folder_setting_naming_no_folder_is_refused(home, tmp_path):
    res = run_cli("profiles", home=home, env={"CERTDESK_PROFILE_DIRS": str(tmp_path / "none")})
    assert res.returncode != 0
    assert "CERTDESK_PROFILE_DIRS" in res.stderr and str(tmp_path / "none") in res.stderr
