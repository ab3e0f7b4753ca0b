"""The wall as a feed for signage players: JSON Feed 1.1 and RSS 2.0 of the approved posts, newest first.

Both are read from the hub's state (what a screen that connects now is shown), so a hidden, rejected or
retracted post is never in them. Images point at this server's signed /media route (absolute URLs, as
a player fetches them on its own); a private wall's feeds need a display key like its page
(wall/web/private.py), and the key is never written into the feed.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from wall.models import Post, encode
from wall.web.http import error
from wall.web.hub import Hub
from wall.web.keys import CONFIG, HUBS
from wall.web.media import MEDIA

Handler = Callable[[web.Request], Awaitable[web.Response]]
DEFAULT_ITEMS = 50
TITLE_LENGTH = 140  # an RSS title is what a ticker shows: the first line of the post, cut here
WIDTH = 960  # image width asked of the media proxy: a signage zone, not a whole 4K screen
ET.register_namespace("atom", "http://www.w3.org/2005/Atom")
ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
ET.register_namespace("media", "http://search.yahoo.com/mrss/")
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
MRSS = "{http://search.yahoo.com/mrss/}"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # XML 1.0 cannot carry these at all


def _x(text: str) -> str:
    return _NOT_XML.sub("", text)


def _posts(request: web.Request) -> tuple[Hub, list[Post]] | web.Response:
    hub = request.app[HUBS].get(request.match_info["wall"])
    if hub is None:
        return error(404, f"no wall named {request.match_info['wall']!r}")
    raw = request.query.get("limit", str(DEFAULT_ITEMS))
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        return error(400, "limit: expected a whole number from 1 to 200")
    return hub, hub.state.newest(int(raw))


def _absolute(request: web.Request, url: str | None, width: int | None = WIDTH) -> str | None:
    """A media or avatar URL a player can fetch: through this server's media proxy, absolute."""
    if not url:
        return None
    if url.startswith(("http://", "https://")):  # not proxied yet (a writer without a media secret)
        url = request.app[MEDIA].url(url)
    if not url.startswith("/"):
        return None
    size = f"?w={width}" if width and url.startswith("/media/") else ""
    return f"{request.url.origin()}{url}{size}"


def _link(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def _headers(request: web.Request) -> dict[str, str]:
    private = request.app[CONFIG].walls[request.match_info["wall"]].private
    return {"Cache-Control": "private, no-store" if private else "no-cache"}


def _images(request: web.Request, post: Post) -> list[str]:
    """The post's images as absolute URLs through the media proxy."""
    return [u for m in post.media if m.kind == "image" and (u := _absolute(request, m.url))]


def json_item(request: web.Request, post: Post) -> dict[str, Any]:
    """One post as a JSON Feed 1.1 item."""
    item: dict[str, Any] = {"id": post.id, "content_text": post.text,
                            "date_published": post.created_at.isoformat()}
    if url := _link(post.url):
        item["url"] = url
    author: dict[str, str] = {}
    if name := post.author.name or post.author.handle:
        author["name"] = name
    if avatar := _absolute(request, post.author.avatar_url, None):
        author["avatar"] = avatar
    if author:
        item["authors"] = [author]
    if images := _images(request, post):
        item["image"] = images[0]
        item["attachments"] = [{"url": u, "mime_type": "image/webp"} for u in images]
    tags = [e.value for e in post.entities if e.kind == "hashtag"]
    if tags:
        item["tags"] = tags
    if post.lang:
        item["language"] = post.lang
    return item


def json_body(request: web.Request, hub: Hub, posts: list[Post], base: str) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    return encode({"version": "https://jsonfeed.org/version/1.1", "title": hub.wall.title or hub.wall.name,
                   "home_page_url": base, "feed_url": f"{base}/feed.json",
                   "items": [json_item(request, p) for p in posts]})


def _rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)  # usegmt refuses any other offset


def _title(text: str) -> str:
    line = text.split("\n", 1)[0].strip()
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def rss_item(request: web.Request, channel: ET.Element, post: Post) -> None:
    """One post as an RSS 2.0 <item>: title (its first line, plain text), description (its text), images."""
    item = ET.SubElement(channel, "item")
    ET.SubElement(item, "title").text = _x(_title(post.text) or post.author.name or post.author.handle)
    if url := _link(post.url):
        ET.SubElement(item, "link").text = url
    # a description is HTML to every reader: the text escaped (a "<blink>" in it stays text), lines kept
    ET.SubElement(item, "description").text = _x(html.escape(post.text, quote=False).replace("\n", "<br>\n"))
    ET.SubElement(item, "guid", isPermaLink="false").text = post.id
    ET.SubElement(item, "pubDate").text = _rfc822(post.created_at)
    if name := post.author.name or post.author.handle:
        ET.SubElement(item, f"{DC}creator").text = _x(name)
    for i, image in enumerate(_images(request, post)):
        if i == 0:  # RSS allows one enclosure; Media RSS carries them all
            ET.SubElement(item, "enclosure", url=image, type="image/webp", length="0")
        ET.SubElement(item, f"{MRSS}content", url=image, type="image/webp", medium="image")


def rss_body(request: web.Request, hub: Hub, posts: list[Post], base: str) -> bytes:
    """RSS 2.0 with Media RSS images."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    title = _x(hub.wall.title or hub.wall.name)
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = base
    ET.SubElement(channel, "description").text = f"Approved posts of the wall {title}"
    ET.SubElement(channel, f"{ATOM}link", href=f"{base}/feed.xml", rel="self", type="application/rss+xml")
    if posts:
        ET.SubElement(channel, "lastBuildDate").text = _rfc822(max(p.created_at for p in posts))
    for post in posts:
        rss_item(request, channel, post)
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body


def _serve(render: Callable[[web.Request, Hub, list[Post], str], bytes], kind: str) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        found = _posts(request)
        if isinstance(found, web.Response):
            return found
        hub, posts = found
        body = render(request, hub, posts, f"{request.url.origin()}/w/{hub.wall.name}")
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=_headers(request))

    return handle


json_feed = _serve(json_body, "application/feed+json")  # GET /w/{wall}/feed.json
rss_feed = _serve(rss_body, "application/rss+xml")  # GET /w/{wall}/feed.xml
