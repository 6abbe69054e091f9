"""The document kinds certdesk renders, each with its context schema and the builder that
turns one input record (``certdesk render``, see docs/templates.md) into contexts.

Figures come from the rules engine, never from the record: man-days and sampling for the
programme, score and grade for the report and the decision, close-out deadlines for a
non-conformity, validity and surveillance dates for certificates and notices. A record
that breaks a rule (an auditor among the decision makers, a suspension longer than the
body allows) fails with the rule's clause, alone: the other records of a batch go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_, Said
from certdesk.common.settings import Settings
from certdesk.documents import schema as S
from certdesk.documents.context import (
    CNCA_NOTICE,
    CertificateFacts,
    body_context,
    certificate_context,
    cn_date,
    full_scope,
    num,
    scheme_context,
    sites_context,
)
from certdesk.documents.notices import (
    WORDING,
    Notice,
    NoticeCertificate,
    document_title,
    notice_context,
)
from certdesk.documents.qr import QR_WIDTH_MM, qr_png, verify_url
from certdesk.documents.records import Fields
from certdesk.documents.render import Image
from certdesk.documents.results import (
    CONCLUSIONS,
    REFUSED,
    Decision,
    Doc,
    Member,
    Plan,
    PlannedAudit,
    Programme,
    Report,
    Team,
    score_clause,
)
from certdesk.domain.coverage import product_names, product_rotation, rotation
from certdesk.domain.dates import (
    certificate_dates,
    check_decision_date,
    nc_deadline,
    surveillance_plan,
    suspension,
)
from certdesk.domain.decision import check_independence
from certdesk.domain.mandays import man_days
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profile
from certdesk.domain.sampling import sample_size
from certdesk.domain.scoring import SheetResult, Verdict, grade, score_sheet
from certdesk.domain.spec import Audit
from certdesk.domain.uscc import validate_uscc

AUDIT_NAMES = {Audit.INITIAL: "初次认证审查", Audit.SURVEILLANCE: "监督审查",
               Audit.RECERTIFICATION: "再认证审查"}
AUDIT_ALIASES = {**{a.value: a for a in Audit}, **{v: k for k, v in AUDIT_NAMES.items()},
                 "初次认证": Audit.INITIAL, "监督": Audit.SURVEILLANCE,
                 "再认证": Audit.RECERTIFICATION}
DRAFT_NUMBER = "（未编号）"
NOT_ONE_OF = N_("= {value} 不在 {choices} 之列")
MUST_BE = N_("应为 {choices} 之一")

ORG_FIELDS = {"name", "uscc", "registered_address"}
SITE_FIELDS = {"name", "address", "scope", "temporary", "central"}
MEMBER_FIELDS = {"role", "name", "registration", "code", "employer"}
AUDITOR_ROLES = ("组长", "审查员", "审核员", "评价员")
DOC_FIELDS = {"reference", "date", "prepared_by"}


@dataclass(frozen=True)
class Rendition:
    """One document to produce: a file stem and its context, and the builder's typed
    result it was made from (``documents.results``) where later steps read one."""

    stem: str
    context: dict[str, Any]
    result: object = None


@dataclass(frozen=True)
class Build:
    """What a builder gets besides the record."""

    profile: Profile
    settings: Settings
    index: int
    """1-based position of the record in its batch (default references)."""
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class DocumentKind:
    id: str
    title: str
    """Default Chinese title; a profile may retitle in ``[templates.titles]``."""
    schema: dict
    fields: frozenset[str]
    build: Callable[[Build, Fields], list[Rendition]]
    summary: str

    def contexts(self, job: Build, record: Any, where: str) -> list[Rendition]:
        return self.build(job, Fields(record, where, set(self.fields)))


# -- shared pieces ---------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^\w\-]+", "_", text).strip("_")[:60] or "document"


def _title(job: Build, kind: str, default: str) -> str:
    return document_title(job.profile, kind, default)


def _doc(job: Build, f: Fields, kind: str, default_title: str, code: str,
         on: date | None = None) -> Doc:
    """Title, reference and date of a record; the date defaults to ``on`` (the event the
    record is about), else today."""
    on = f.date("date", required=False) or on or job.today
    reference = f.text("reference", f"{job.profile.body.short_name}-{code}-{on:%Y%m%d}-"
                                    f"{job.index:03d}")
    return Doc(_title(job, kind, default_title), reference, on, f.text("prepared_by", ""))


def _uscc(f: Fields) -> str:
    code = f.text("uscc")
    try:
        return validate_uscc(code)
    except InputError as exc:
        raise InputError(N_("{where}：{error}"), where=f.where, error=exc) from None


def _org(f: Fields) -> dict[str, Any]:
    return {"name": f.text("name"), "uscc": _uscc(f),
            "registered_address": f.text("registered_address")}


def _sites(f: Fields, default_scope: str = "", *, central: bool = False) -> list[dict[str, Any]]:
    """The record's sites as templates see them; ``central`` adds the central-office flag
    (the programme excludes it from sampling)."""
    raw = f.items("sites", SITE_FIELDS)
    sites = sites_context({"name": s.text("name", ""), "address": s.text("address"),
                           "scope": s.text("scope", default_scope),
                           "temporary": s.flag("temporary")} for s in raw)
    if central:
        sites = [{**ctx, "central": s.flag("central")} for ctx, s in zip(sites, raw, strict=True)]
    return sites


def _team(f: Fields) -> Team:
    team = []
    for m in f.items("team", MEMBER_FIELDS):
        member = Member(m.text("role"), m.text("name"), m.text("registration", ""),
                        m.text("code", ""), m.text("employer", ""))
        if member.role.startswith(AUDITOR_ROLES) and not member.registration:
            raise m.fail("registration", N_("对 {role} {name} 必须填写：审核员须出示注册号 "
                                            "[CACQ 7.3.5.1]"), role=member.role, name=member.name)
        team.append(member)
    return Team(tuple(team))


def _audit(f: Fields, key: str = "audit") -> Audit:
    value = f.text(key)
    try:
        return AUDIT_ALIASES[value]
    except KeyError:
        raise f.fail(key, NOT_ONE_OF, value=repr(value), choices=", ".join(AUDIT_ALIASES)) from None


def _number(f: Fields, key: str):
    text = f.text(key)
    try:
        return parse(text)
    except InputError as exc:
        raise InputError(N_("{where}：{error}"), where=f.where, error=exc) from None


def _grade(job: Build, f: Fields) -> str | None:
    if not job.profile.scheme.graded:
        return None
    grades = job.profile.rules.scoring.grade_names
    value = f.text("grade")
    if value not in grades:
        raise f.fail("grade", NOT_ONE_OF, value=repr(value), choices=" / ".join(grades))
    return value


def _common(job: Build) -> dict[str, Any]:
    return {"body": body_context(job.profile), "scheme": scheme_context(job.profile)}


# -- certificates ----------------------------------------------------------------------------

CERT_FIELDS = ORG_FIELDS | {"scope", "grade", "decision_date", "issue_date", "previous_expiry",
                            "reissue_date", "number", "sites", "sites_in_annex"}


def _certificates(job: Build, f: Fields, *, subs: bool) -> list[Rendition]:
    org = _org(f)
    scope = f.text("scope")
    previous = f.date("previous_expiry", required=False)
    dates = certificate_dates(job.profile.rules.dates,
                              Audit.RECERTIFICATION if previous else Audit.INITIAL,
                              f.date("decision_date"), issue=f.date("issue_date", False),
                              previous_expiry=previous)
    number = _number(f, "number") if f.has("number") else None
    if number is not None and number.sub is not None:
        raise f.fail("number", N_("是分证书编号：请填写主证书的编号"))
    sites = tuple({"name": s["name"], "address": s["address"], "scope": s["scope"] or scope,
                   "temporary": s["temporary"]} for s in _sites(f))
    main = CertificateFacts(
        number=str(number) if number else DRAFT_NUMBER, main_number=None,
        holder_name=org["name"], uscc=org["uscc"], registered_address=org["registered_address"],
        scope=scope, grade=_grade(job, f), issue_date=dates.issue_date,
        expiry_date=dates.expiry_date, sites=sites,
        reissue_date=f.date("reissue_date", required=False))
    if not subs:
        facts = [main]
    elif len(sites) < 2:
        raise f.fail("sites", N_("需要两个或以上场所：分证书每个场所一份"))
    else:
        facts = [replace(main, number=str(number.with_sub(i)) if number else
                         f"{DRAFT_NUMBER}-{i}", main_number=main.number, scope=s["scope"],
                         site=s)
                 for i, s in enumerate(sites, start=1)]
    out = []
    for fact in facts:
        url = verify_url(job.settings.public_url, fact.number) if number else \
            job.settings.public_url
        qr = Image(qr_png(url)[0], QR_WIDTH_MM)
        ctx = certificate_context(job.profile, fact, qr, draft=True,
                                  sites_in_annex=f.flag("sites_in_annex"))
        out.append(Rendition(_slug(fact.number if number else f"{org['name']}-{fact.number}"),
                             ctx))
    return out


# -- the programme (审核方案) -------------------------------------------------------------------

PROGRAMME_FIELDS = ORG_FIELDS | DOC_FIELDS | {
    "scope", "people", "company", "products", "service_items", "sites", "cycle",
    "first_audit", "anchor_date", "previous_expiry", "modes", "focus"}

FOCUS = {  # what every body's rules ask of each audit; a record may word it its own way
    "first": "覆盖认证依据的全部要求及认证范围内的典型产品和服务",
    "surveillance": "内部评价和管理评审、上次不符合的纠正措施、投诉处理、服务绩效、变更、"
                    "认证证书和标志的使用；两次监督合计覆盖全部要求和全部场所",
    "recertification": "体系持续有效性、认证范围的持续适宜性、服务绩效的持续改进",
}


AUDIT_COLUMNS = {Audit.INITIAL.value: "初次", Audit.SURVEILLANCE.value: "监督",
                 Audit.RECERTIFICATION.value: "再认证"}
COMPANY_TYPES = {"production": "生产型", "sales": "销售型", "service": "服务型"}


def _basis(rules: Any, audit: Audit, md: Any) -> str:
    """How an audit's man-days follow from the table, in the programme's words."""
    if audit is Audit.INITIAL:
        return "查表" + ("，加服务特性测评时间" if md.feature else "")
    if audit.value in md.row.values:
        return f"查表（{AUDIT_COLUMNS[audit.value]}列）"
    r = rules.rounding
    how = "向上取整" if r.mode == "up" else "四舍五入"
    return (f"初次审查人日 × {rules.fractions[audit]}，{how}至 {num(r.step)} 人日，"
            f"最少 {num(r.minimum)} 人日")


def _surveillance_sites(rules: Any, sites: list[dict[str, Any]], visits: int) -> list[str]:
    """Per surveillance, the sites it samples so the cycle covers them all, where the body
    asks for it [XBHT 7.2.2.9.2]; empty otherwise."""
    eligible = [s["label"] for s in sites if not s["central"]]
    if not rules.surveillance_coverage_clause or len(eligible) < 2 or not visits:
        return []
    per_visit = sample_size(rules, Audit.SURVEILLANCE, len(eligible)).sample
    notes = []
    for chosen in rotation(eligible, visits, per_visit):
        more = (f"，多于公式的 {per_visit} 个，以在本周期覆盖全部场所"
                if len(chosen) > per_visit else "")
        notes.append(f"；计划抽样场所（序号）：{'、'.join(chosen)}{more}"
                     f"（{rules.surveillance_coverage_clause}）")
    return notes


def _surveillance_products(rules: Any, products: tuple[str, ...], visits: int) -> list[str]:
    """Per surveillance, the products and services it covers so the cycle covers them all,
    where the body asks for it [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]; empty otherwise."""
    if not rules.product_coverage_clause or not products:
        return []
    return [f"；计划覆盖产品/服务：{'、'.join(chosen) or '（已全部覆盖）'}"
            f"（{rules.product_coverage_clause}）"
            for chosen in product_rotation(products, visits)]


def _programme_result(job: Build, f: Fields) -> Programme:
    org = _org(f)
    cycle = _audit(f, "cycle") if f.has("cycle") else Audit.INITIAL
    if cycle is Audit.SURVEILLANCE:
        raise f.fail("cycle", N_("应为初次认证或再认证：审核方案覆盖一个认证周期"))
    first_audit = f.date("first_audit")
    anchor = f.date("anchor_date", required=False) or first_audit
    previous = f.date("previous_expiry", required=cycle is Audit.RECERTIFICATION)
    sites = _sites(f, f.text("scope"), central=True)
    eligible = sum(1 for s in sites if not s["central"])
    people = f.integer("people", minimum=1)
    company = f.text("company", "")
    if company and company not in COMPANY_TYPES:
        raise f.fail("company", MUST_BE, choices=", ".join(COMPANY_TYPES))
    rules = job.profile.rules
    md_rules, s_rules, d_rules = rules.man_days, rules.sampling, rules.dates
    # products: a count (CACQ's feature table), or the names, which the surveillances
    # then cover in turn [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]
    names = (product_names(f.data["products"],
                           Said(N_("{where}：{part}"), where=f.where, part="products"))
             if isinstance(f.data.get("products"), list) else ())
    extra = {k: len(names) if k == "products" and names else
             f.integer(k, required=md_rules.feature is not None, minimum=1)
             for k in ("products", "service_items")}
    # One record serves every profile: facts a body's table does not use are printed but
    # not passed on (products/service items: CACQ's feature table; company type: XBHT).
    uses: dict[str, Any]
    uses = {**(extra if md_rules.feature else {}),
            **({"company": company} if md_rules.coverage and company else {})}
    dates = certificate_dates(d_rules, cycle, anchor, previous_expiry=previous)
    sequence = [cycle, *[Audit.SURVEILLANCE] * len(dates.surveillance), Audit.RECERTIFICATION]
    due = [f"{cn_date(first_audit)}（计划）" if cycle is Audit.INITIAL else
           f"{cn_date(previous)}前（原证书到期前）",
           *[f"{cn_date(s.due_by)}前" for s in dates.surveillance],
           f"{cn_date(dates.expiry_date)}前（证书到期前）"]
    modes = f.mapping("modes", required=False)
    focus = {**FOCUS, **f.mapping("focus", required=False)}
    planned = _surveillance_sites(s_rules, sites, len(dates.surveillance))
    planned_products = _surveillance_products(s_rules, names, len(dates.surveillance))
    audits, clauses = [], []
    for i, audit in enumerate(sequence):
        sample = sample_size(s_rules, audit, eligible) if eligible > 1 else None
        visits = sample.site_visits if sample else 1
        md = man_days(md_rules, audit, people, sites=visits, **uses)
        clauses += [*md.clauses, *([sample.clause] if sample else [])]
        audits.append(PlannedAudit(
            audit, AUDIT_NAMES[audit] if audit is not Audit.SURVEILLANCE else f"第{i}次监督审查",
            due[i], md, sample, visits, str(modes.get(audit.value, "")),
            str(focus["first" if i == 0 else audit.value])
            + (planned[i - 1] if audit is Audit.SURVEILLANCE and planned else "")
            + (planned_products[i - 1] if audit is Audit.SURVEILLANCE and planned_products
               else "")))
    return Programme(
        _doc(job, f, "programme", "认证审核方案", "PRG"), org, f.text("scope"), people, company,
        extra["products"], extra["service_items"], cycle, first_audit, anchor, tuple(sites),
        eligible, tuple(audits),
        tuple(dict.fromkeys(c for c in [*clauses, *dates.clauses] if c)), names)


def _programme_context(job: Build, p: Programme) -> dict[str, Any]:
    md_rules, s_rules = job.profile.rules.man_days, job.profile.rules.sampling
    first = p.first.man_days
    beyond = md_rules.table.beyond
    central = "中心场所（总部）每次审查，另加抽样场所" if s_rules.central_office_visited else \
        "中心职能场所不参与抽样" if p.eligible < len(p.sites) else ""
    return {
        **_common(job),
        "doc": p.doc.context(),
        "org": {**p.org, "scope": full_scope(job.profile, p.scope), "people": p.people,
                "effective_people": first.effective_people,
                "company": COMPANY_TYPES.get(p.company, ""),
                "products": num(p.products), "service_items": num(p.service_items),
                "product_names": "、".join(p.product_names)},
        "cycle": {"name": AUDIT_NAMES[p.cycle].replace("审查", "周期"),
                  "first_audit": cn_date(p.first_audit), "anchor": cn_date(p.anchor)},
        "man_days": {
            "clause": md_rules.clause, "row": f"{first.row.band.label()} 人",
            "row_days": "，".join(f"{AUDIT_COLUMNS[k]} {num(v)}"
                                 for k, v in first.row.values.items()),
            "feature": (f"商品 {first.feature.products.label()} 种 × 服务项目 "
                        f"{first.feature.service_items.label()} 项：{num(first.feature.days)}"
                        if first.feature else ""),
            "per_site_days": num(first.stage_per_site),
            "site_rule": "每个被审查场所均按上表计" if md_rules.per_site else
            f"每增加一个场所增加 {num(md_rules.extra_site_days)} 人日"
            if md_rules.extra_site_days else "场所数量不另加人日",
            "extrapolated": first.extrapolated,
            "extrapolation": f"超出人日表：按每增加 {beyond.width} 人增加 {num(beyond.step)} 人日"
                             f"外推（本机构设定，规则原文未定义；{beyond.clause}）"
            if first.extrapolated else "",
            "on_site_share": f"{num(md_rules.on_site_share * 100)}%"
            if md_rules.on_site_share else "",
            "reduction": f"{num(md_rules.max_reduction * 100)}%"
            if md_rules.max_reduction else ""},
        "sampling": {"applies": p.eligible > 1, "eligible": p.eligible,
                     "central_office": central, "clause": s_rules.clause,
                     "random": f"样本中至少 {num(s_rules.random_share * 100)}% 随机抽取"
                     if s_rules.random_share else ""},
        "audits": [{
            "name": a.name, "due": a.due, "man_days": num(a.man_days.man_days),
            "basis": _basis(md_rules, a.audit, a.man_days),
            "on_site_at_least": num(a.man_days.on_site_at_least),
            "coefficient": num(a.sample.coefficient) if a.sample else "",
            "sample": str(a.sample.sample) if a.sample else "",
            "site_visits": str(a.site_visits), "mode": a.mode, "focus": a.focus}
            for a in p.audits],
        "sites": list(p.sites),
        "clauses": list(p.clauses),
    }


def _programme(job: Build, f: Fields) -> list[Rendition]:
    p = _programme_result(job, f)
    return [Rendition(_slug(f"{p.doc.reference}-{p.org['name']}"), _programme_context(job, p),
                      p)]


# -- audit plan and report --------------------------------------------------------------------

AUDIT_FIELDS = {"audit", "stage", "start", "end", "man_days", "objectives", "criteria",
                "mode", "scope"}
OBJECTIVES = {
    Audit.INITIAL: "确认受审查方的售后服务体系符合认证依据的要求并有效运行，评价服务水平及等级，"
                   "为认证决定提供依据。",
    Audit.SURVEILLANCE: "确认获证组织的售后服务体系持续符合认证要求并有效运行，"
                        "验证上次不符合的纠正措施，为保持认证提供依据。",
    Audit.RECERTIFICATION: "确认售后服务体系整体持续有效、认证范围持续适宜，"
                           "为更新认证提供依据。",
}


def _audit_ctx(job: Build, f: Fields) -> dict[str, Any]:
    audit = _audit(f)
    start = f.date("start")
    end = f.date("end", required=False) or start
    if end < start:
        raise f.fail("end", N_("{end} 早于开始日期 {start}"), end=end, start=start)
    stage = f.text("stage", "")
    return {"kind": audit.value, "name": AUDIT_NAMES[audit] + (f"（{stage}）" if stage else ""),
            "start": cn_date(start), "end": cn_date(end),
            "man_days": num(f.number("man_days", required=False)),
            "objectives": f.text("objectives", OBJECTIVES[audit]),
            "criteria": f.texts("criteria") or [*job.profile.scheme.standards,
                                                f"{job.profile.body.short_name}认证规则"],
            "scope": full_scope(job.profile, f.text("scope")), "mode": f.text("mode", "")}


PLAN_FIELDS = ORG_FIELDS | DOC_FIELDS | AUDIT_FIELDS | {
    "contact", "phone", "team", "sites", "schedule", "notes"}
PLAN_NOTES = ("现场审查安排在受审查方服务正常运行时进行；如需调整计划，由三方协商一致。",
              "审查组对在审查中获得的受审查方信息负有保密责任。",
              "首次会议、末次会议请受审查方管理层及相关部门负责人参加并签到。")


def _plan_result(job: Build, f: Fields) -> Plan:
    org = _org(f)
    team = _team(f)
    if team.leader is None:
        raise f.fail("team", N_("需要一名组长：审核计划由组长编制 [CACQ 7.3.5.1]"))
    schedule = [{"date": r.text("date"), "time": r.text("time", ""), "site": r.text("site", ""),
                 "activity": r.text("activity"), "auditor": r.text("auditor", "")}
                for r in f.items("schedule", {"date", "time", "site", "activity", "auditor"},
                                 required=True)]
    return Plan(_doc(job, f, "plan", "审查计划", "PLAN"),
                {**org, "contact": f.text("contact", ""), "phone": f.text("phone", "")},
                _audit_ctx(job, f), team, tuple(_sites(f)), tuple(schedule),
                tuple(f.texts("notes") or PLAN_NOTES))


def _plan_context(job: Build, p: Plan) -> dict[str, Any]:
    return {**_common(job), "doc": p.doc.context(), "org": p.org, "audit": p.audit,
            "team": p.team.context(), "sites": list(p.sites), "schedule": list(p.schedule),
            "notes": list(p.notes)}


def _plan(job: Build, f: Fields) -> list[Rendition]:
    p = _plan_result(job, f)
    return [Rendition(_slug(f"{p.doc.reference}-{p.org['name']}"), _plan_context(job, p), p)]


REPORT_FIELDS = ORG_FIELDS | DOC_FIELDS | AUDIT_FIELDS | {
    "representative", "period", "team", "sites", "sampling", "implementation", "deviations",
    "score_sheet", "nonconformities", "conclusion", "opinion", "feature_date"}


def _explain(entry: Mapping[str, Any]) -> str:
    """How an item was assessed, in the report's words (from its score-sheet entry)."""
    if entry.get("not_applicable"):
        how = "不适用（删减）"
    elif "result" in entry:
        how = "符合" if entry["result"] == "conforming" else "不符合，扣除该项全部分值"
    elif "sampled" in entry:
        how = f"抽样 {entry['sampled']}，不符合 {entry['nonconforming']}，按比例扣分"
    elif "nonconforming_share" in entry:
        how = f"不符合比例 {num(round(entry['nonconforming_share'] * 100, 2))}%，按比例扣分"
    else:
        how = "评分"
    note = str(entry.get("note") or "")
    return f"{how}；{note}" if note else how


