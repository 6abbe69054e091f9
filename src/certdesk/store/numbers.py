"""Every number drawn is accounted for: on a certificate or in ``VoidNumber``.

A number is drawn (counter advanced, ``number.drawn`` logged) in its own short transaction
before its certificate is produced; a kill -9, a lost database or a full disk between the
two leaves a gap nobody explained. ``archive audit`` lists such gaps and ``archive
recover`` voids them ("interrupted"). A draw whose process still runs on this host is in
flight, not a gap: recovering it would void a number about to be issued.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from certdesk.common.errors import InvalidNumber
from certdesk.common.proc import tag_alive
from certdesk.domain.numbering import CertNumber, parse
from certdesk.domain.profiles import Profiles
from certdesk.store import events
from certdesk.store.allocate import void
from certdesk.store.models import Certificate, Event, NumberCounter, VoidNumber

FOREIGN_DRAW_GRACE = timedelta(hours=1)
"""A draw by a process on another host (or from before draws named their process) is taken
as abandoned once this old: no issue takes that long."""

INTERRUPTED = "interrupted"


@dataclass
class NumberAccount:
    drawn: int = 0
    unaccounted: list[dict[str, Any]] = field(default_factory=list)
    """Drawn, neither issued nor void, and no process is working on it any more."""
    in_flight: list[dict[str, Any]] = field(default_factory=list)
    """Drawn by a process that still runs: its certificate or its void record will follow."""

    def as_dict(self) -> dict[str, Any]:
        return {"drawn": self.drawn, "unaccounted": self.unaccounted,
                "in_flight": self.in_flight}


def _series(number: CertNumber) -> tuple[str, int, str, int]:
    return number.body_code, number.year, number.scheme, int(number.sequence)


def _abandoned(data: dict[str, Any], at: datetime, now: datetime) -> bool:
    alive = tag_alive(data["process"]) if data.get("process") else None
    if alive is not None:
        return not alive
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return now - at > FOREIGN_DRAW_GRACE


def account(s: Session, profiles: Profiles, now: datetime | None = None) -> NumberAccount:
    """Compare the numbers drawn (the log's ``number.drawn`` entries, and every value a
    counter has passed) with the certificates and void numbers."""
    now = now or datetime.now(UTC)
    settled = set(s.exec(select(Certificate.number))) | set(s.exec(select(VoidNumber.number)))
    seen_series: set[tuple[str, int, str, int]] = set()
    for number in settled:
        with contextlib.suppress(InvalidNumber):
            seen_series.add(_series(parse(number)))
    out = NumberAccount()
    draws = s.exec(select(Event).where(Event.kind == "number.drawn").order_by(col(Event.seq)))
    for ev in draws:
        out.drawn += 1
        with contextlib.suppress(InvalidNumber):
            seen_series.add(_series(parse(ev.subject)))
        if ev.subject in settled:
            continue
        data = json.loads(ev.data or "{}")
        item = {"number": ev.subject, "drawn_at": ev.at, "log_seq": ev.seq,
                "process": data.get("process")}
        (out.unaccounted if _abandoned(data, ev.at, now) else out.in_flight).append(item)
    for counter in s.exec(select(NumberCounter)):
        for seq in range(1, counter.last_value + 1):
            if (counter.body_code, counter.year, counter.scheme, seq) not in seen_series:
                out.unaccounted.append({"counter": f"{counter.body_code} {counter.year:02d} "
                                        f"{counter.scheme}", "sequence": seq,
                                        "number": _counter_number(profiles, counter, seq)})
    return out


def _counter_number(profiles: Profiles, counter: NumberCounter, seq: int) -> str | None:
    """The main number a counter value stands for (cycle R0), when a profile names the
    counter's body and scheme (among ``profiles``, the install's); None otherwise."""
    for p in profiles:
        if (p.body.body_code, p.scheme.code) == (counter.body_code, counter.scheme):
            return str(CertNumber(counter.body_code, counter.year, counter.scheme,
                                  str(seq).zfill(p.numbering.sequence_width), 0,
                                  p.body.accreditation_code))
    return None


def void_unaccounted(s: Session, actor: str, profiles: Profiles, *, in_flight_too: bool = False,
                     why: str = "archive recover") -> list[str]:
    """Void every unaccounted number with reason "interrupted", each logged. Idempotent:
    a voided number is accounted for on the next run. ``in_flight_too``: also the numbers
    whose process still runs — right for a restored copy, where no process will finish them."""
    found = account(s, profiles)
    voided = []
    for item in found.unaccounted + (found.in_flight if in_flight_too else []):
        number = item["number"]
        if number is None or s.get(VoidNumber, number) is not None:
            continue
        void(s, number, INTERRUPTED)
        events.append(s, "number.void", number, {"reason": INTERRUPTED, "by": why}, actor)
        voided.append(number)
    return voided
