"""``certdesk rules ...`` as users run it: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "score-sheet.json"
COMMANDS = ["dates", "man-days", "sample", "score", "grade", "uscc", "suspension", "nc-deadline",
            "follow-up"]
VALID_USCC = "91350100M000100Y43"


def one_line_error(run, code=2, match=""):
    assert run.code == code, (run.code, run.out, run.err)
    assert "Traceback" not in run.err + run.out
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    assert match in lines[0]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_rules_command_has_help(certdesk, command):
    run = certdesk("rules", *command, "--help")
    assert run.code == 0
    assert "Usage" in run.out


def test_dates_prints_the_certificate_dates_as_json(certdesk):
    run = certdesk("rules", "dates", "--profile", "cacq", "--audit", "initial",
                   "--decision", "2024-03-10", "--issue", "2024-03-15", "--json")
    assert run.code == 0, run.err
    data = run.json
    assert (data["issue_date"], data["effective_from"], data["expiry_date"]) == (
        "2024-03-15", "2024-03-15", "2027-03-14")
    assert data["surveillance_due"] == ["2025-03-14", "2026-03-14"]


def test_dates_for_a_late_recertification_start_at_the_decision(certdesk):
    run = certdesk("rules", "dates", "-p", "xbht", "--audit", "recertification",
                   "--decision", "2027-05-01", "--previous-expiry", "2027-03-14", "--json")
    data = run.json
    assert (data["effective_from"], data["expiry_date"], data["late_recertification"]) == (
        "2027-05-01", "2030-03-14", True)


def test_dates_speak_to_people_without_json(certdesk):
    run = certdesk("rules", "dates", "-p", "dni-spshfw", "--audit", "initial",
                   "--decision", "2024-03-10")
    assert run.code == 0
    assert "expiry date" in run.out and "2027-03-09" in run.out and "on request" in run.out


def test_man_days_prints_the_days_and_the_table_row(certdesk):
    run = certdesk("rules", "man-days", "-p", "xbht", "--people", "50", "--audit",
                   "surveillance", "--json")
    data = run.json
    assert data["man_days"] == 1.0
    assert data["row"] == {"from": 46, "to": 65, "initial": 3.0, "surveillance": 1.0,
                           "recertification": 2.0, "extrapolated": False}


def test_man_days_flags_an_extrapolated_row(certdesk):
    run = certdesk("rules", "man-days", "-p", "dni-sh", "--people", "11000", "--audit",
                   "initial", "--sites", "3", "--json")
    data = run.json
    assert (data["man_days"], data["extrapolated"]) == (22.0, True)
    run = certdesk("rules", "man-days", "-p", "dni-sh", "--people", "11000", "--audit",
                   "initial")
    assert "EXTRAPOLATED" in run.out


def test_man_days_for_cacq_show_the_service_feature_cell(certdesk):
    run = certdesk("rules", "man-days", "-p", "cacq", "--people", "30", "--audit", "initial",
                   "--products", "3", "--service-items", "12", "--json")
    data = run.json
    assert data["man_days"] == 4.0
    assert data["feature"] == {"products": "1-5", "service_items": "9+", "days": 3.0,
                               "filled": True}
    assert "seed cell missing" in " ".join(data["clauses"])
    human = certdesk("rules", "man-days", "-p", "cacq", "--people", "30", "--audit", "initial",
                     "--products", "3", "--service-items", "12")
    assert "filled setting" in human.out


def test_sample_prints_the_sample(certdesk):
    data = certdesk("rules", "sample", "-p", "xbht", "--sites", "30", "--audit",
                    "surveillance", "--coefficient", "1.1", "--json").json
    assert (data["sample"], data["random_at_least"]) == (7, 2)
    human = certdesk("rules", "sample", "-p", "zpic", "--sites", "30", "--audit", "initial")
    assert "audit 6 of 30 sites" in human.out


def test_score_scores_the_example_sheet(certdesk):
    data = certdesk("rules", "score", "--profile", "zpic", str(EXAMPLE), "--json").json
    assert (data["score"], data["grade"], data["passed"]) == (86.1, "三星级", True)
    human = certdesk("rules", "score", "--profile", "zpic", str(EXAMPLE))
    assert "三星级" in human.out and "商品服务" in human.out


def test_grade_prints_score_grade_and_pass(certdesk):
    data = certdesk("rules", "grade", "-p", "dni-sh", "--score", "90", "--json").json
    assert (data["score"], data["grade"], data["passed"]) == (90.0, "四星级", True)
    failed = certdesk("rules", "grade", "-p", "dni-sh", "--score", "90", "--deductions", "5")
    assert failed.code == 0 and "不合格" in failed.out


def test_grade_compares_the_exact_score_with_the_thresholds(certdesk):
    # DNI 5.3.3.7 "低于70分（不含）…不合格"; DNI-SH "达到95分（含95分）…五星级"
    data = certdesk("rules", "grade", "-p", "dni-spshfw", "--score", "69.95", "--json").json
    assert (data["score"], data["grade"], data["passed"]) == (69.9, None, False)
    data = certdesk("rules", "grade", "-p", "dni-sh", "--score", "94.96", "--json").json
    assert (data["score"], data["grade"]) == (94.9, "四星级")


def test_suspension_and_close_out_deadlines(certdesk):
    data = certdesk("rules", "suspension", "-p", "zpic", "--start", "2024-03-10", "--json").json
    assert (data["ends"], data["latest_end"]) == ("2024-06-09", "2024-09-09")
    data = certdesk("rules", "nc-deadline", "-p", "dni-sh", "--audit", "surveillance",
                    "--audit-end", "2024-03-10", "--json").json
    assert data["due_by"] == "2024-05-10"
    for args in (["suspension", "-p", "cacq", "--start", "2024-03-10"],
                 ["nc-deadline", "-p", "cacq", "--audit", "initial", "--audit-end",
                  "2024-03-10"]):
        assert certdesk("rules", *args).code == 0


def test_follow_up_lists_the_evaluation_and_report_due_and_a_late_report(certdesk):
    # CACQ 7.3.4.4: evaluation within 2 months of a surveillance; 7.9.1: report in 1 month
    data = certdesk("rules", "follow-up", "-p", "cacq", "--audit", "surveillance",
                    "--audit-end", "2027-03-10", "--report", "2027-04-20", "--json").json
    assert [(o["kind"], o["due_by"], o["clause"]) for o in data["owed"]] == [
        ("service_feature", "2027-05-10", "CACQ 7.3.4.4"), ("report", "2027-06-10", "CACQ 7.9.1")]
    (late,) = data["late"]
    assert "by 2027-04-10 [CACQ 7.9.1]" in late
    xbht = certdesk("rules", "follow-up", "-p", "xbht", "--audit", "initial", "--audit-end",
                    "2027-03-10")
    assert xbht.code == 0 and "none set by the body" in xbht.out


def test_a_valid_credit_code_exits_0(certdesk):
    run = certdesk("rules", "uscc", VALID_USCC.lower())
    assert (run.code, run.out.strip()) == (0, f"valid: {VALID_USCC}")
    assert certdesk("rules", "uscc", VALID_USCC, "--json").json == {"code": VALID_USCC,
                                                                   "valid": True}


def test_an_invalid_credit_code_exits_1_with_the_reason(certdesk):
    one_line_error(certdesk("rules", "uscc", VALID_USCC[:-1] + "4"), code=1,
                   match="check character '4', expected '3'")
    run = certdesk("rules", "uscc", "123", "--json")
    assert run.code == 1 and run.json["valid"] is False and "18" in run.json["reason"]


@pytest.mark.parametrize(
    "args,code,match",
    [
        (["dates", "-p", "nope", "--audit", "initial", "--decision", "2024-01-01"], 2,
         "unknown profile 'nope'"),
        (["dates", "-p", "cacq", "--audit", "initial", "--decision", "2024-02-30"], 2,
         "--decision '2024-02-30' is not a date"),
        (["dates", "-p", "cacq", "--audit", "initial", "--decision", "2024-03-10",
          "--issue", "2024-03-01"], 2, "before the decision date"),
        (["dates", "-p", "cacq", "--audit", "recertification", "--decision", "2024-03-10"], 2,
         "needs --previous-expiry"),
        (["dates", "-p", "zpic", "--audit", "recertification", "--decision", "2027-10-01",
          "--previous-expiry", "2027-03-14"], 2, "new initial certification"),
        (["dates", "-p", "cacq", "--audit", "surveillance", "--decision", "2024-03-10"], 2,
         "initial and recertification"),
        (["man-days", "-p", "cacq", "--people", "0", "--audit", "initial"], 2,
         "--people must be at least 1"),
        (["man-days", "-p", "cacq", "--people", "10", "--audit", "initial"], 2,
         "give --products and --service-items"),
        (["man-days", "-p", "zpic", "--people", "10", "--audit", "initial", "--company", "x"], 2,
         "no company-type rule"),
        (["sample", "-p", "xbht", "--sites", "10", "--audit", "initial", "--coefficient",
          "2.5"], 2, "outside the initial range [1.8, 2]"),
        (["sample", "-p", "xbht", "--sites", "10", "--audit", "initial", "--coefficient",
          "two"], 2, "--coefficient 'two' is not a number"),
        (["sample", "-p", "xbht", "--sites", "10", "--audit", "initial", "--coefficient",
          "-1"], 2, "must be positive"),
        (["sample", "-p", "cacq", "--sites", "0", "--audit", "initial"], 2, "at least 1"),
        (["score", "-p", "cacq", "/nonexistent/sheet.json"], 2, "does not exist"),
        (["grade", "-p", "cacq", "--score", "90"], 2, "needs the service-feature result"),
        (["grade", "-p", "zpic", "--score", "120", "--feature-result", "80"], 2,
         "between 0 and 101"),
        (["grade", "-p", "dni-sh", "--score", "nan"], 2, "finite"),
        (["suspension", "-p", "cacq", "--start", "2024-03-10", "--months", "9"], 2,
         "at most 6 months"),
        (["nc-deadline", "-p", "cacq", "--audit", "recertification", "--audit-end",
          "2024-03-10"], 2, "needs --previous-expiry"),
        (["follow-up", "-p", "cacq", "--audit", "initial", "--audit-end", "2024-03-10",
          "--report", "2024-03-01"], 2, "before the audit ended"),
    ],
)
def test_bad_input_gets_a_one_line_error_and_a_nonzero_exit(certdesk, args, code, match):
    one_line_error(certdesk("rules", *args), code=code, match=match)


@pytest.mark.parametrize("content,match", [("{not json", "not valid JSON"),
                                           ('{"items": 3}', "'items' must be a list"),
                                           (b"\xff\xfe", "cannot read")])
def test_a_broken_score_sheet_file_gets_a_one_line_error(certdesk, tmp_path, content, match):
    path = tmp_path / "sheet.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    one_line_error(certdesk("rules", "score", "-p", "zpic", str(path)), match=match)


@pytest.mark.parametrize("args", [
    ["man-days", "-p", "cacq", "--people", "many", "--audit", "initial"],
    ["sample", "-p", "cacq", "--sites", "3", "--audit", "yearly"],
])
def test_usage_errors_exit_2_without_a_traceback(certdesk, args):
    run = certdesk("rules", *args)
    assert run.code == 2
    assert "Traceback" not in run.out + run.err


@pytest.mark.slow  # two processes of their own: the full tier's
def test_the_installed_script_reports_a_rule_violation_in_one_line():
    script = Path(sys.executable).with_name("certdesk")
    proc = subprocess.run(
        [str(script), "rules", "sample", "-p", "xbht", "--sites", "9", "--audit",
         "surveillance", "--coefficient", "1.5", "--json"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: coefficient 1.5 is outside the surveillance range [1.1, 1.2] [XBHT 7.2.2.9.2]"]
    ok = subprocess.run([str(script), "rules", "grade", "-p", "xbht", "--score", "95", "--json"],
                        capture_output=True, text=True, timeout=60)
    assert json.loads(ok.stdout)["grade"] == "五星级"