def _findings(sheet: Mapping[str, Any], key: str) -> list[str]:
    value = sheet.get(key)
    return [value] if isinstance(value, str) else list(value or [])


def _score(job: Build, sheet: Mapping[str, Any], result: SheetResult) -> dict[str, Any]:
    """The score table: every item under its category, a subtotal per category, then the
    totals; figures by ``domain.scoring`` [GB/T 27922-2011 6.3]."""
    rules = job.profile.rules.scoring
    names = {i.name: i.id for c in rules.categories for i in c.items}
    entries = {names.get(e["item"], e["item"]): e for e in sheet["items"]}
    rows = []
    for cat in rules.categories:
        scored = [s for s in result.items if s.category.id == cat.id]
        applicable = [s for s in scored if s.earned is not None]
        for i, s in enumerate(scored):
            rows.append({"category": cat.name if i == 0 else "", "item": s.item.name,
                         "points": str(s.item.points),
                         "earned": "—" if s.earned is None else num(s.earned),
                         "how": _explain(entries[s.item.id])})
        rows.append({"category": "", "item": "小计",
                     "points": str(sum(s.item.points for s in applicable)),
                     "earned": num(sum(s.earned for s in applicable if s.earned is not None)),
                     "how": f"满分 {cat.points}" if len(applicable) == len(scored) else
                     f"满分 {cat.points}，删减不适用项后按适用分值计"})
    v = result.verdict
    return {"rows": rows, "items_score": num(result.items_score),
            "applicable": str(result.applicable), "earned": num(result.earned),
            "deductions": _findings(sheet, "deductions"), "bonus": _findings(sheet, "bonus"),
            "final": num(v.score), "feature_result": num(v.feature_result),
            "grade": v.grade or "不合格", "passed": v.passed, "reasons": list(v.reasons),
            "clauses": list(dict.fromkeys([*v.clauses, result.points_clause]))}


