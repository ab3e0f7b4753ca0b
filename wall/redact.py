"""The server's name for the one redaction module, which lives in the kiosk agent's package
(kiosk/wall_kiosk/redact.py): the agent's small distribution needs it too, and must not pull in the server.
Imports point one way: the server may import the agent's package, never the other way round."""

from wall_kiosk.redact import (
    FORMAT,
    SafeFormatter,
    configure_logging,
    escape,
    redact_url,
    redact_urls,
    without_values,
)

__all__ = ["FORMAT", "SafeFormatter", "configure_logging", "escape", "redact_url", "redact_urls",
           "without_values"]
