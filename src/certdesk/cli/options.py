"""Options every command group shares: ``--json``, date options and the body profiles."""

from __future__ import annotations

from datetime import date
from typing import overload

import typer

from certdesk.common.settings import get_settings
from certdesk.domain.profiles import Profile, Profiles, installed_profiles
from certdesk.domain.spec import parse_date

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
DRY_RUN_OPT = typer.Option(False, "--dry-run", help="Check everything and show what would "
                           "happen (numbers as the next one to be drawn); draw no number, "
                           "store and write nothing.")


@overload
def day_option(value: str, option: str) -> date: ...
@overload
def day_option(value: str | None, option: str) -> date | None: ...


def day_option(value: str | None, option: str) -> date | None:
    """The date given to ``option`` (YYYY-MM-DD), or None when it was not given."""
    return None if value is None else parse_date(value, option)


def install_profiles() -> Profiles:
    """The install's body profiles (``CERTDESK_PROFILE_DIRS``, then the shipped ones)."""
    return installed_profiles(get_settings())


def chosen_profiles(profile: str | None) -> list[Profile]:
    """The profile ``--profile`` names (an unknown id is refused), or every profile."""
    profiles = install_profiles()
    return [profiles.get(profile)] if profile else list(profiles)
