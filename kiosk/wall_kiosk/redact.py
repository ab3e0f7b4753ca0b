"""What may be said about a URL or an untrusted value in a log line, an error or /healthz. Pure; imports
nothing of ours. It lives in the kiosk agent's package because the agent's own small distribution needs
it; the server (wall/, ingest/) imports it as `wall.redact`, so there is one copy.

A URL's query (`?access_token=`), path (`/services/T0/B0/SECRET`, `/bot123:ABC/`) and userinfo
(`user:password@`) may all be secrets, so a URL is shown by its scheme and host alone. Log lines escape
control characters, so no value from outside can start a line of its own or steer a terminal.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# A URL inside free text (an exception's message, a log line): a scheme, "://" and no blanks or quotes.
URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# C0 and C1 controls (newline, CR, ESC...), DEL and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A quoted value in an error's message: '…', "…" and `…`; a path (`$.post.text`) or a type's name
# (msgspec's "Expected `object`, got `int`") is matched first, to be kept.
QUOTED = re.compile(r"(?P<keep>`\$[^`]*`|`[a-z]+`)|'[^']*'|\"[^\"]*\"|`[^`]*`")


def redact_url(url: str, keep_path: bool = False) -> str:
    """`https://host:port/…`: no userinfo, path or query. `keep_path` keeps a path the caller knows is not
    secret (a kiosk's own wall page) and masks each query value (`/w/lobby?key=…`)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    if not parts.scheme or not (host or parts.path):  # unix:///run/redis.sock has a path and no host
        return "(an unreadable URL)"
    where = f"[{host}]" if host and ":" in host else host or ""
    base = f"{parts.scheme}://{where}{f':{port}' if port is not None else ''}"
    if not keep_path:
        return f"{base}/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else base
    query = re.sub(r"=[^&]*", "=…", parts.query)
    return escape(f"{base}{parts.path}{f'?{query}' if query else ''}")


def redact_urls(text: str, keep_paths: bool = False) -> str:
    """Every URL in a message (an exception's, a source error's) redacted by redact_url."""
    def one(m: re.Match[str]) -> str:
        url = m.group()
        core = url.rstrip(".,;:)]}")  # the sentence's punctuation after a URL stays in the sentence
        return redact_url(core, keep_paths) + url[len(core):]

    return URL_IN_TEXT.sub(one, text)


def without_values(message: str) -> str:
    """An error's message with each quoted value masked: a decoder quotes what it could not read (msgspec:
    "Invalid value 'what the post said' - at `$.type`"), and that may be a person's words or name. The
    reason and the path stay, which is what an operator needs."""
    return QUOTED.sub(lambda m: m.group() if m.group("keep") else f"{m.group()[0]}…{m.group()[0]}", message)


def escape(text: str) -> str:
    """Control characters as visible escapes (`\\n`, `\\x1b`): the value stays on its line."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SafeFormatter(logging.Formatter):
    """Every message escaped and its URLs redacted, whatever the call site passed: one place, so no log
    call can forget it. A traceback (after the message) keeps its lines. `keep_paths`: see redact_url."""

    def __init__(self, fmt: str = FORMAT, keep_paths: bool = False) -> None:
        super().__init__(fmt)
        self.keep_paths = keep_paths

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(redact_urls(record.message, self.keep_paths))
        return super().formatMessage(record)


def configure_logging(level: int = logging.INFO, keep_paths: bool = False) -> None:
    """The process's log: INFO and up to stderr through the SafeFormatter. The kiosk agent keeps paths
    (its log names the wall page it shows; the display key in the query is masked all the same)."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(FORMAT, keep_paths))
    logging.basicConfig(level=level, handlers=[handler])
