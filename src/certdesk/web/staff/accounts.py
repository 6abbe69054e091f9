"""Staff accounts: roles and what each may do, argon2 password hashes, sign-in with a
rate limit. Shared by the staff desk and ``certdesk users``; every change is logged."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certdesk.common.errors import CertdeskError, InputError, NotFound, RuleViolation
from certdesk.common.i18n import LANGS, N_
from certdesk.common.settings import Settings, get_settings
from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import Disposal, Event, utcnow
from certdesk.store.rows import stored_id, table_of
from certdesk.store.staff import (
    StaffLoginCounter,
    StaffOsUser,
    StaffPasswordReset,
    StaffSession,
    StaffUser,
)

ROLES: dict[str, str] = {  # msgids: shown through gettext
    "issuer": N_("签发人员"),
    "decision_maker": N_("认证决定人员"),
    "records_officer": N_("档案管理员"),
    "admin": N_("系统管理员"),
}

_ISSUING = frozenset({"issuer", "admin"})


class UnknownRole(InputError):
    def __init__(self, role: str) -> None:
        super().__init__(N_("角色 {role} 不存在（可选：{roles}）。"), role=repr(role),
                         roles=", ".join(ROLES))

# What each role may do, checked on the server for every request (the pages only hide what
# a role cannot use). Reading — search, timelines, archived documents, the due list — is
# every role's daily work; changing anything is not.
ALLOWED: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "issue": _ISSUING,
    "certify": frozenset({"decision_maker", "admin"}),
    "status": _ISSUING,
    "surveillance": _ISSUING,
    "reissue": _ISSUING,
    "recertify": _ISSUING,
    "sweep": _ISSUING,
    "records": frozenset({"records_officer", "admin"}),
    "users": frozenset({"admin"}),
}

NAME_RE = re.compile(r"[a-z][a-z0-9._-]{1,31}")
# Actors the lifecycle already writes into the event log: a staff account must not be
# mistaken for them when the log is read.
RESERVED_NAMES = frozenset({"system", "sweep", "issuer", "anonymous"})
MIN_PASSWORD = 10
ANONYMOUS = "anonymous"


class LoginFailed(CertdeskError):
    """Wrong name or password, or a disabled account (deliberately not told apart)."""


class TooManyAttempts(CertdeskError):
    """Sign-in refused for a while after repeated failures."""


def may(role: str, action: str) -> bool:
    return role in ALLOWED.get(action, frozenset())


def subject(name: str) -> str:
    """The event-log subject of an account."""
    return f"staff:{name}"


def _hasher() -> PasswordHasher:
    settings = get_settings()
    return _argon2(settings.staff_password_time_cost, settings.staff_password_memory_kib)


@cache
def _argon2(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)  # argon2id


@cache
def _dummy_hash() -> str:
    # Verified against when the account does not exist, so that a wrong name costs the same
    # time as a wrong password and names cannot be probed by timing.
    return _hasher().hash("certdesk: no such account")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(N_("密码至少 {n} 个字符。"), n=MIN_PASSWORD)


def add_user(engine: Engine, name: str, role: str, password: str, *, actor: str) -> StaffUser:
    name = name.strip()
    if not NAME_RE.fullmatch(name) or name in RESERVED_NAMES:
        raise InputError(N_("用户名 {name} 不可用：2–32 位小写字母、数字、点、下划线或连字符，"
                            "以字母开头，且不能是 {reserved}。"),
                         name=repr(name), reserved="/".join(sorted(RESERVED_NAMES)))
    if role not in ROLES:
        raise UnknownRole(role)
    _check_password(password)
    digest = _hasher().hash(password)
    with session_scope(engine) as s:
        if s.exec(select(StaffUser).where(StaffUser.name == name)).first() is not None:
            raise InputError(N_("用户 {name} 已存在。"), name=name)
        user = StaffUser(name=name, role=role, password_hash=digest)
        s.add(user)
        events.append(s, "staff.user_added", subject(name), {"role": role}, actor)
    return user


def list_users(engine: Engine) -> list[StaffUser]:
    with Session(engine) as s:
        return list(s.exec(select(StaffUser).order_by(StaffUser.name)))


def set_active(engine: Engine, name: str, active: bool, *, actor: str) -> StaffUser:
    """Enable or disable an account; disabling also ends its open sessions at once."""
    with session_scope(engine) as s:
        user = s.exec(select(StaffUser).where(StaffUser.name == name)).first()
        if user is None:
            raise NotFound(N_("没有用户 {name}。"), name=name)
        if user.active != active:
            user.active = active
            s.add(user)
            if not active:
                s.execute(delete(StaffSession).where(col(StaffSession.user_id) == user.id))
            events.append(s, "staff.user_enabled" if active else "staff.user_disabled",
                          subject(name), {}, actor)
    return user


def _take_slot(s: Session, key: str, now: datetime, since: datetime, limit: int) -> bool:
    """Count one more guess on ``key`` unless its window already holds ``limit``; one
    INSERT … ON CONFLICT DO UPDATE … RETURNING, atomic on SQLite (its write lock, taken by
    BEGIN IMMEDIATE) and on PostgreSQL (the conflicting row is locked)."""
    table = table_of(StaffLoginCounter)
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    expired = table.c.window_start <= since
    stmt = insert(table).values(key=key, window_start=now, failures=1).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((expired, 1), else_=table.c.failures + 1),
              "window_start": case((expired, now), else_=table.c.window_start)},
        where=or_(expired, table.c.failures < limit)).returning(table.c.failures)
    return s.execute(stmt).first() is not None


def _forget_expired(s: Session, since: datetime) -> None:
    """Drop counters whose window has passed. SKIP LOCKED (PostgreSQL; SQLite has one
    writer anyway): a row a sign-in is using is left for next time, never waited for."""
    stale = (select(StaffLoginCounter.key).where(StaffLoginCounter.window_start <= since)
             .limit(500).with_for_update(skip_locked=True))
    s.execute(delete(StaffLoginCounter).where(
        col(StaffLoginCounter.key).in_(stale.scalar_subquery())))


def authenticate(engine: Engine, settings: Settings, name: str, password: str,
                 address: str) -> StaffUser:
    """The account for ``name`` if ``password`` is right. Each guess first takes a slot in
    the account's and the address's window (counted as a failure until proven right); when
    either is full the guess is refused unchecked, so at most the limit is ever checked per
    window. Failures are logged; a success clears its account's window only."""
    name = name.strip()[:32]
    window = timedelta(minutes=settings.staff_login_window_minutes)
    now = utcnow()
    since = now - window
    limit = settings.staff_login_max_failures
    keys = (f"name:{name}", f"address:{address[:64]}")
    with session_scope(engine) as s:
        # Refused: the rollback gives back the slot the other key may have granted. The two
        # keys are always taken in this order, so two sign-ins cannot wait on each other.
        if not (_take_slot(s, keys[0], now, since, limit)
                and _take_slot(s, keys[1], now, since, 4 * limit)):
            raise TooManyAttempts(N_("登录失败次数过多，请 {minutes} 分钟后再试。"),
                                  minutes=settings.staff_login_window_minutes)
        user = s.exec(select(StaffUser).where(StaffUser.name == name)).first()
    # Hashing happens outside any transaction: it is slow on purpose and must not hold the
    # database's write lock meanwhile. The slot taken above already counts this guess.
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        with session_scope(engine) as s:
            events.append(s, "staff.login_failed", subject(name), {"address": address},
                          ANONYMOUS)
            _forget_expired(s, since)
        raise LoginFailed(N_("用户名或密码错误，或账户已停用。"))
    rehashed = _hasher().hash(password) if _hasher().check_needs_rehash(user.password_hash) \
        else None
    with session_scope(engine) as s:
        row = s.get_one(StaffUser, user.id)
        row.last_login = utcnow()
        if rehashed:
            row.password_hash = rehashed
        s.add(row)
        s.execute(delete(StaffLoginCounter).where(col(StaffLoginCounter.key) == keys[0]))
        # The address gives back the slot this guess took: an office signing in all day
        # from one address must not lock itself out.
        s.execute(update(StaffLoginCounter).where(col(StaffLoginCounter.key) == keys[1],
                                                  col(StaffLoginCounter.failures) > 0)
                  .values(failures=StaffLoginCounter.failures - 1))
    return row


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher().verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def any_accounts(engine: Engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(StaffUser.id).limit(1)).first() is not None


