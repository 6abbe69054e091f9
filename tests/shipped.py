"""The shipped body profiles, loaded once for the tests that read their data (what an
install with no ``CERTDESK_PROFILE_DIRS`` loads)."""

from certdesk.domain.profiles import RuleBook, load_profiles

SHIPPED = load_profiles()


def rules_of(pid: str) -> RuleBook:
    """The parsed rules of shipped profile ``pid``."""
    return SHIPPED.get(pid).rules
