"""The typed error hierarchy.

Every failure a user can cause or meet is a ``CertdeskError``; the CLI and the web app turn
it into one line (or a 4xx answer). Anything else reaching the boundary is a bug.
"""


class CertdeskError(Exception):
    """Base of all expected failures; ``str(err)`` is the one-line message for the user."""

    exit_code = 2


class ConfigError(CertdeskError):
    """Settings or a body profile are missing or malformed."""


class ProfileNotFound(ConfigError):
    pass


class InputError(CertdeskError):
    """Input data (JSON, CSV, arguments) is malformed or incomplete."""


class InvalidNumber(InputError):
    """A certificate number does not follow the numbering grammar."""


class InvalidUSCC(InputError):
    """A unified social credit code fails GB 32100-2015."""


class RuleViolation(CertdeskError):
    """A certification rule forbids the requested action (the message names the rule)."""


class TemplateError(CertdeskError):
    """A Word template is missing, malformed or asks for a value the context lacks."""


class ConversionError(CertdeskError):
    """LibreOffice failed to turn a document into PDF."""


class SigningError(CertdeskError):
    """Key material or a signature operation failed."""


class VerificationFailed(CertdeskError):
    """A document is not a genuine, intact, archived record (the message says why)."""

    exit_code = 1


class ArchiveError(CertdeskError):
    """The records store refused or failed an operation."""


class NotFound(CertdeskError):
    """A certificate, record or client that was asked for does not exist."""


class TooComplex(VerificationFailed):
    """A file from outside needed more time or memory to check than the limit allows."""

    def __init__(self, limit_seconds: float, spent_seconds: float) -> None:
        self.limit_seconds, self.spent_seconds = limit_seconds, spent_seconds
        super().__init__(f"文件过于复杂，无法在限定时间内验证 (the file is too complex to "
                         f"check within {limit_seconds:g} s)")


class CheckBusy(CertdeskError):
    """Too many file checks are running or waiting; the caller should try again shortly."""