def map_os_user(engine: Engine, os_user: str, name: str | None, *, actor: str) -> None:
    """Let the operating-system user ``os_user`` act as account ``name`` on the CLI (None:
    remove the mapping); logged on the account, so it counts as a change of it."""
    os_user = os_user.strip()
    if not re.fullmatch(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,63}", os_user):
        raise InputError(N_("操作系统用户名 {os_user} 不合法。"), os_user=repr(os_user))
    with session_scope(engine) as s:
        row = s.get(StaffOsUser, os_user)
        if name is None:
            if row is None:
                raise NotFound(N_("{os_user} 没有对应的账户。"), os_user=os_user)
            old = s.get_one(StaffUser, row.user_id)
            s.delete(row)
            events.append(s, "staff.os_user_unmapped", subject(old.name), {"os_user": os_user},
                          actor)
            return
        user = s.exec(select(StaffUser).where(StaffUser.name == name)).first()
        if user is None:
            raise NotFound(N_("没有用户 {name}。"), name=name)
        row = row or StaffOsUser(os_user=os_user, user_id=stored_id(user.id))
        row.user_id = stored_id(user.id)
        s.add(row)
        events.append(s, "staff.os_user_mapped", subject(name), {"os_user": os_user}, actor)


def account_for_os_user(engine: Engine, os_user: str) -> StaffUser | None:
    with Session(engine) as s:
        row = s.get(StaffOsUser, os_user)
        return s.get(StaffUser, row.user_id) if row is not None else None


