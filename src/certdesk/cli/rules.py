"""``certdesk rules``: the rules engine at the command line (dates, man-days, sampling,
score and grade, credit codes). Every command prints JSON with ``--json``; bad input is a
``CertdeskError`` that ``cli.main.main`` turns into one line and a non-zero exit.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import typer

from certdesk.cli.options import JSON_OPT, day_option, install_profiles
from certdesk.cli.output import console, emit, fail, lang
from certdesk.common.errors import InputError, InvalidUSCC
from certdesk.domain.dates import certificate_dates, nc_deadline, suspension
from certdesk.domain.mandays import man_days
from certdesk.domain.profiles import RuleBook
from certdesk.domain.sampling import sample_size
from certdesk.domain.scoring import grade, score_sheet
from certdesk.domain.spec import Audit, parse_date
from certdesk.domain.uscc import validate_uscc

# Defined here rather than imported: desk.cli imports this module while it is loading.
PROFILE_OPT = typer.Option(..., "--profile", "-p", help="Body profile id, e.g. cacq, zpic, xbht.")

rules_app = typer.Typer(
    help="Certification rules: certificate dates, man-days, sampling, score and grade, "
    "credit codes.",
    no_args_is_help=True,
)


def _rules(profile: str) -> RuleBook:
    """The parsed rules of the ``--profile`` profile (an unknown id is refused)."""
    return install_profiles().get(profile).rules


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _show(title: str, rows: list[tuple[str, Any]]) -> None:
    """Human output: a title and aligned ``label: value`` lines (empty values skipped)."""
    console.print(f"[bold]{title}[/]", highlight=False)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        if value not in (None, "", []):
            console.print(f"  {label:<{width}}  {value}", highlight=False)


@rules_app.command("dates")
def dates_cmd(
    profile: str = PROFILE_OPT,
    audit: Audit = typer.Option(..., "--audit", help="initial or recertification."),
    decision: str = typer.Option(..., "--decision", help="Certification decision date."),
    previous_expiry: str = typer.Option(None, "--previous-expiry",
                                        help="Expiry of the current certificate "
                                        "(re-certification)."),
    issue: str = typer.Option(None, "--issue", help="Issue date (default: the decision date)."),
    audit_end: str = typer.Option(None, "--audit-end",
                                  help="Last on-site audit day; checks the 6-month decision "
                                  "deadline (initial)."),
    first_surveillance: str = typer.Option(None, "--first-surveillance",
                                           help="Date the first surveillance was held; "
                                           "re-plans the second."),
    as_json: bool = JSON_OPT,
) -> None:
    """Issue, effective and expiry dates of a certificate and its surveillance due dates."""
    result = certificate_dates(
        _rules(profile).dates, audit, parse_date(decision, "--decision"),
        issue=day_option(issue, "--issue"),
        previous_expiry=day_option(previous_expiry, "--previous-expiry"),
        audit_end=day_option(audit_end, "--audit-end"),
        first_surveillance=day_option(first_surveillance, "--first-surveillance"),
    )

    def human(d: dict) -> None:
        rows = [("issue date", d["issue_date"]), ("effective from", d["effective_from"]),
                ("expiry date", d["expiry_date"])]
        rows += [(f"surveillance {s['number']}",
                  f"by {s['due_by']} ({s['rule']})"
                  + (f", on request up to {s['may_extend_to']}" if "may_extend_to" in s else ""))
                 for s in d["surveillance"]]
        if d["late_recertification"]:
            rows.append(("note", "late re-certification: effective from the decision date"))
        rows.append(("clauses", "; ".join(d["clauses"])))
        _show(f"{profile} {d['audit']} certificate", rows)

    emit({"profile": profile, **result.as_dict()}, as_json, human)


@rules_app.command("man-days")
def man_days_cmd(
    profile: str = PROFILE_OPT,
    people: int = typer.Option(..., "--people", help="Effective people (with --company: "
                               "total staff)."),
    audit: Audit = typer.Option(..., "--audit", help="initial, surveillance or "
                                "recertification."),
    products: int = typer.Option(None, "--products", help="Number of products (CACQ "
                                 "service-feature table)."),
    service_items: int = typer.Option(None, "--service-items", help="Number of service items "
                                      "(CACQ service-feature table)."),
    sites: int = typer.Option(1, "--sites", help="Audited sites, the first included."),
    company: str = typer.Option(None, "--company", help="Company type when --people is total "
                                "staff (XBHT: production, sales, service)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Audit time (man-days) from the body's own table, with the row used."""
    result = man_days(_rules(profile).man_days, audit, people, products=products,
                      service_items=service_items, sites=sites, company=company)

    def human(d: dict) -> None:
        row = d["row"]
        feature = d["feature"]
        _show(f"{profile} {d['audit']}: {d['man_days']:g} man-days", [
            ("effective people", d["effective_people"]),
            ("table row", f"{row['from']}-{row['to']}: {row['initial']:g} days"
             + (" (EXTRAPOLATED beyond the seed's table)" if row["extrapolated"] else "")),
            ("service feature", feature and f"{feature['products']} products x "
             f"{feature['service_items']} items: {feature['days']:g} days"
             + (" (filled setting)" if feature["filled"] else "")),
            ("this audit", f"{d['stage_per_site']:g} per site ({d['stage_rule']})"),
            ("sites", f"{d['sites']} ({d['site_rule']})"),
            ("on-site at least", d["on_site_at_least"]),
            ("clauses", "; ".join(d["clauses"])),
        ])

    emit(result.as_dict(), as_json, human)


