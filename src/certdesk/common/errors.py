"""The typed error hierarchy.

Every failure a user can cause or meet is a ``CertdeskError``; the CLI and the web app turn
it into one line (or a 4xx answer). Anything else reaching the boundary is a bug.

A message is a msgid (the Chinese text, ``{name}`` fields for its parameters) and the
parameters: ``str(err)`` is the Chinese line, ``err.text(lang)`` the line in the reader's
language — the faces (pages, command line) translate, the code raising it does not.
"""

from certdesk.common.i18n import DEFAULT, N_, Msg, translate


class CertdeskError(Exception):
    """Base of all expected failures; ``str(err)`` is the one-line message for the user."""

    exit_code = 2

    def __init__(self, message: str = "", /, *args: object, **params: object) -> None:
        super().__init__(translate(DEFAULT, message, **params) if params else message, *args)
        self.msgid, self.params = message, params

    @property
    def code(self) -> str:
        """A stable name of the failure for scripts: the class's."""
        return type(self).__name__

    def text(self, lang: str) -> str:
        """The message in ``lang`` (a message raised before it had a msgid stays as is)."""
        return translate(lang, self.msgid, **self.params) if self.msgid else str(self)


class ConfigError(CertdeskError):
    """Settings or a body profile are missing or malformed."""


class ProfileNotFound(ConfigError):
    pass


class InputError(CertdeskError):
    """Input data (JSON, CSV, arguments) is malformed or incomplete."""

    field: str | None = None
    """The input column a failure names (batch input), when known."""
    site: int | None = None
    """The 1-based site of the organisation the failure is in, when it is in one."""


class InvalidNumber(InputError):
    """A certificate number does not follow the numbering grammar."""


class InvalidUSCC(InputError):
    """A unified social credit code fails GB 32100-2015."""


class RuleViolation(CertdeskError):
    """A certification rule forbids the requested action (the message names the rule)."""


class AlreadyHeld(RuleViolation):
    """The organisation already holds a current certificate of the scheme: a batch skips it
    (re-running a batch is safe), a certification refuses it."""

    def __init__(self, holder: str, number: str, status: str, expiry: object) -> None:
        super().__init__(N_("{holder}：已持有有效证书 {number}，未重复发证（{status}，有效期至 "
                            "{expiry}；第二张证书只能经再认证、换证或范围变更取得）"),
                         holder=holder, number=number, status=Msg(status), expiry=expiry)
        self.number = number


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
        super().__init__(N_("文件过于复杂，无法在 {limit} 秒内验证。"),
                         limit=f"{limit_seconds:g}")


class CheckBusy(CertdeskError):
    """Too many file checks are running or waiting; the caller should try again shortly."""
class DatabaseUnavailable(CertdeskError):
    """The database cannot be reached (down, wrong address, connection lost and retries
    used up): nothing was changed by the failed step."""

    exit_code = 75  # EX_TEMPFAIL: try again once the database is back


class DiskFull(CertdeskError):
    """The disk holding the database, the blobs or out/ has no space left."""

    exit_code = 74  # EX_IOERR


class DiskError(CertdeskError):
    """Reading or writing the disk failed for another reason than space."""

    exit_code = 74


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: the command stops starting work, voids what it drew and reports.

    A ``KeyboardInterrupt`` so that everything already prepared for Ctrl-C handles SIGTERM
    the same way; the exit code is the shell's 128 + signal (130, 143)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