def _report_result(job: Build, f: Fields) -> Report:
    org = _org(f)
    sheet = f.mapping("score_sheet")
    scored = score_sheet(job.profile.rules.scoring, sheet)
    verdict = scored.verdict
    ncs = [{"number": n.text("number"), "clause": n.text("clause", ""),
            "description": n.text("description"), "severity": n.text("severity", "轻微")}
           for n in f.items("nonconformities", {"number", "clause", "description", "severity"})]
    serious_open = any(n["severity"] == "严重" for n in ncs)
    default = CONCLUSIONS[2] if not verdict.passed else \
        CONCLUSIONS[1] if serious_open else CONCLUSIONS[0]
    conclusion = f.text("conclusion", default)
    if conclusion not in CONCLUSIONS:
        raise f.fail("conclusion", MUST_BE, choices=" / ".join(CONCLUSIONS))
    if conclusion == CONCLUSIONS[0] and not verdict.passed:
        raise RuleViolation(N_("{where}：评分不合格（{reasons}）：不能推荐注册 [{clause}]"),
                            where=f.where, reasons="; ".join(verdict.reasons),
                            clause=score_clause(scored))
    audit = _audit_ctx(job, f)
    return Report(
        _doc(job, f, "report", "审查报告", "RPT", f.date("end", required=False) or f.date("start")),
        {**org, "representative": f.text("representative", "")},
        {**audit, "period": f.text("period", f"{audit['start']}至{audit['end']}"),
         # the service-feature evaluation's day, when apart [CACQ 7.3.4.4]
         "feature_date": cn_date(d) if (d := f.date("feature_date", False)) else ""},
        _team(f), tuple(_sites(f)), f.text("sampling", "不适用（单一场所）"),
        f.text("implementation"), f.text("deviations", "无"), dict(sheet), scored,
        tuple(ncs), conclusion, f.text("opinion", ""))


