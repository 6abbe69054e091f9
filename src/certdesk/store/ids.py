"""Row ids as the type checker sees them: SQLModel types a table's ``id`` ``int | None``
(None until the row is flushed), so code holding a stored row says so here once."""

from __future__ import annotations


def stored_id(ident: int | None) -> int:
    """The id of a flushed or loaded row; None means the caller skipped the flush (a bug)."""
    if ident is None:
        raise ValueError("the row has no id yet: flush it first")
    return ident
