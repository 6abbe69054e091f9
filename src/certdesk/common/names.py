"""People's names as compared, not as printed."""

from __future__ import annotations

import unicodedata


def person_key(name: str) -> str:
    """Full-width letters, case and stray spaces must not make one person two (an auditor
    passing as a decision maker, a proposer approving their own disposal)."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()
