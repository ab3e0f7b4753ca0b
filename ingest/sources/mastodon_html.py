"""Mastodon status HTML to plain text: the markup is never passed on, only text and entity spans."""

from __future__ import annotations

from html.parser import HTMLParser

from wall.models import Entity


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # depth inside <span class="invisible">
        self.stack: list[bool] = []  # per open span: was it invisible
        self.paragraphs = 0
        self.length = 0  # code points so far
        self.link: tuple[int, str, str] | None = None  # open <a>: start, href, class
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._add("\n")
        elif tag == "p":
            if self.paragraphs:
                self._add("\n\n")
            self.paragraphs += 1
        elif tag == "a":
            a = dict(attrs)
            self.link = (self.length, a.get("href") or "", a.get("class") or "")
        elif tag == "span":
            invisible = "invisible" in (dict(attrs).get("class") or "").split()
            self.stack.append(invisible)
            self.hidden += invisible

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.stack:
            self.hidden -= self.stack.pop()
        elif tag == "a" and self.link is not None:
            start, href, cls = self.link
            self.link = None
            shown = "".join(self.parts)[start:]
            if not shown:
                return
            if "hashtag" in cls.split() or shown.startswith("#"):
                self.entities.append(Entity("hashtag", start, self.length, shown.lstrip("#")))
            elif "mention" in cls.split() or shown.startswith("@"):
                self.entities.append(Entity("mention", start, self.length, shown.lstrip("@")))
            elif href.startswith(("https://", "http://")):
                self.entities.append(Entity("link", start, self.length, href))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._add(data)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)


def html_to_text(html: str) -> str:
    """Drop `invisible` spans, keep `ellipsis` text, decode entities; <br> and paragraphs become newlines."""
    return text_and_entities(html)[0]


def text_and_entities(html: str) -> tuple[str, tuple[Entity, ...]]:
    """Text, and the spans of its links, hashtags and mentions in code points (a link keeps its href).
    Not cleaned: the supervisor's sanitizer cleans it and moves the spans along."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts), tuple(parser.entities)
