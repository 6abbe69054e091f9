"""What issuing an organisations file would do, one entry per input row: issuable (with the
numbers and dates it would get), refused (with the column and the reason) or already
certified (with the certificate held). The web preview and ``certdesk issue --dry-run``
show the same rows; nothing is drawn or stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from certdesk.common.errors import AlreadyHeld, CertdeskError, InputError
from certdesk.common.i18n import DEFAULT, N_, Said
from certdesk.services.inputs import OrganisationInput, Parsed, Rejected
from certdesk.services.issuing import IssuePreview, Issuer

RowState = Literal["ok", "error", "held"]


@dataclass(frozen=True)
class PlannedRow:
    row: int
    """The record's place in the file (1-based, blank rows not counted): what a
    confirmation names to issue exactly the rows previewed."""
    line: int | None
    """The CSV line or sheet row it starts on; None for JSON."""
    organisation: str
    uscc: str
    sites: int
    state: RowState
    field: str | None = None
    """The column an error is in, where it is one column's."""
    message: str = ""
    held_number: str | None = None
    warnings: tuple[Said, ...] = ()
    preview: IssuePreview | None = None
    record: OrganisationInput | None = None
    error: CertdeskError | None = None
    """An error row's exception (a single record's is the command's error)."""
    held: AlreadyHeld | None = None
    """A held row's refusal (not an error: the command goes on)."""

    @property
    def label(self) -> str:
        """The row as a person finds it: its organisation, else its place (a ``Said``:
        shown in its reader's language)."""
        return self.organisation or (Said(N_("第 {n} 行"), n=self.line) if self.line
                                     else Said(N_("第 {n} 条"), n=self.row))

    @property
    def numbers(self) -> tuple[str, ...]:
        return self.preview.numbers if self.preview else ()

    @property
    def issue_date(self) -> date | None:
        return self.preview.dates.issue_date if self.preview else None

    @property
    def expiry_date(self) -> date | None:
        return self.preview.dates.expiry_date if self.preview else None

    def text(self, lang: str) -> str:
        """The row's message (its error, or the certificate held) in ``lang``."""
        refusal = self.error or self.held
        return refusal.text(lang) if refusal is not None else self.message

    def as_dict(self, lang: str = DEFAULT) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "organisation": self.organisation,
                "uscc": self.uscc, "sites": self.sites, "state": self.state,
                "field": self.field, "message": self.text(lang), "numbers": list(self.numbers),
                "issue_date": self.issue_date, "expiry_date": self.expiry_date,
                "held_number": self.held_number,
                "warnings": [w.text(lang) for w in self.warnings]}


def plan_rows(issuer: Issuer, records: Sequence[Parsed]) -> list[PlannedRow]:
    """Each record's fate if the file were issued now, with the numbers each issuable one
    would be drawn in turn (not drawn: another issue may take them first)."""
    rows: list[PlannedRow] = []
    first_row: dict[str, int] = {}
    issuable = 0
    for i, rec in enumerate(records, start=1):
        if isinstance(rec, Rejected):
            rows.append(PlannedRow(i, rec.line, rec.organisation, "", 0, "error", rec.field,
                                   str(rec.error), error=rec.error))
            continue
        row = PlannedRow(i, rec.line, rec.name, rec.uscc, len(rec.sites), "ok",
                         warnings=rec.warnings, record=rec)
        if rec.uscc in first_row:  # a batch issues an organisation once (the first row
            # that can be issued; an earlier refused one does not count)
            rows.append(_refused(row, "uscc", InputError(
                N_("{name}: 与第 {row} 条记录的统一社会信用代码相同，不重复签发"),
                name=rec.name, row=first_row[rec.uscc])))
            continue
        try:
            preview = issuer.preview(rec, after=issuable)
        except AlreadyHeld as exc:
            rows.append(replace(row, state="held", message=str(exc), held_number=exc.number,
                                held=exc))
        except CertdeskError as exc:
            rows.append(_refused(row, getattr(exc, "field", None), exc))
        else:
            issuable += 1
            first_row[rec.uscc] = i
            rows.append(replace(row, preview=preview))
    return rows


def _refused(row: PlannedRow, field: str | None, exc: CertdeskError) -> PlannedRow:
    return replace(row, state="error", field=field, message=str(exc), error=exc)