def _coefficient(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--coefficient {text!r} is not a number") from None
    if value <= 0:
        raise InputError(f"--coefficient must be positive, not {text}")
    return value


@rules_app.command("sample")
def sample_cmd(
    profile: str = PROFILE_OPT,
    sites: int = typer.Option(..., "--sites", help="Sites eligible for sampling (x)."),
    audit: Audit = typer.Option(..., "--audit", help="initial, surveillance or "
                                "recertification."),
    coefficient: str = typer.Option(None, "--coefficient", help="Sampling coefficient n where "
                                    "the body gives a range (XBHT)."),
    as_json: bool = JSON_OPT,
) -> None:
    """How many sites to audit: y = ceil(n * sqrt(x)), never more than x."""
    result = sample_size(_rules(profile).sampling, audit, sites, _coefficient(coefficient))

    def human(d: dict) -> None:
        _show(f"{profile} {d['audit']}: audit {d['sample']} of {d['sites']} sites", [
            ("coefficient", f"{d['coefficient']:g} (range {d['coefficient_range']})"),
            ("n * sqrt(x)", d["n_sqrt_x"]),
            ("capped at x", "yes" if d["capped"] else ""),
            ("random at least", d["random_at_least"] or ""),
            ("central office", d["central_office"]),
            ("site visits", d["site_visits"]),
            ("clause", d["clause"]),
        ])

    emit(result.as_dict(), as_json, human)


def _verdict_rows(d: dict) -> list[tuple[str, Any]]:
    return [
        ("score", d["score"]),
        ("grade", d["grade"] or "不合格 (fail)"),
        ("passed", "yes" if d["passed"] else "no"),
        ("why not", "; ".join(d["reasons"])),
        ("deductions", d["deductions"]),
        ("service feature", d["service_feature_result"]),
        ("clauses", "; ".join(d["clauses"])),
    ]


def _read_sheet(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"score sheet {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read score sheet {str(path)!r}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"score sheet {str(path)!r} is not valid JSON: {exc}") from None


@rules_app.command("score")
def score_cmd(
    sheet: Path = typer.Argument(..., help="Score sheet JSON (see docs/rules.md).",
                                 dir_okay=False),
    profile: str = PROFILE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Score a GB/T 27922 score sheet and give its grade and pass/fail."""
    result = score_sheet(_rules(profile).scoring, _read_sheet(sheet))

    def human(d: dict) -> None:
        rows = _verdict_rows(d)
        rows.insert(1, ("items score", f"{d['items_score']} ({d['earned_points']:g} of "
                                       f"{d['applicable_points']} applicable points)"))
        rows += [(c["name"], f"{c['earned']:g} / {c['applicable']} applicable of {c['points']}")
                 for c in d["categories"].values()]
        _show(f"{profile} score sheet {sheet.name}", rows)

    emit({"profile": profile, **result.as_dict()}, as_json, human)


@rules_app.command("grade")
def grade_cmd(
    profile: str = PROFILE_OPT,
    score: float = typer.Option(..., "--score", help="Final score (after deductions and "
                                "bonus)."),
    deductions: int = typer.Option(0, "--deductions", help="Number of special deductions."),
    feature_result: float = typer.Option(None, "--feature-result",
                                         help="Service-feature result (CACQ grades by it, "
                                         "ZPIC fails below 70)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Grade and pass/fail of a final score."""
    result = grade(_rules(profile).scoring, score, deductions=deductions,
                   feature_result=feature_result)
    emit({"profile": profile, **result.as_dict()}, as_json,
         lambda d: _show(f"{profile} grade", _verdict_rows(d)))


@rules_app.command("uscc")
def uscc_cmd(
    code: str = typer.Argument(..., help="18-character unified social credit code."),
    as_json: bool = JSON_OPT,
) -> None:
    """Check a unified social credit code (GB 32100-2015); exit 1 when it is invalid."""
    try:
        norm = validate_uscc(code)
    except InvalidUSCC as exc:
        if as_json:
            emit({"code": code, "valid": False, "reason": exc.text(lang())}, True)
        else:
            fail(exc.text(lang()))
        raise typer.Exit(1) from None
    emit({"code": norm, "valid": True}, as_json,
         lambda d: console.print(f"valid: {d['code']}", highlight=False))


@rules_app.command("suspension")
def suspension_cmd(
    profile: str = PROFILE_OPT,
    start: str = typer.Option(..., "--start", help="First day of the suspension."),
    months: int = typer.Option(None, "--months", help="Length (default: the body's usual "
                               "period)."),
    verified: str = typer.Option(None, "--verified", help="Day the ground for suspension was "
                                 "verified; checks the imposition deadline."),
    as_json: bool = JSON_OPT,
) -> None:
    """End of a suspension, the latest end before revocation, and the imposition deadline."""
    result = suspension(_rules(profile).dates, parse_date(start, "--start"), months=months,
                        verified=day_option(verified, "--verified"))
    emit({"profile": profile, **result.as_dict()}, as_json, lambda d: _show(
        f"{profile} suspension", [("ends", d["ends"]), ("revoke if unresolved after",
                                                        d["latest_end"]),
                                  ("impose by", d["impose_by"]), ("clause", d["clause"])]))


@rules_app.command("nc-deadline")
def nc_deadline_cmd(
    profile: str = PROFILE_OPT,
    audit: Audit = typer.Option(..., "--audit", help="initial, surveillance or "
                                "recertification."),
    audit_end: str = typer.Option(..., "--audit-end", help="Last day of the audit."),
    previous_expiry: str = typer.Option(None, "--previous-expiry",
                                        help="Expiry of the current certificate "
                                        "(re-certification)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Last day to close out the non-conformities of an audit."""
    result = nc_deadline(_rules(profile).dates, audit, parse_date(audit_end, "--audit-end"),
                         previous_expiry=day_option(previous_expiry, "--previous-expiry"))
    emit({"profile": profile, **result.as_dict()}, as_json, lambda d: _show(
        f"{profile} {d['audit']} non-conformity close-out",
        [("due by", d["due_by"]), ("rule", d["rule"]), ("clause", d["clause"])]))


@rules_app.command("follow-up")
def follow_up_cmd(
    profile: str = PROFILE_OPT,
    audit: Audit = typer.Option(..., "--audit", help="initial, surveillance or "
                                "recertification."),
    audit_end: str = typer.Option(..., "--audit-end", help="Last day of the service-"
                                  "management audit."),
    feature: str = typer.Option(None, "--feature", help="Day of the service-feature "
                                "evaluation, when apart: checked against its window."),
    report: str = typer.Option(None, "--report", help="Date of the report: checked against "
                               "its month after the audit's end."),
    as_json: bool = JSON_OPT,
) -> None:
    """Time limits after an audit: service-feature evaluation and report (CACQ 7.3.4.4,
    7.9.1; none where the body's seed sets none). With --feature/--report, the dates given
    are checked: a late one is listed under late (exit 0), or refused where the profile
    says late = "refuse"."""
    from certdesk.domain.followup import check_follow_up, owed_after

    end = parse_date(audit_end, "--audit-end")
    rules = _rules(profile)
    late = check_follow_up(rules.follow_up, rules.dates, audit, end,
                           feature_on=day_option(feature, "--feature"),
                           report_on=day_option(report, "--report"))
    owed = [{"kind": o.kind, "due_by": o.due_by, "clause": o.clause}
            for o in owed_after(rules.follow_up, rules.dates, audit, end)]
    emit({"profile": profile, "audit": audit.value, "audit_end": end, "owed": owed,
          "late": list(late)}, as_json, lambda d: _show(
        f"{profile} {d['audit']} follow-up after {d['audit_end']}",
        [*((o["kind"], f"by {o['due_by']} [{o['clause']}]") for o in d["owed"]),
         ("time limits", "" if d["owed"] else "none set by the body"),
         *(("late", w) for w in d["late"])]))
