"""Signed proxy URLs, so /media is not an open proxy for arbitrary URLs.

The page gets `/media/{sig}/{key}` and appends `?w=480|960|1920`: the signature covers the key (the
original URL) only, so the page can pick the width that fits its card without asking the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import msgspec

from wall.models import Author, Media, Post

MEDIA_SECRET = "media"  # the name of the shared secret when [media] secret_env is not set


def _sig(secret: str, key: str) -> str:
    mac = hmac.new(secret.encode(), key.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def encode_key(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()


def decode_key(key: str) -> str:
    try:
        return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"bad media key {key[:40]!r}") from e


def media_url(secret: str, original_url: str) -> str:
    """The proxy path for original_url; the page appends ?w=<width>."""
    key = encode_key(original_url)
    return f"/media/{_sig(secret, key)}/{key}"


def verify(secret: str, sig: str, key: str) -> bool:
    """Whether sig signs key; False for anything else (a signature or key is never other than ASCII)."""
    if not (sig.isascii() and key.isascii()):
        return False
    return hmac.compare_digest(_sig(secret, key), sig)


def _proxy(secret: str, url: str | None) -> str | None:
    # Relative URLs (the bundled demo's /demo/media/...) are same-origin already.
    if url is None or not url.startswith(("http://", "https://")):
        return url
    return media_url(secret, url)


def proxied(post: Post, secret: str) -> Post:
    """The post with its media and avatar URLs pointing at this wall's /media route."""
    media = tuple(
        msgspec.structs.replace(m, url=_proxy(secret, m.url) or m.url)
        for m in post.media
        if isinstance(m, Media)
    )
    author: Author = msgspec.structs.replace(post.author, avatar_url=_proxy(secret, post.author.avatar_url))
    return msgspec.structs.replace(post, media=media, author=author)


def originals(post: Post) -> Post:
    """The post with its /media URLs turned back into the originals they sign (for prefetching)."""

    def back(url: str | None) -> str | None:
        if url is None or not url.startswith("/media/"):
            return url
        try:
            return decode_key(url.split("/")[3].partition("?")[0])
        except (IndexError, ValueError):
            return url

    media = tuple(msgspec.structs.replace(m, url=back(m.url) or m.url) for m in post.media)
    author = msgspec.structs.replace(post.author, avatar_url=back(post.author.avatar_url))
    return msgspec.structs.replace(post, media=media, author=author)
