"""Alembic migrations of the archive tables (``store.db.init_db`` upgrades to head)."""
