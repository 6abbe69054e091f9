"""Piped or redirected output is read by programs and grep: never wrapped, never cut."""

from __future__ import annotations


def test_a_table_piped_to_another_program_keeps_each_row_on_one_line(cli):
    out = cli("profiles", env={"COLUMNS": "60"})
    assert out.returncode == 0, out.stderr
    [row] = [line for line in out.stdout.splitlines() if "xbht" in line]
    for cell in ("北京新标恒通认证有限公司", "商品售后服务成熟度评价服务认证", "0273 FWF",
                 "default (CACQ 11.1); XBHT seed silent"):
        assert cell in row
    assert "…" not in out.stdout


def test_an_error_piped_is_one_line_however_long(cli, tmp_path):
    deep = tmp_path / ("很长的文件夹名称" * 12) / "organisations.json"
    out = cli("issue", "--profile", "xbht", "--input", str(deep))
    assert out.returncode != 0
    [line] = [x for x in out.stderr.splitlines() if x.startswith("error:")]
    assert str(deep.name) in line and "很长的文件夹名称" * 12 in line
