"""Alembic's environment and versions of the store's schema, run by path (``store.database``)."""

__all__: list[str] = []
