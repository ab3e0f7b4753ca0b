"""Mastodon status HTML to plain text: the markup is never passed on, only text and entity spans."""

from __future__ import annotations

from html.parser import HTMLParser

from wall.models import Entity

# Block elements end a line: remote servers send lists, headings, code blocks and quotes (Mastodon 4
# keeps them), and their text must not run together ("Check out:FooBar").
_BLOCKS = {"p": 2, "h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "ul": 1, "ol": 1, "li": 1,
           "pre": 1, "blockquote": 1}
_HIDDEN = {"invisible", "quote-inline"}  # the clipped part of a long URL; the "RE: <url>" quote fallback


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # depth inside hidden elements (see _HIDDEN)
        self.stack: list[tuple[str, bool]] = []  # per open span or p: its tag, and was it hidden
        self.lists: list[int] = []  # per open list: 0 for <ul>, else the next number of an <ol>
        self.length = 0  # code points so far
        self.link: tuple[int, str, str] | None = None  # open <a>: start, href, class
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        hidden = bool(_HIDDEN & set((dict(attrs).get("class") or "").split()))
        if tag in ("span", "p"):
            self.stack.append((tag, hidden))
            self.hidden += hidden
        if tag == "br":
            self._newline()
        elif tag in _BLOCKS:
            self._break(_BLOCKS[tag])
            if tag in ("ul", "ol"):
                self.lists.append(1 if tag == "ol" else 0)
            elif tag == "li" and not self.hidden:
                number = self.lists[-1] if self.lists else 0
                self._add(f"{number}. " if number else "• ")
                if number:
                    self.lists[-1] += 1
        elif tag == "a":
            a = dict(attrs)
            self.link = (self.length, a.get("href") or "", a.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "p") and self.stack and self.stack[-1][0] == tag:
            self.hidden -= self.stack.pop()[1]
        if tag in _BLOCKS and tag != "p":
            self._break(1)
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
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
            self._newline()

    def _newline(self) -> None:
        if not self.hidden:
            self._add("\n")

    def _break(self, lines: int) -> None:
        """End the text so far with at least `lines` newlines (nothing at the very start)."""
        if self.hidden or not self.parts:
            return
        tail = "".join(self.parts[-lines:])[-lines:]
        missing = lines - (len(tail) - len(tail.rstrip("\n")))
        if missing > 0:
            self._add("\n" * missing)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._add(data)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)


def html_to_text(html: str) -> str:
    """Drop `invisible` and `quote-inline` parts, keep `ellipsis` text, decode entities; <br>, paragraphs,
    list items, headings, code blocks and quotes end their lines."""
    return text_and_entities(html)[0]


def text_and_entities(html: str) -> tuple[str, tuple[Entity, ...]]:
    """Text, and the spans of its links, hashtags and mentions in code points (a link keeps its href).
    Not cleaned: the supervisor's sanitizer cleans it and moves the spans along."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts), tuple(parser.entities)
