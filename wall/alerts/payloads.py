"""An alert as each kind of target takes it (pure; formats in docs/alerts.md):
- Slack incoming webhook: {"text", "blocks"} (Block Kit), all plain_text, so nothing in an alert can
  mention @channel or make a link;
- Microsoft Teams workflow ("When a Teams webhook request is received"): a message whose one attachment
  is an Adaptive Card;
- a generic webhook: the alert as JSON, signed with HMAC-SHA256 over "<timestamp>.<body>".
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import msgspec

from wall.alerts.detect import Alert

SIGNATURE = "X-Wall-Signature"  # "sha256=<hex>", as the wall's own webhook takes them (docs/api.md)
TIMESTAMP = "X-Wall-Timestamp"  # the epoch seconds that are signed with the body
DELIVERY = "X-Wall-Delivery"  # the delivery's id: the same on every retry, so a receiver can dedupe
CARD = "application/vnd.microsoft.card.adaptive"
SLACK_FIELDS = 10  # Slack's limit on a section's fields


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


def _footer(alert: Alert) -> str:
    return f"Wall {alert.wall_title} ({alert.wall}) · {_when(alert.at)}"


def slack(alert: Alert) -> dict[str, Any]:
    """A Slack incoming webhook's message."""
    def plain(text: str, limit: int) -> dict[str, Any]:
        return {"type": "plain_text", "text": text[:limit], "emoji": False}

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(alert.title, 150)},
        {"type": "section", "text": plain(alert.text, 3000)},
    ]
    if alert.facts:
        blocks.append({"type": "section", "fields": [plain(f"{label}: {value}", 2000)
                                                     for label, value in alert.facts[:SLACK_FIELDS]]})
    blocks.append({"type": "context", "elements": [plain(_footer(alert), 2000)]})
    return {"text": f"{alert.title}: {alert.text}", "blocks": blocks}


def teams(alert: Alert) -> dict[str, Any]:
    """A Teams workflow webhook's message: one Adaptive Card (1.4) attachment."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": True,
         "style": "heading"},
        {"type": "TextBlock", "text": alert.text, "wrap": True},
    ]
    if alert.facts:
        body.append({"type": "FactSet", "facts": [{"title": label, "value": value}
                                                  for label, value in alert.facts]})
    body.append({"type": "TextBlock", "text": _footer(alert), "isSubtle": True, "size": "Small",
                 "wrap": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [{"contentType": CARD, "contentUrl": None, "content": card}]}


def webhook(alert: Alert, delivery: int) -> dict[str, Any]:
    """The generic webhook's JSON: the alert itself, with its delivery id."""
    return {"type": "wall.alert", "delivery": delivery, **alert.body()}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the target's secret."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def request(kind: str, alert: Alert, delivery: int, secret: str | None,
            now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery to a target of `kind` (slack, teams or webhook)."""
    headers = {"Content-Type": "application/json", "User-Agent": "wall-alerts", DELIVERY: str(delivery)}
    if kind == "slack":
        return msgspec.json.encode(slack(alert)), headers
    if kind == "teams":
        return msgspec.json.encode(teams(alert)), headers
    body = msgspec.json.encode(webhook(alert, delivery))
    if secret is not None:
        stamp = int(time.time() if now is None else now)
        headers |= {TIMESTAMP: str(stamp), SIGNATURE: signature(secret, stamp, body)}
    return body, headers