def _report_context(job: Build, r: Report) -> dict[str, Any]:
    return {**_common(job), "doc": r.doc.context(), "org": r.org, "audit": r.audit,
            "team": r.team.context(), "sites": list(r.sites), "sampling": r.sampling,
            "implementation": r.implementation, "deviations": r.deviations,
            "score": _score(job, r.sheet, r.scored), "nonconformities": list(r.nonconformities),
            "conclusion": r.conclusion, "opinion": r.opinion}


def _report(job: Build, f: Fields) -> list[Rendition]:
    r = _report_result(job, f)
    return [Rendition(_slug(f"{r.doc.reference}-{r.org['name']}"), _report_context(job, r), r)]


# -- non-conformity report and decision record -------------------------------------------------

NC_FIELDS = ORG_FIELDS | DOC_FIELDS | {
    "audit", "audit_end", "leader", "previous_expiry", "number", "site", "department", "clause",
    "description", "severity", "auditor", "auditee"}


def _nonconformity(job: Build, f: Fields) -> list[Rendition]:
    org = _org(f)
    audit = _audit(f)
    end = f.date("audit_end")
    severity = f.text("severity", "轻微")
    if severity not in ("严重", "轻微"):
        raise f.fail("severity", N_("应为 严重 或 轻微"))
    deadline = nc_deadline(job.profile.rules.dates, audit, end,
                           previous_expiry=f.date("previous_expiry", required=False))
    rule = "前完成纠正和纠正措施并经验证" if severity == "严重" else \
        "前提交纠正措施（计划），在下次审核时验证"
    doc = _doc(job, f, "nonconformity", "不符合报告", "NC", end)
    ctx = {**_common(job), "doc": doc.context(),
           "org": org,
           "audit": {"name": AUDIT_NAMES[audit], "end": cn_date(end),
                     "leader": f.text("leader", "")},
           "nc": {"number": f.text("number"), "site": f.text("site", ""),
                  "department": f.text("department", ""), "clause": f.text("clause"),
                  "description": f.text("description"), "severity": severity,
                  "auditor": f.text("auditor"), "auditee": f.text("auditee", ""),
                  "due_by": cn_date(deadline.due_by),
                  "due_rule": f"{rule}（{deadline.clause}）"}}
    return [Rendition(_slug(f"{ctx['doc']['reference']}-{ctx['nc']['number']}"), ctx)]


