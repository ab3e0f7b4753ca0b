"""The kiosk agent: keeps the browser on a screen showing the wall (see docs/kiosk.md)."""
