"""Who a record-changing CLI command acts as: a staff account, never a typed name.

``--as NAME`` names the account; its password comes from ``CERTDESK_PASSWORD`` or is asked
for on the terminal, and is checked like a sign-in on the staff desk (same lock-out). An
admin may instead map an operating-system user to an account (``certdesk users
map-os-user``), and that user then needs no ``--as``. The account's role must allow the
action, and the log records the account's name.

A home with no staff account at all is a single-user local install: commands act as before,
logged as the name given (the old ``--by``) or as ``os:<user>``. Two-officer disposal is the
exception: it needs real accounts even there.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from sqlalchemy.engine import Engine

from certdesk.common.errors import CertdeskError
from certdesk.common.settings import PASSWORD_ENV, Settings, cli_password, get_settings
from certdesk.domain.text import clean_text

if TYPE_CHECKING:
    from certdesk.store.staff import StaffUser

AS_OPT = typer.Option(
    None, "--as", "--by", metavar="ACCOUNT",
    help="Act as this staff account (password from $CERTDESK_PASSWORD, else asked). Not "
         "needed when an admin mapped your OS user to an account, or when the home has no "
         "staff accounts. `--by` is the old name of this option.")
"""The one option every record-changing command takes."""


class IdentityError(CertdeskError):
    """No valid staff identity for a command that changes records."""


@dataclass(frozen=True)
class Identity:
    actor: str
    """What the event log records: the account name (or, without accounts, see above)."""
    account: bool
    """Whether ``actor`` is a staff account (False in a home without accounts)."""


def os_user() -> str:
    return getpass.getuser()


def _password(name: str) -> str:
    password = cli_password()
    if password:
        return password
    if not sys.stdin.isatty():
        raise IdentityError(f"no password for {name}: set {PASSWORD_ENV} or run on a terminal")
    return getpass.getpass(f"Password for {name}: ")


def resolve(engine: Engine, settings: Settings, name: str | None, action: str, *,
            accounts_required: bool = False) -> Identity:
    """The identity for ``action`` (a key of ``web.staff.accounts.ALLOWED``)."""
    # lazy: certdesk.web.staff.accounts at module top adds ~3.9 s to `certdesk --help`
    from certdesk.web.staff.accounts import (
        ROLES,
        account_for_os_user,
        any_accounts,
        authenticate,
        may,
    )

    me = os_user()
    if not any_accounts(engine):
        if accounts_required:
            raise IdentityError("this needs two staff accounts (two officers): add them with "
                                "`certdesk users add`, then act with --as")
        given = clean_text(name.strip(), "by") if name and name.strip() else None
        return Identity(given or f"os:{me}", False)
    user: StaffUser | None
    if name:
        user = authenticate(engine, settings, name, _password(name.strip()), f"cli:{me}")
    else:
        user = account_for_os_user(engine, me)
        if user is None or not user.active:
            raise IdentityError(f"this home has staff accounts: act as one with --as ACCOUNT, "
                                f"or ask an admin to map OS user {me} to your account "
                                "(`certdesk users map-os-user`)")
    if not may(user.role, action):
        raise IdentityError(f"account {user.name} ({user.role}, {ROLES[user.role]}) may not "
                            f"do this ({action})")
    return Identity(user.name, True)


def acting(name: str | None, action: str, *, accounts_required: bool = False) -> str:
    """The actor a CLI command logs, resolved against the settings' database."""
    # lazy: certdesk.store.db at module top adds ~0.5 s to `certdesk --help`
    from certdesk.store.db import get_engine

    settings = get_settings()
    return resolve(get_engine(settings.db_url), settings, name, action,
                   accounts_required=accounts_required).actor