DECISION_FIELDS = ORG_FIELDS | DOC_FIELDS | {
    "scope", "audit", "start", "end", "leader", "team", "sites", "report_reference",
    "team_conclusion", "score", "deductions", "feature_result", "reviewer", "review_date",
    "review_opinion", "decision_makers", "outcome", "decision_date", "certificate_number",
    "reason"}
OUTCOMES = {Audit.INITIAL: "批准认证注册", Audit.SURVEILLANCE: "保持认证注册",
            Audit.RECERTIFICATION: "更新认证注册（再认证）"}


def _decision_result(job: Build, f: Fields, verdict: Verdict | None = None) -> Decision:
    """``verdict``: the report's, when the decision follows a report built in the same
    case; otherwise graded from the record's score, deductions and feature result."""
    org = _org(f)
    audit = _audit(f)
    leader = f.text("leader")
    team = [t for t in f.texts("team") if t != leader]
    makers = f.texts("decision_makers")
    rules = job.profile.rules.decision
    check_independence(rules, [leader, *team], makers, f.text("reviewer"))
    on = f.date("decision_date")
    start = f.date("start")
    end = f.date("end", required=False) or start
    check_decision_date(job.profile.rules.dates, audit, end, on)
    if verdict is None:
        verdict = grade(job.profile.rules.scoring, f.number("score"),
                        deductions=f.integer("deductions", required=False) or 0,
                        feature_result=f.number("feature_result", required=False))
    conclusion = f.text("team_conclusion", CONCLUSIONS[0])
    if conclusion not in CONCLUSIONS:
        raise f.fail("team_conclusion", MUST_BE, choices=" / ".join(CONCLUSIONS))
    outcome = f.text("outcome", OUTCOMES[audit] if verdict.passed else REFUSED)
    if outcome != REFUSED and not verdict.passed:
        raise RuleViolation(N_("{where}：结果不合格（{reasons}）：认证决定只能是{refused} "
                               "[{clause}]"), where=f.where, reasons="; ".join(verdict.reasons),
                            refused=REFUSED, clause=verdict.clauses[0])
    differs = (outcome == REFUSED) != (conclusion != CONCLUSIONS[0])
    reason = f.text("reason", "")
    if differs and not reason:
        raise f.fail("reason", N_("必须填写：认证决定与审核组结论不同，须说明理由 "
                                  "[CACQ 7.10.5]"))
    return Decision(
        _doc(job, f, "decision", "认证决定记录", "DEC", on), org, f.text("scope"), audit,
        start, end, leader, tuple(team), f.text("report_reference"), conclusion,
        tuple(_sites(f)), f.text("reviewer"), f.date("review_date", required=False) or on,
        f.text("review_opinion"), verdict, outcome, tuple(makers), on, reason, differs,
        str(_number(f, "certificate_number")) if f.has("certificate_number") else "",
        rules.clause)


