"""Sending a digest over SMTP with aiosmtplib: TLS as [smtp] security says, AUTH when a username is set,
tried again with backoff on failures that may pass (docs/digests.md, "Delivery")."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from wall.digests.settings import SmtpConfig

log = logging.getLogger(__name__)


class Permanent(Exception):
    """A failure that trying again cannot mend (the relay said 5xx: no such login, refused sender)."""


def tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    """The system's CAs, plus [smtp] ca_file when set; certificates and host names always checked."""
    return ssl.create_default_context(cafile=smtp.ca_file or None)


async def send(smtp: SmtpConfig, message: EmailMessage, context: ssl.SSLContext | None = None) -> str:
    """One attempt: connect, secure, log in, send. Returns the relay's answer, noting any recipients it
    refused while it took the others; raises Permanent on a 5xx, anything else on failures that may pass."""
    try:
        refused, answer = await aiosmtplib.send(
            message, hostname=smtp.host, port=smtp.port_or_default,
            use_tls=smtp.security == "tls", start_tls=smtp.security == "starttls",
            tls_context=(context or tls_context(smtp)) if smtp.security != "none" else None,
            username=smtp.username or None, password=smtp.password if smtp.username else None,
            timeout=smtp.timeout)
    except aiosmtplib.SMTPRecipientsRefused as e:  # every recipient refused: the config must change
        raise Permanent(f"every recipient refused: {'; '.join(str(r) for r in e.recipients)}") from e
    except aiosmtplib.SMTPResponseException as e:
        if 500 <= e.code < 600:
            raise Permanent(f"{e.code} {e.message}") from e
        raise
    if refused:
        return f"{answer}; refused: " + "; ".join(f"{to} ({r.code} {r.message})" for to, r in refused.items())
    return answer


@dataclass(frozen=True, slots=True)
class Outcome:
    sent: bool
    attempts: int
    error: str | None  # why the last attempt failed, or the recipients the relay refused


Attempt = Callable[[], Awaitable[str]]


async def with_retries(attempt: Attempt, tries: int, retry_after: float,
                       before: Callable[[int, str | None], Awaitable[None]]) -> Outcome:
    """Run `attempt` until it succeeds, fails permanently, or `tries` attempts failed; waits retry_after,
    then twice that, and so on, each with jitter (half to all of it) so nodes do not retry in step.
    `before(n, last_error)` runs before attempt n (the claim's heartbeat)."""
    error: str | None = None
    for n in range(1, tries + 1):
        await before(n, error)
        try:
            answer = await attempt()
        except asyncio.CancelledError:
            raise
        except Permanent as e:
            return Outcome(False, n, str(e))
        except Exception as e:
            error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            if n < tries:
                wait = retry_after * 2.0 ** (n - 1) * random.uniform(0.5, 1.0)
                log.warning("digest: attempt %d of %d failed (tried again in %.0f s): %s", n, tries, wait,
                            error)
                await asyncio.sleep(wait)
            continue
        return Outcome(True, n, answer if "refused:" in answer else None)
    return Outcome(False, tries, error)


def stale_after(smtp: SmtpConfig) -> float:
    """How long a claim can go untouched while its sender lives: the longest wait between attempts, an
    attempt's timeout, and room for composing the digest (the PDF)."""
    return smtp.retry_after * 2.0 ** (smtp.attempts - 1) + 2 * smtp.timeout + 600.0
