"""Declared template contexts: what each document kind gives its Word template.

A schema is a nested literal: a ``dict`` is an object with exactly those keys, a
one-element ``list`` is a list of that item, and a leaf says what the value is. The
context builders are tested against these schemas (``problems``) and ``certdesk templates
check`` tests every template against them, so a tag asking for a value no context has is
found before a document is made, not when one fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from certdesk.documents.render import Image

TEXT = "text"
OPTIONAL_TEXT = "text or null"
FLAG = "flag"
NUMBER = "number"
IMAGE = "image"
OPTIONAL_IMAGE = "image or null"

Schema = dict | list | str

BODY = {"name": TEXT, "short_name": TEXT, "name_en": TEXT, "address": TEXT, "website": TEXT,
        "phone": TEXT, "approval_number": TEXT, "signatory": TEXT}
SCHEME = {"name": TEXT, "code": TEXT, "certificate_title": TEXT, "standards": [TEXT]}
DOC = {"title": TEXT, "reference": TEXT, "date": TEXT, "prepared_by": TEXT}
ORG = {"name": TEXT, "uscc": TEXT, "registered_address": TEXT}
SITE = {"label": TEXT, "name": TEXT, "address": TEXT, "scope": TEXT, "temporary": FLAG}
MEMBER = {"role": TEXT, "name": TEXT, "registration": TEXT, "code": TEXT, "employer": TEXT}

CERTIFICATE = {
    "body": BODY,
    "scheme": SCHEME,
    "org": ORG,
    "cert": {"number": TEXT, "main_number": TEXT, "is_sub": FLAG, "grade": OPTIONAL_TEXT,
             "scope": TEXT, "issue_date": TEXT, "expiry_date": TEXT, "reissue_date": TEXT,
             "site_count": NUMBER, "sites_in_annex": FLAG, "draft": FLAG,
             "unverified": TEXT},
    "sites": [SITE],
    "site": SITE,
    "cnca_notice": TEXT,
    "qr": IMAGE,
    "mark": OPTIONAL_IMAGE,
}

NOTICE = {
    "body": BODY,
    "org": {"name": TEXT, "uscc": TEXT},
    "notice": {"title": TEXT, "reference": TEXT, "body": TEXT, "reason": TEXT, "date": TEXT,
               "consequences": [TEXT]},
    "certificates": [{"number": TEXT, "scope": TEXT, "expiry_date": TEXT}],
    "cnca_notice": TEXT,
}
"""The status-notice context of ``services.transitions`` (and of every notice kind
rendered from input): keep these keys, that code builds them."""

AUDIT = {"kind": TEXT, "name": TEXT, "start": TEXT, "end": TEXT, "man_days": TEXT,
         "objectives": TEXT, "criteria": [TEXT], "scope": TEXT, "mode": TEXT}

PROGRAMME = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": {**ORG, "scope": TEXT, "people": NUMBER, "effective_people": NUMBER,
            "company": TEXT, "products": TEXT, "service_items": TEXT, "product_names": TEXT},
    "cycle": {"name": TEXT, "first_audit": TEXT, "anchor": TEXT},
    "man_days": {"clause": TEXT, "row": TEXT, "row_days": TEXT, "feature": TEXT,
                 "per_site_days": TEXT, "site_rule": TEXT, "extrapolated": FLAG,
                 "extrapolation": TEXT, "on_site_share": TEXT, "reduction": TEXT},
    "sampling": {"applies": FLAG, "eligible": NUMBER, "central_office": TEXT,
                 "clause": TEXT, "random": TEXT},
    "audits": [{"name": TEXT, "due": TEXT, "man_days": TEXT, "basis": TEXT,
                "on_site_at_least": TEXT, "coefficient": TEXT, "sample": TEXT,
                "site_visits": TEXT, "mode": TEXT, "focus": TEXT}],
    "sites": [{**SITE, "central": FLAG}],
    "clauses": [TEXT],
}

PLAN = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": {**ORG, "contact": TEXT, "phone": TEXT},
    "audit": AUDIT,
    "team": [MEMBER],
    "sites": [SITE],
    "schedule": [{"date": TEXT, "time": TEXT, "site": TEXT, "activity": TEXT,
                  "auditor": TEXT}],
    "notes": [TEXT],
}

REPORT = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": {**ORG, "representative": TEXT},
    "audit": {**AUDIT, "period": TEXT, "feature_date": TEXT},
    "team": [MEMBER],
    "sites": [SITE],
    "sampling": TEXT,
    "implementation": TEXT,
    "deviations": TEXT,
    "score": {
        "rows": [{"category": TEXT, "item": TEXT, "points": TEXT, "earned": TEXT,
                  "how": TEXT}],
        "items_score": TEXT, "applicable": TEXT, "earned": TEXT,
        "deductions": [TEXT], "bonus": [TEXT], "final": TEXT,
        "feature_result": TEXT, "grade": TEXT, "passed": FLAG, "reasons": [TEXT],
        "clauses": [TEXT],
    },
    "nonconformities": [{"number": TEXT, "clause": TEXT, "description": TEXT,
                         "severity": TEXT}],
    "conclusion": TEXT,
    "opinion": TEXT,
}

NONCONFORMITY = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": ORG,
    "audit": {"name": TEXT, "end": TEXT, "leader": TEXT},
    "nc": {"number": TEXT, "site": TEXT, "department": TEXT, "clause": TEXT,
           "description": TEXT, "severity": TEXT, "auditor": TEXT, "auditee": TEXT,
           "due_by": TEXT, "due_rule": TEXT},
}

DECISION = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": {**ORG, "scope": TEXT},
    "audit": {"name": TEXT, "start": TEXT, "end": TEXT, "leader": TEXT,
              "report_reference": TEXT, "conclusion": TEXT},
    "team": [TEXT],
    "sites": [SITE],
    "review": {"reviewer": TEXT, "date": TEXT, "opinion": TEXT},
    "result": {"score": TEXT, "grade": TEXT, "passed": FLAG, "feature_result": TEXT,
               "reasons": [TEXT]},
    "decision": {"outcome": TEXT, "makers": [TEXT], "date": TEXT, "reason": TEXT,
                 "certificate_number": TEXT, "differs": FLAG, "difference": TEXT,
                 "independence": TEXT},
}

SURVEILLANCE_NOTICE = {
    "body": BODY, "scheme": SCHEME, "doc": DOC,
    "org": ORG,
    "certificate": {"number": TEXT, "scope": TEXT, "issue_date": TEXT, "expiry_date": TEXT},
    "surveillance": {"number": TEXT, "due_by": TEXT, "due_rule": TEXT, "start": TEXT,
                     "end": TEXT, "man_days": TEXT, "contact": TEXT},
    "team": [MEMBER],
    "sites": [SITE],
    "documents": [TEXT],
    "cnca_notice": TEXT,
}


def _leaf_ok(kind: str, value: Any) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == OPTIONAL_TEXT:
        return value is None or isinstance(value, str)
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == IMAGE:
        return isinstance(value, Image)
    if kind == OPTIONAL_IMAGE:
        return value is None or isinstance(value, Image)
    raise ValueError(f"unknown schema leaf {kind!r}")


def problems(schema: Schema, value: Any, path: str = "") -> list[str]:
    """Where ``value`` departs from ``schema``: missing or extra keys, wrong leaf types."""
    here = path or "context"
    if isinstance(schema, dict):
        if not isinstance(value, Mapping):
            return [f"{here}: expected an object, got {type(value).__name__}"]
        out = [f"{here}: missing {k}" for k in schema if k not in value]
        out += [f"{here}: undeclared {k}" for k in value if k not in schema]
        for key, sub in schema.items():
            if key in value:
                out += problems(sub, value[key], f"{path}.{key}" if path else key)
        return out
    if isinstance(schema, list):
        if not isinstance(value, list | tuple):
            return [f"{here}: expected a list, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(schema[0], item,
                                                                    f"{here}[{i}]")]
    return [] if _leaf_ok(schema, value) else [
        f"{here}: expected {schema}, got {type(value).__name__}"]


def describe(schema: Schema, prefix: str = "") -> list[str]:
    """The dotted paths a schema declares (``sites[].address``), for docs and listings."""
    if isinstance(schema, dict):
        return [p for key, sub in schema.items()
                for p in describe(sub, f"{prefix}.{key}" if prefix else key)]
    if isinstance(schema, list):
        return describe(schema[0], f"{prefix}[]")
    return [f"{prefix} ({schema})"]
