"""Turn an untrusted original into a metadata-free, oriented WebP of a width the page asks for."""

from __future__ import annotations

import io
import warnings
from typing import Literal

from PIL import Image, ImageOps

from wall.media.fetch import MediaError

WIDTHS = (480, 960, 1920)
Image.MAX_IMAGE_PIXELS = 40_000_000  # a 40 MP original is already more than any screen needs
Kind = Literal["jpeg", "png", "gif", "webp"]


def sniff(data: bytes) -> Kind:
    """The image kind from its magic bytes; anything else (SVG, HTML, text) is refused."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise MediaError("type", "not a JPEG, PNG, GIF or WebP image")


def render(data: bytes, width: int) -> bytes:
    """One width of render_all(); blocking."""
    if width not in WIDTHS:
        raise MediaError("type", f"width {width} not one of {WIDTHS}")
    return _encode(_decode(data, width), width)


def render_all(data: bytes) -> dict[int, bytes]:
    """Decode once, then every width the page may ask for. Blocking: run it in an executor."""
    frame = _decode(data, max(WIDTHS))
    return {width: _encode(frame, width) for width in WIDTHS}


def _decode(data: bytes, width: int) -> Image.Image:
    """The first frame, upright, as plain RGB(A) pixels with no metadata attached.

    An animated GIF or WebP becomes its first frame, a still: cheaper to show on a Pi than an
    animation, and a card is on screen for seconds only.
    """
    sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format == "JPEG":
                    # libjpeg scales down while decoding (12 MP -> 3 MP is 4x less work); the side that
                    # becomes the width after orientation must stay at least `width`.
                    turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                    im.draft("RGB", (1, width) if turned else (width, 1))
                im.seek(0)
                im.load()
                frame = ImageOps.exif_transpose(im)
                frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaError("size", f"decompression bomb: {e}") from e
    except Exception as e:  # Pillow's plugins raise all sorts on hostile input
        raise MediaError("decode", f"cannot decode image: {e}") from e
    # A fresh image carries no info dict: no EXIF, XMP, ICC or comments reach the screen.
    clean = Image.new(frame.mode, frame.size)
    clean.paste(frame)
    return clean


def _encode(frame: Image.Image, width: int) -> bytes:
    if frame.width > width:
        height = max(1, round(frame.height * width / frame.width))
        frame = frame.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    frame.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
