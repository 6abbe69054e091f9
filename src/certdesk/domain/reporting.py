"""When the regulator (认监委) must have been told of a certificate event: the
``[reporting]`` section of a profile's ``rules.toml``. The seeds oblige the report but name
no period, so every profile's number is a placeholder listed in ``body.unverified``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from certdesk.domain.spec import RuleText, build, section


@dataclass(frozen=True)
class ReportingSpec:
    due_days: int
    """Calendar days from the event to the report's due date."""
    clause: str

    def __post_init__(self) -> None:
        if not isinstance(self.due_days, int) or self.due_days < 0:
            raise ValueError(f"due_days must be a whole number of days, not {self.due_days!r}")

    def due(self, event_date: date) -> date:
        return event_date + timedelta(days=self.due_days)


def reporting_rules(text: RuleText) -> ReportingSpec:
    """``[reporting]`` of a profile's rules (parsed once, when the profile loads)."""
    return build(ReportingSpec, section(text, "reporting"), text.where("reporting"))
