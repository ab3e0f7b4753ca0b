"""One delivery attempt: POST the alert to its target and judge the answer (docs/alerts.md).

2xx: sent. 408, 425, 429, 5xx, a connection that fails or a timeout: tried again later (a 429's or 503's
Retry-After is honoured). Any other answer (400, 403, 404, 410: a revoked Slack URL, a deleted Teams
workflow) will not change by itself: failed at once, with the status and the start of the body as why.
Errors name the target by scheme and host alone: its URL is a secret.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import aiohttp

from wall.alerts.config import Target
from wall.alerts.detect import alert_from
from wall.alerts.payloads import request
from wall.redact import redact_url, redact_urls
from wall.store.alerts import Delivery

TIMEOUT = 10.0  # seconds for one attempt
AGAIN = frozenset({408, 425, 429})
WHY_BYTES = 300  # of the answer's body kept as why it failed
RETRY_BASE = 2.0  # seconds before the second attempt; doubling each time, with jitter
RETRY_CAP = 600.0
RETRY_AFTER_CAP = 3600.0
MAX_ATTEMPTS = 10  # about 17 minutes of retries, then failed


@dataclass(frozen=True, slots=True)
class Outcome:
    sent: bool
    error: str | None = None
    again: bool = False  # worth another attempt
    retry_after: float | None = None  # seconds the target asked for


def retry_in(attempts: int, asked: float | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential with jitter (half to the
    whole of RETRY_BASE x 2^(attempts-1), at most RETRY_CAP), or what the target asked for."""
    if asked is not None:
        return min(max(asked, 0.0), RETRY_AFTER_CAP)
    return min(RETRY_CAP, RETRY_BASE * 2.0 ** max(attempts - 1, 0)) * random.uniform(0.5, 1.0)


async def attempt(session: aiohttp.ClientSession, target: Target, delivery: Delivery) -> Outcome:
    """POST the delivery's alert to the target, once."""
    body, headers = request(target.type, alert_from(delivery.body), delivery.id, target.secret)
    where = redact_url(target.url)
    try:
        async with session.post(target.url, data=body, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as r:
            if 200 <= r.status < 300:
                return Outcome(sent=True)
            said = (await r.content.read(WHY_BYTES)).decode("utf-8", "replace")
            said = " ".join(said.split())
            why = f"{where} answered HTTP {r.status}" + (f": {said}" if said else "")
            if r.status in AGAIN or r.status >= 500:
                return Outcome(sent=False, error=why, again=True, retry_after=_retry_after(r))
            if 300 <= r.status < 400:
                why += " (a redirect: configure the address it points to)"
            return Outcome(sent=False, error=why)
    except TimeoutError:
        return Outcome(sent=False, error=f"{where} did not answer within {TIMEOUT:g} s", again=True)
    except (aiohttp.ClientError, OSError) as e:
        return Outcome(sent=False, error=f"{where}: {type(e).__name__}: {redact_urls(str(e))}", again=True)


def _retry_after(r: aiohttp.ClientResponse) -> float | None:
    value = r.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: the backoff decides
        return None
