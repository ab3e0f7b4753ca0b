"""A live social wall for office kiosks and event stages."""

__version__ = "0.1.0"