USER_CHANGES = ("staff.user_added", "staff.user_enabled", "staff.user_disabled",
                "staff.os_user_mapped", "staff.os_user_unmapped", "staff.password_reset",
                "staff.role_changed")
"""Log entries that make or change an account (its subject is ``staff:<name>``)."""


def check_second_officer(engine: Engine, disposal_id: int, name: str) -> None:
    """The officer deciding a disposal must be an account that existed before the proposal
    and that the proposer neither created nor last changed: otherwise one person could
    make (or take over) a second account and approve their own proposal."""
    with Session(engine) as s:
        proposal = s.get(Disposal, disposal_id)
        user = s.exec(select(StaffUser).where(StaffUser.name == name)).first()
        if proposal is None or user is None:
            return  # the disposal's own checks name what is missing
        proposer = proposal.proposed_by
        if user.created >= proposal.proposed_at:
            raise RuleViolation(N_("销毁须由两名档案管理员办理：账户 {name} 创建于销毁申请 "
                                   "{disposal} 提出之后。"), name=name, disposal=disposal_id)
        changes = s.exec(select(Event.actor).where(Event.subject == subject(name),
                                                   col(Event.kind).in_(USER_CHANGES))
                         .order_by(col(Event.seq))).all()
    if changes and proposer in (changes[0], changes[-1]):
        raise RuleViolation(N_("销毁须由两名档案管理员办理：账户 {name} 由提出销毁申请 "
                               "{disposal} 的 {proposer} 创建或最后修改。"),
                            name=name, disposal=disposal_id, proposer=proposer)


# -- passwords and roles (the admin's and each account's own) -----------------------------------


def _user(s: Session, name: str) -> StaffUser:
    user = s.exec(select(StaffUser).where(StaffUser.name == name)).first()
    if user is None:
        raise NotFound(N_("没有用户 {name}。"), name=name)
    return user


def must_change_password(engine: Engine, user_id: int) -> bool:
    with Session(engine) as s:
        return s.get(StaffPasswordReset, user_id) is not None


def change_password(engine: Engine, name: str, current: str, new: str) -> None:
    """The account's own change: the current password must be right (a session left open
    on a shared desk must not be enough to take the account over)."""
    with Session(engine) as s:
        user = _user(s, name)
    if not _verify(user.password_hash, current):
        raise InputError(N_("当前密码不正确。"))
    _check_password(new)
    if new == current:
        raise InputError(N_("新密码不能与当前密码相同。"))
    digest = _hasher().hash(new)
    with session_scope(engine) as s:
        row = s.get_one(StaffUser, user.id)
        row.password_hash = digest
        s.add(row)
        s.execute(delete(StaffPasswordReset).where(col(StaffPasswordReset.user_id) == user.id))
        events.append(s, "staff.password_changed", subject(name), {}, name)


def reset_password(engine: Engine, name: str, temporary: str, *, actor: str) -> StaffUser:
    """An admin sets a temporary password: the account's sessions end, and at its next
    sign-in the holder must choose their own before anything else."""
    _check_password(temporary)
    digest = _hasher().hash(temporary)
    with session_scope(engine) as s:
        user = _user(s, name)
        user.password_hash = digest
        s.add(user)
        s.execute(delete(StaffSession).where(col(StaffSession.user_id) == user.id))
        s.execute(delete(StaffPasswordReset).where(col(StaffPasswordReset.user_id) == user.id))
        s.add(StaffPasswordReset(user_id=stored_id(user.id), by=actor[:32]))
        events.append(s, "staff.password_reset", subject(name), {}, actor)
    return user


def set_role(engine: Engine, name: str, role: str, *, actor: str) -> StaffUser:
    """Change an account's role; the desk keeps at least one active admin."""
    if role not in ROLES:
        raise UnknownRole(role)
    with session_scope(engine) as s:
        user = _user(s, name)
        if user.role == role:
            return user
        if user.role == "admin" and user.active:
            admins = s.exec(select(func.count()).select_from(StaffUser).where(
                StaffUser.role == "admin", StaffUser.active)).one()
            if admins <= 1:
                raise InputError(N_("{name} 是唯一启用的系统管理员，不能更改其角色。"), name=name)
        before, user.role = user.role, role
        s.add(user)
        events.append(s, "staff.role_changed", subject(name), {"from": before, "to": role},
                      actor)
    return user


def set_language(engine: Engine, name: str, language: str | None) -> StaffUser:
    """The account's own choice of the desk's language (``zh``, ``en``; None: the
    browser's)."""
    if language not in (None, *LANGS):
        raise InputError(N_("语言 {language} 不可用（可选：{languages}）。"),
                         language=repr(language), languages=", ".join(LANGS))
    with session_scope(engine) as s:
        user = _user(s, name)
        if user.language != language:
            user.language = language
            s.add(user)
            events.append(s, "staff.language_changed", subject(name),
                          {"language": language}, name)
    return user
