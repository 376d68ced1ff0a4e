"""Alembic migration scripts for the seglens store (run with ``seglens db upgrade``)."""
