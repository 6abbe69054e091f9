"""The status the public sees: the stored status seen through the calendar."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.domain.status import effective_status

ISSUED, EXPIRES = date(2027, 3, 1), date(2030, 2, 28)


@pytest.mark.parametrize(("stored", "today", "expected"), [
    ("valid", date(2027, 2, 28), "not_yet_valid"),
    ("valid", ISSUED, "valid"),
    ("valid", EXPIRES, "valid"),
    ("valid", date(2030, 3, 1), "expired"),
    ("suspended", date(2030, 3, 1), "expired"),
    ("revoked", date(2027, 2, 1), "revoked"),
    ("cancelled", date(2027, 2, 1), "cancelled"),
    ("superseded", date(2027, 2, 1), "superseded"),
])
def test_the_calendar_turns_a_stored_status_into_what_holds_today(stored, today, expected):
    assert effective_status(stored, EXPIRES, today, issued=ISSUED) == expected


def test_the_issue_date_cannot_be_forgotten():
    with pytest.raises(TypeError):
        effective_status("valid", EXPIRES, ISSUED)  # type: ignore[call-arg]
