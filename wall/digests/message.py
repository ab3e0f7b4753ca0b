"""A digest as an e-mail: a short plain-text body, the same as HTML, and the PDF report attached
(docs/digests.md, "What a digest says"). Pure: builds the message, sends nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import jinja2

from wall.digests.schedule import Period
from wall.paths import TEMPLATES

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined)
_ID_PART = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass(frozen=True)
class Contents:
    """What a digest says: its figures as (label, value) rows, short lists (top hashtags ...) as
    (heading, items), and the report as a PDF (None: sent without)."""

    figures: list[tuple[str, str]]
    lists: list[tuple[str, list[str]]] = field(default_factory=list)
    pdf: bytes | None = None


def subject(title: str, every: str, period: Period) -> str:
    kind = {"daily": "Daily digest", "weekly": "Weekly digest"}.get(every, "Digest")
    return f"{kind}: {title}, {period.label}"


def message_id(wall: str, period: str, sender: str) -> str:
    """The same for every send of one wall's period: a relay or a mail client that sees it twice can tell."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "wall.invalid"
    return f"<digest.{wall}.{_ID_PART.sub('-', period)}@{domain}>"


def build(*, sender: str, to: tuple[str, ...], wall: str, title: str, every: str, period: Period,
          contents: Contents, now: float) -> EmailMessage:
    """The e-mail: text and HTML alternatives, then the PDF (if any) as `<wall>-<period>.pdf`."""
    message = EmailMessage()
    message["Subject"] = subject(title, every, period)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(now, localtime=False)
    message["Message-ID"] = message_id(wall, period.key, sender)
    heading = subject(title, every, period)
    text = [heading, "", *(f"{label}: {value}" for label, value in contents.figures)]
    for name, items in contents.lists:
        text += ["", f"{name}:", *(f"  {item}" for item in items or ["none"])]
    if contents.pdf is not None:
        text += ["", "The full report is attached as a PDF."]
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(_env.get_template("mail/digest.html").render(
        heading=heading, figures=contents.figures, lists=contents.lists, attached=contents.pdf is not None),
        subtype="html")
    if contents.pdf is not None:
        days = str(period.first) if period.first == period.last else f"{period.first}-to-{period.last}"
        message.add_attachment(contents.pdf, maintype="application", subtype="pdf",
                               filename=f"{wall}-{days}.pdf")
    return message

