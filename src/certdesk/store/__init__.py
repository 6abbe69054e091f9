"""The records archive: database (SQLModel + Alembic), write-once blob stores (folder or
S3 with object lock), the hash-chained event log, retention, holds, disposal, audit and
export. See docs/records.md."""