def _decision_context(job: Build, d: Decision) -> dict[str, Any]:
    verdict = d.verdict
    return {**_common(job), "doc": d.doc.context(),
            "org": {**d.org, "scope": full_scope(job.profile, d.scope)},
            "audit": {"name": AUDIT_NAMES[d.audit], "start": cn_date(d.start),
                      "end": cn_date(d.end), "leader": d.leader,
                      "report_reference": d.report_reference, "conclusion": d.conclusion},
            "team": list(d.team), "sites": list(d.sites),
            "review": {"reviewer": d.reviewer, "date": cn_date(d.review_date),
                       "opinion": d.review_opinion},
            "result": {"score": num(verdict.score), "grade": verdict.grade or "不合格",
                       "passed": verdict.passed,
                       "feature_result": num(verdict.feature_result),
                       "reasons": list(verdict.reasons)},
            "decision": {"outcome": d.outcome, "makers": list(d.makers), "date": cn_date(d.on),
                         "reason": d.reason, "differs": d.differs,
                         "certificate_number": d.certificate_number,
                         "difference": "认证决定与审查组结论不一致，原因见上。"
                         if d.differs else "",
                         "independence":
                         f"认证决定人员未参与本项目审查（{d.independence_clause}）"}}


def decision_rendition(job: Build, record: Any, where: str,
                       verdict: Verdict | None = None) -> Rendition:
    """The decision record of ``record``; ``verdict`` as for ``_decision_result``."""
    d = _decision_result(job, Fields(record, where, set(DECISION_FIELDS)), verdict)
    return Rendition(_slug(f"{d.doc.reference}-{d.org['name']}"), _decision_context(job, d), d)


