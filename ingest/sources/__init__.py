"""Connectors for the networks: one module each, describing itself as `SPEC` (ingest/connector.py)."""
