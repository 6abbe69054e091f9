"""Drawing sequence numbers that never repeat, also with several issuers at once.

The counter row is incremented by a single ``UPDATE … RETURNING`` (a row lock on
PostgreSQL, the write lock on SQLite), never by ``max(number) + 1``. A number drawn for an
issue that then fails is recorded void, so gaps are explained rather than reused.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from certdesk.common.errors import RuleViolation
from certdesk.domain.numbering import CertNumber
from certdesk.domain.profiles import Profile
from certdesk.store.models import Certificate, VoidNumber


def draw_sequence(session: Session, body_code: str, scheme: str, year: int) -> int:
    key = {"b": body_code, "s": scheme, "y": year}
    session.execute(
        text("INSERT INTO numbercounter (body_code, scheme, year, last_value) "
             "VALUES (:b, :s, :y, 0) ON CONFLICT DO NOTHING"), key)
    value: int = session.execute(
        text("UPDATE numbercounter SET last_value = last_value + 1 "
             "WHERE body_code = :b AND scheme = :s AND year = :y RETURNING last_value"), key,
    ).scalar_one()
    return value


def allocate(session: Session, profile: Profile, issue_year: int, cycle: int = 0) -> CertNumber:
    """A fresh main-certificate number for ``profile`` in ``issue_year`` (commit promptly)."""
    width = profile.numbering.sequence_width
    while True:
        seq = draw_sequence(session, profile.body.body_code, profile.scheme.code, issue_year % 100)
        if seq >= 10**width:
            raise RuleViolation(
                f"sequence for {profile.scheme.code} {issue_year} exhausted at {width} digits "
                f"[XBHT annex A]; widen numbering.sequence_width in profile {profile.id!r}")
        number = CertNumber(profile.body.body_code, issue_year % 100, profile.scheme.code,
                            str(seq).zfill(width), cycle, profile.body.accreditation_code)
        # A counter reset by hand must still never re-issue a used or void number.
        if not taken(session, str(number)):
            return number


def peek(session: Session, profile: Profile, issue_year: int, cycle: int = 0,
         after: int = 0) -> CertNumber:
    """The number ``allocate`` would draw now (after ``after`` earlier draws), without
    drawing it: what a dry run shows as "next"."""
    last = session.execute(
        text("SELECT last_value FROM numbercounter "
             "WHERE body_code = :b AND scheme = :s AND year = :y"),
        {"b": profile.body.body_code, "s": profile.scheme.code, "y": issue_year % 100},
    ).scalar() or 0
    seq, skip = last, after
    while True:
        seq += 1
        number = CertNumber(profile.body.body_code, issue_year % 100, profile.scheme.code,
                            str(seq).zfill(profile.numbering.sequence_width), cycle,
                            profile.body.accreditation_code)
        if not taken(session, str(number)):
            if skip == 0:
                return number
            skip -= 1


def taken(session: Session, number: str) -> bool:
    """Whether ``number`` was ever issued or voided (then it may never be issued again)."""
    return (session.get(VoidNumber, number) is not None
            or session.exec(select(Certificate.id).where(Certificate.number == number)).first()
            is not None)


def void(session: Session, number: CertNumber | str, reason: str) -> None:
    if session.get(VoidNumber, str(number)) is None:
        session.add(VoidNumber(number=str(number), reason=reason))
