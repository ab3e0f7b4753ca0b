"""Durable state in SQL (SQLite or PostgreSQL) behind small repositories; see docs/store.md."""

from wall.store.store import Store, connect, open_store

__all__ = ["Store", "connect", "open_store"]
