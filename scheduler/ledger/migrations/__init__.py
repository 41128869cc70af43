"""Versioned alembic migrations of the ledger, applied by `open_ledger` (see env.py)."""
