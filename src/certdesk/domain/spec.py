"""Shared pieces of the rules modules: the audit kinds and how a profile's ``rules.toml``
sections become frozen specs (unknown or malformed keys are a ConfigError)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from certdesk.common.errors import ConfigError, InputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Audit(StrEnum):
    """The audits of a certification cycle (shared by man-days, sampling and dates)."""

    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"


T = TypeVar("T", bound="DataclassInstance")


@dataclass(frozen=True)
class RuleText:
    """A profile's ``rules.toml`` as read: the profile's id, the file (named in every
    message about it) and its tables. The rules modules parse their sections from it."""

    profile: str
    file: str
    data: Mapping[str, Any]

    def where(self, name: str) -> str:
        return f"profile {self.profile!r}: {self.file} [{name}]"


def section(text: RuleText, name: str) -> Mapping[str, Any]:
    """A ``rules.toml`` section, or ``ConfigError`` naming the file and the section."""
    value = text.data.get(name)
    if not isinstance(value, Mapping):
        raise ConfigError(f"profile {text.profile!r}: {text.file} has no [{name}] section")
    return value


def build(cls: type[T], data: Mapping[str, Any], where: str,
          **converters: Callable[[Any], Any]) -> T:
    """Make a frozen spec from TOML data; unknown, missing or malformed keys -> ConfigError."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    try:
        values = {k: converters[k](v) if k in converters else v for k, v in data.items()}
        return cls(**values)
    except (TypeError, ValueError, KeyError, ArithmeticError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_date(text: str, what: str) -> date:
    """An ISO date from user input, or ``InputError`` naming the option."""
    try:
        return date.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        raise InputError(f"{what} {text!r} is not a date (expected YYYY-MM-DD)") from None