def _decision(job: Build, f: Fields) -> list[Rendition]:
    d = _decision_result(job, f)
    return [Rendition(_slug(f"{d.doc.reference}-{d.org['name']}"), _decision_context(job, d), d)]


# -- notices -----------------------------------------------------------------------------------

SURVEILLANCE_FIELDS = ORG_FIELDS | DOC_FIELDS | {
    "certificate_number", "scope", "issue_date", "decision_date", "expiry_date", "surveillance",
    "first_held", "start", "end", "man_days", "contact", "team", "sites", "documents"}
DOCUMENTS = ("上次审查以来售后服务体系的变更情况（组织、场所、人员、服务范围）",
             "上次审查不符合项的纠正和纠正措施及其有效性证据",
             "内部评价和管理评审记录",
             "顾客投诉及处理记录、服务绩效统计",
             "认证证书和认证标志的使用情况")


def _surveillance_rule(rules: Any, n: int) -> str:
    spec = rules.surveillance
    anchor = "认证决定" if spec.anchor == "decision" else "证书签发"
    if n == 1:
        text = f"第一次监督审查应在{anchor}之日起 {spec.first_within_months} 个月内进行"
    else:
        text = f"两次监督审查间隔不超过 {spec.interval_months} 个月"
        text += "，且每个日历年至少一次" if spec.calendar_year else ""
        text += "".join(f"，并在{anchor}之日起 {lim.months} 个月内完成"
                        for lim in spec.limits if lim.number == n)
    return f"{text}，{spec.clause}"


def _surveillance_notice(job: Build, f: Fields) -> list[Rendition]:
    org = _org(f)
    rules = job.profile.rules.dates
    issue = f.date("issue_date")
    decision = f.date("decision_date", required=False) or issue
    n = f.integer("surveillance", minimum=1)
    plan = surveillance_plan(rules, decision if rules.surveillance.anchor == "decision"
                             else issue, first_held=f.date("first_held", required=False))
    if n > len(plan):
        raise f.fail("surveillance", N_("= {n}：一个认证周期有 {count} 次监督审核；下一次审核"
                                        "是再认证"), n=n, count=len(plan))
    due = plan[n - 1]
    start = f.date("start")
    if start > due.due_by:
        raise RuleViolation(
            N_("{where}：第 {n} 次监督审核计划于 {start}，晚于其到期日 {due}（{rule}）；"
               "逾期未做监督审核是暂停证书的理由 [{clause}]"), where=f.where, n=n, start=start,
            due=due.due_by, rule=due.rule, clause=rules.surveillance.clause)
    expiry = f.date("expiry_date", required=False) or certificate_dates(
        rules, Audit.INITIAL, decision, issue=issue).expiry_date
    number = _number(f, "certificate_number")
    doc = _doc(job, f, "surveillance_notice", "监督审查通知书", "SUR")
    ctx = {**_common(job), "doc": doc.context(),
           "org": org,
           "certificate": {"number": str(number), "scope": full_scope(job.profile,
                                                                      f.text("scope")),
                           "issue_date": cn_date(issue), "expiry_date": cn_date(expiry)},
           "surveillance": {"number": str(n), "due_by": cn_date(due.due_by),
                            "due_rule": _surveillance_rule(rules, n),
                            "start": cn_date(start),
                            "end": cn_date(f.date("end", required=False) or start),
                            "man_days": num(f.number("man_days", required=False)),
                            "contact": f.text("contact", "")},
           "team": _team(f).context(), "sites": _sites(f), "documents": f.texts("documents")
           or list(DOCUMENTS), "cnca_notice": CNCA_NOTICE}
    return [Rendition(_slug(f"{ctx['doc']['reference']}-{number}"), ctx)]


