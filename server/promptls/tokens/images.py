"""Image input tokens by each provider's published size formula, and image dimensions read from file headers.

Offline these are estimates (the providers resize server-side, and newer models change the rules); with online
counts on (`[tokens] online`), the providers' counting endpoints give the exact figure.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Final

# When a prompt names an image by URL, its size is unknown offline: this is assumed (and the report says so).
ASSUMED_SIZE: Final = (1024, 1024)


def openai_image_tokens(width: int, height: int, detail: str = "auto") -> int:
    """OpenAI vision (GPT-4o family), "Calculating costs" in https://platform.openai.com/docs/guides/images-vision:
    `low` detail costs 85 tokens whatever the size; `high` (and `auto`, counted as high here, the upper bound)
    first fits the image in 2048x2048, then scales its shortest side down to 768 px, and costs 170 tokens per
    512 px tile plus 85."""
    if detail == "low":
        return 85
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = w * s, h * s
    if min(w, h) > 768:
        s = 768 / min(w, h)
        w, h = w * s, h * s
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


# Anthropic resizes images whose long edge exceeds 1568 px or that would cost more than about 1,600 tokens.
_ANTHROPIC_LONG_EDGE = 1568
_ANTHROPIC_MAX_TOKENS = 1600


def anthropic_image_tokens(width: int, height: int) -> int:
    """Claude vision, "Evaluate image size" in https://docs.anthropic.com/en/docs/build-with-claude/vision:
    `tokens = (width px * height px) / 750`, after scaling down (aspect ratio kept) an image whose long edge is
    over 1568 px or that is over ~1,600 tokens."""
    w, h = float(width), float(height)
    if max(w, h) > _ANTHROPIC_LONG_EDGE:
        s = _ANTHROPIC_LONG_EDGE / max(w, h)
        w, h = w * s, h * s
    if w * h / 750 > _ANTHROPIC_MAX_TOKENS:
        s = math.sqrt(_ANTHROPIC_MAX_TOKENS * 750 / (w * h))
        w, h = w * s, h * s
    return max(1, math.ceil(w * h / 750 - 1e-6))  # the scaling above is float: 1600.0000001 is 1600


def gemini_image_tokens(width: int, height: int) -> int:
    """Gemini 2.x, "Multimodal tokens" in https://ai.google.dev/gemini-api/docs/tokens: an image with both
    dimensions <= 384 px counts 258 tokens; a larger one is cropped and scaled into 768x768 tiles of 258 tokens
    each."""
    if width <= 384 and height <= 384:
        return 258
    return 258 * math.ceil(width / 768) * math.ceil(height / 768)


def image_tokens(kind: str, width: int, height: int, detail: str = "auto") -> int:
    """Tokens of one image for a provider kind (`openai`, `anthropic`, `gemini`; others use OpenAI's rule)."""
    if kind == "anthropic":
        return anthropic_image_tokens(width, height)
    if kind == "gemini":
        return gemini_image_tokens(width, height)
    return openai_image_tokens(width, height, detail)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a PNG, GIF, JPEG or WebP file; None when not recognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            b = data[21:25]
            return 1 + (((b[1] & 0x3F) << 8) | b[0]), 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        return None
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


def data_url_size(url: str) -> tuple[int, int] | None:
    """The size of an image given as a `data:image/...;base64,` URL (only its head is decoded)."""
    if not url.startswith("data:") or ";base64," not in url[:100]:
        return None
    payload = url.split(",", 1)[1]
    head = payload[: 64 * 1024 // 3 * 4]  # enough for the header of any of the formats above
    try:
        return image_size(base64.b64decode(head + "=" * (-len(head) % 4), validate=False))
    except ValueError:
        return None
