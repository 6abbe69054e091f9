"""The domain's refusals are msgids: a clerk under a Chinese locale reads them in Chinese,
the command line elsewhere prints them in the English it always has, clause and all."""

from __future__ import annotations

import pytest

from tests.cli.test_cli_language import locale
from tests.conftest import run_cli


@pytest.mark.parametrize("lang, line", [
    ("zh_CN.UTF-8", "error: 暂停期最长 6 个月，不能为 7 个月；期满仍未解决的应撤销证书 "
                    "[CACQ 9.1.1, 8.1.2]"),
    ("C.UTF-8", "error: a suspension lasts at most 6 months, not 7; unresolved at the end "
                "means revocation [CACQ 9.1.1, 8.1.2]"),
])
def test_a_rule_refusal_reads_in_the_locales_language_with_its_clause(home, lang, line):
    result = run_cli("rules", "suspension", "--profile", "cacq", "--start", "2026-11-02",
                     "--months", "7", home=home, env=locale(lang))
    assert result.returncode != 0 and result.stderr.strip() == line


def test_a_credit_code_error_in_json_gives_the_reason_in_the_locales_language(home):
    zh = run_cli("rules", "uscc", "123", "--json", home=home, env=locale("zh_CN.UTF-8"))
    en = run_cli("rules", "uscc", "123", "--json", home=home, env=locale("C"))
    assert "有 3 位，应为 18 位" in zh.stdout and "has 3 characters, expected 18" in en.stdout

