"""Connectors for the networks: one module each (TYPE, Options, build)."""
