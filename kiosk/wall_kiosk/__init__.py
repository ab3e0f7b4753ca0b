"""The kiosk agent: keeps the browser on a screen showing the wall (see docs/kiosk.md). Its own small
distribution, `wall-kiosk` (kiosk/pyproject.toml): aiohttp and nothing of the server."""

__version__ = "0.1.0"  # released with the server: tests/test_kiosk_package.py keeps the two equal
