"""The command line speaks the locale's language: Chinese under ``zh_CN.UTF-8``, English
otherwise (as it always has) — errors with their file, record and field, the summary of a
batch; ``--json`` keys stay the same in both."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

NO_NAME = {"uscc": "91110105MA01XB8H2N", "registered_address": "北京市朝阳区建国路88号",
           "scope": "家用电器的维修", "decision_date": "2026-03-10"}


def locale(lang: str) -> dict[str, str]:
    # The variables that outrank LANG are emptied: the test's own shell may set them.
    return {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": "",
            "CERTDESK_ALLOW_UNVERIFIED_PROFILE": "1"}


@pytest.mark.parametrize("lang, line", [
    ("zh_CN.UTF-8", "error: orgs.json：第 1 条记录：字段 'name' 缺失或为空"),
    ("C.UTF-8", "error: orgs.json: record 1: field 'name' is missing or empty"),
    ("en_US.UTF-8", "error: orgs.json: record 1: field 'name' is missing or empty"),
])
def test_an_input_error_names_file_record_and_field_in_the_locales_language(
        home, tmp_path, lang, line):
    orgs = tmp_path / "orgs.json"
    orgs.write_text(json.dumps(NO_NAME, ensure_ascii=False), encoding="utf-8")
    result = run_cli("issue", "--profile", "xbht", "-i", str(orgs), "--dry-run", home=home,
                     env=locale(lang))
    assert result.returncode == 2 and result.stderr.strip() == line


def test_a_batchs_summary_is_translated_and_its_json_keys_are_not(home, tmp_path):
    orgs = tmp_path / "two.json"
    orgs.write_text(json.dumps([NO_NAME, NO_NAME], ensure_ascii=False), encoding="utf-8")
    args = ("issue", "--profile", "xbht", "-i", str(orgs), "--dry-run")
    zh = run_cli(*args, home=home, env=locale("zh_CN.UTF-8"))
    en = run_cli(*args, home=home, env=locale("C"))
    assert "0 个组织将签发；跳过 0 个；2 个组织中 2 个失败（试运行：未保存任何内容）" in zh.stdout
    assert "0 organisation(s) would be issued; 0 skipped; 2 of 2 organisation(s) failed " \
           "(dry run: nothing stored)" in en.stdout
    assert "第 1 条     有错误  -  [name] two.json：第 1 条记录：" in zh.stdout
    assert "record 1  error  -  [name] two.json: record 1: " in en.stdout
    zh_json = json.loads(run_cli(*args, "--json", home=home, env=locale("zh_CN.UTF-8")).stdout)
    en_json = json.loads(run_cli(*args, "--json", home=home, env=locale("C")).stdout)
    assert zh_json.keys() == en_json.keys() and zh_json["summary"] == en_json["summary"]
    assert [f.keys() for f in zh_json["failed"]] == [f.keys() for f in en_json["failed"]]
    assert "缺失或为空" in zh_json["failed"][0]["reason"]
    assert "is missing or empty" in en_json["failed"][0]["reason"]