NOTICE_FIELDS = {"name", "uscc", "certificates", "reason", "date", "reference", "months",
                 "application", "changes"}


def _notice(wording_id: str, code: str) -> Callable[[Build, Fields], list[Rendition]]:
    wording = WORDING[wording_id]

    def build(job: Build, f: Fields) -> list[Rendition]:
        on = f.date("date", required=False) or job.today
        certificates = tuple(
            NoticeCertificate(str(_number(c, "number")), c.text("scope"), c.date("expiry_date"))
            for c in f.items("certificates", {"number", "scope", "expiry_date"},
                             required=wording_id != "refusal"))
        if wording_id == "refusal" and certificates:
            raise f.fail("certificates", N_("应为空：被拒绝的申请方不持有证书"))
        until = None
        if wording_id == "suspension":
            until = suspension(job.profile.rules.dates, on,
                               months=f.integer("months", required=False, minimum=1)).ends
        elif f.has("months"):
            raise f.fail("months", N_("只适用于暂停通知"))
        application = f.text("application", "")
        changes = f.text("changes") if wording_id == "reissue" else ""
        reference = f.text("reference", f"{job.profile.body.short_name}-{code}-{on:%Y%m%d}-"
                                        f"{job.index:03d}")
        notice = Notice(wording, reference, on, f.text("reason"), f.text("name"), _uscc(f),
                        certificates, until, application, changes)
        return [Rendition(_slug(reference), notice_context(job.profile, notice), notice)]

    return build


def _certificate(job: Build, f: Fields) -> list[Rendition]:
    return _certificates(job, f, subs=False)


def _sub_certificates(job: Build, f: Fields) -> list[Rendition]:
    return _certificates(job, f, subs=True)


_TABLE = [
    # id, default title, schema, record fields, builder, summary
    ("programme", "认证审核方案", S.PROGRAMME, PROGRAMME_FIELDS, _programme,
     "audit programme for the whole cycle: man-days, sampling, due dates"),
    ("plan", "审查计划", S.PLAN, PLAN_FIELDS, _plan, "audit plan: team, sites, schedule"),
    ("report", "审查报告", S.REPORT, REPORT_FIELDS, _report,
     "audit/evaluation report with the score table, grade and conclusion"),
    ("nonconformity", "不符合报告", S.NONCONFORMITY, NC_FIELDS, _nonconformity,
     "non-conformity report with its close-out deadline"),
    ("decision", "认证决定记录", S.DECISION, DECISION_FIELDS, _decision,
     "certification decision record (independence checked)"),
    ("certificate", "认证证书", S.CERTIFICATE, CERT_FIELDS, _certificate,
     "certificate, listing every site or referring to the site annex"),
    ("sub_certificate", "认证子证书", S.CERTIFICATE, CERT_FIELDS, _sub_certificates,
     "one sub-certificate per site, valid only with the main certificate"),
    ("site_annex", "证书附件：认证覆盖场所清单", S.CERTIFICATE, CERT_FIELDS, _certificate,
     "certificate annex listing every site (organisations with many sites)"),
    ("notice", WORDING["suspension"].title, S.NOTICE, NOTICE_FIELDS,
     _notice("suspension", "SUSPEND"),
     "the status-notice template of `certdesk status` (rendered as a suspension)"),
    ("surveillance_notice", "监督审查通知书", S.SURVEILLANCE_NOTICE, SURVEILLANCE_FIELDS,
     _surveillance_notice, "notice of the coming surveillance audit"),
    *[(f"{w}_notice", WORDING[w].title, S.NOTICE, NOTICE_FIELDS, _notice(w, code),
       f"{WORDING[w].title} ({w})")
      for w, code in (("suspension", "SUSPEND"), ("restoration", "RESTORE"),
                      ("revocation", "REVOKE"), ("cancellation", "CANCEL"),
                      ("refusal", "REFUSE"), ("reissue", "REISSUE"),
                      ("maintenance", "MAINTAIN"))],
]

KINDS: dict[str, DocumentKind] = {
    row[0]: DocumentKind(row[0], row[1], row[2], frozenset(row[3]), row[4], row[5])
    for row in _TABLE}


def kind(name: str) -> DocumentKind:
    """A kind by id (``suspension-notice`` and ``suspension_notice`` both work)."""
    key = name.strip().replace("-", "_")
    try:
        return KINDS[key]
    except KeyError:
        raise InputError(N_("未知的文书类型 {name}（应为 {kinds} 之一）"), name=repr(name),
                         kinds=", ".join(KINDS)) from None
