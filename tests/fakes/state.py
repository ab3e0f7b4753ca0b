"""The KeyValue a supervisor gives a connector (ingest/connector.py), kept in a dict for connector tests."""

from __future__ import annotations


class Memory:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def set(self, key: str, value: str) -> None:
        self.data[key] = value
