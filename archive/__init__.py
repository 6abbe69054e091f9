"""The records archive: database (SQLModel), write-once blob store and the event log."""
