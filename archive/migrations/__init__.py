"""Alembic migrations of the archive tables (``archive.db.init_db`` upgrades to head)."""
