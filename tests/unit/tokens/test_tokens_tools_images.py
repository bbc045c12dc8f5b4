"""Tools and images counted offline the providers' documented way (tokens/tools.py, tokens/images.py,
tokens/extras.py), and wired into the token report of prompt files and SDK call sites, labelled estimates."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest

from promptls.analysis.engine import analyze_text
from promptls.config import Config
from promptls.tokens import count_chat, counter_for_tokenizer
from promptls.tokens.images import (
    anthropic_image_tokens,
    data_url_size,
    gemini_image_tokens,
    image_size,
    openai_image_tokens,
)
from promptls.tokens.tools import anthropic_tool_tokens, openai_tool_tokens, tools_from_frontmatter

# The OpenAI Cookbook's example ("How to count tokens with tiktoken", section on function calling), whose
# totals the cookbook checked against the API's usage.prompt_tokens: 101 for gpt-4o(-mini), 105 for gpt-4/3.5.
WEATHER = [{"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "description": "The unit of temperature to return",
                 "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]}}}]
WEATHER_MESSAGES = [("system", "You are a helpful assistant that can answer to questions about the weather."),
                    ("user", "What's the weather like in San Francisco?")]


@pytest.mark.parametrize(("model", "encoding", "expected"), [
    ("gpt-4o", "o200k_base", 101), ("gpt-4o-mini", "o200k_base", 101),
    ("gpt-4", "cl100k_base", 105), ("gpt-3.5-turbo", "cl100k_base", 105)])
def test_openai_tools_match_the_cookbooks_api_checked_totals(model: str, encoding: str, expected: int) -> None:
    counter = counter_for_tokenizer(encoding)
    assert count_chat(WEATHER_MESSAGES, counter).total + openai_tool_tokens(WEATHER, counter, model) == expected


def test_anthropic_tool_system_prompt_per_model_and_choice() -> None:
    counter = counter_for_tokenizer("estimate:claude")
    body = anthropic_tool_tokens(WEATHER, counter, "claude-sonnet-4-5") - 346
    assert body > 20
    assert anthropic_tool_tokens(WEATHER, counter, "claude-sonnet-4-5", "any") == 313 + body
    assert anthropic_tool_tokens(WEATHER, counter, "claude-3-haiku-20240307") == 264 + body
    assert anthropic_tool_tokens(WEATHER, counter, "claude-3-haiku-20240307", "tool") == 340 + body
    assert anthropic_tool_tokens(WEATHER, counter, "claude-3-opus-20240229") == 530 + body
    assert anthropic_tool_tokens([], counter, "claude-sonnet-4-5") == 0


def test_image_formulas() -> None:
    # OpenAI's worked examples: 1024x1024 high = 765, 2048x4096 high = 1105, low = 85.
    assert openai_image_tokens(1024, 1024, "high") == 765
    assert openai_image_tokens(2048, 4096, "high") == 1105
    assert openai_image_tokens(4000, 3000, "low") == 85
    assert openai_image_tokens(500, 500, "high") == 255
    # Anthropic's table: 200x200 ~54, 1000x1000 ~1334, 1092x1092 ~1590; larger images are scaled down first.
    assert anthropic_image_tokens(200, 200) == 54
    assert anthropic_image_tokens(1000, 1000) == 1334
    assert anthropic_image_tokens(1092, 1092) == 1590
    assert anthropic_image_tokens(4000, 4000) <= 1600
    # Gemini: <= 384 px both ways is 258; otherwise 258 per 768 px tile.
    assert gemini_image_tokens(384, 384) == 258
    assert gemini_image_tokens(1024, 1024) == 258 * 4
    assert gemini_image_tokens(768, 400) == 258


def _png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


def _jpeg(w: int, h: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def test_image_sizes_from_headers() -> None:
    assert image_size(_png(640, 480)) == (640, 480)
    assert image_size(_jpeg(1200, 900)) == (1200, 900)
    assert image_size(b"GIF89a" + struct.pack("<HH", 32, 16) + b"\x00" * 8) == (32, 16)
    vp8x = b"RIFF" + b"\x00" * 4 + b"WEBPVP8X" + b"\x00" * 8 + (999).to_bytes(3, "little") + (499).to_bytes(3, "little")
    assert image_size(vp8x) == (1000, 500)
    assert image_size(b"not an image") is None
    url = "data:image/png;base64," + base64.b64encode(_png(300, 200) + b"\x00" * 5000).decode()
    assert data_url_size(url) == (300, 200)
    assert data_url_size("https://example.com/cat.png") is None


def test_tools_from_frontmatter() -> None:
    defs, names = tools_from_frontmatter({"tools": ["lookup"], "toolDefs": [
        {"name": "weather", "description": "Weather.", "inputSchema": {"type": "object", "properties": {}}}]})
    assert names == ["lookup"] and defs[0]["name"] == "weather" and defs[0]["parameters"]["type"] == "object"
    defs, names = tools_from_frontmatter({"model": {"parameters": {"tools": WEATHER}}})
    assert names == [] and defs[0]["name"] == "get_current_weather"
    assert "unit" in defs[0]["parameters"]["properties"]


DOTPROMPT = """---
model: openai/gpt-4o
toolDefs:
  - name: get_current_weather
    description: Get the current weather in a given location
    inputSchema:
      type: object
      properties:
        location: {type: string, description: "The city and state, e.g. San Francisco, CA"}
---
{{role "user"}}
What's in this picture? {{media url="IMAGE"}}
"""


def test_prompt_report_counts_tools_and_media_as_an_estimate() -> None:
    url = "data:image/png;base64," + base64.b64encode(_png(1024, 1024)).decode()
    plain = analyze_text("p.prompt", DOTPROMPT.replace('{{media url="IMAGE"}}', "").replace(
        DOTPROMPT[DOTPROMPT.index("toolDefs"):DOTPROMPT.index("---\n{{")], ""), Config()).tokens
    with_both = analyze_text("p.prompt", DOTPROMPT.replace("IMAGE", url), Config()).tokens
    assert plain is not None and with_both is not None
    assert plain.exact and plain.tokenizer == "o200k_base"
    assert not with_both.exact  # offline tools and images follow the providers' formulas: an estimate
    counter = counter_for_tokenizer("o200k_base")
    tools = openai_tool_tokens([{"name": "get_current_weather",
                                 "description": "Get the current weather in a given location",
                                 "parameters": {"type": "object", "properties": {"location": {
                                     "type": "string", "description": "The city and state, e.g. San Francisco, CA"}}}}],
                               counter, "gpt-4o")
    # the data URL itself is not counted as text: only the image formula (765) and the tools are added
    assert with_both.input - plain.input == tools + 765
    assert "1 tool definition" in with_both.rendered_with and "1 image ≈ 765 tokens" in with_both.rendered_with


def test_unknown_image_size_is_assumed_and_said() -> None:
    report = analyze_text("p.prompt", DOTPROMPT.replace("IMAGE", "https://example.com/x.png"), Config()).tokens
    assert report is not None and "unknown size counted as 1024x1024" in report.rendered_with


CODE = '''
from anthropic import Anthropic

client = Anthropic(timeout=30)
TOOLS = [{"name": "get_weather", "description": "Weather for a city.",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]

def ask():
    return client.messages.create(
        model="claude-sonnet-4-5", max_tokens=100, tools=TOOLS, tool_choice={"type": "any"},
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "DATA"}},
            {"type": "text", "text": "What is in this image?"}]}])
'''


def test_code_call_counts_literal_tools_and_image_parts(tmp_path: Path) -> None:
    data = base64.b64encode(_png(1000, 1000)).decode()
    with_media = analyze_text("a.py", CODE.replace("DATA", data), Config()).calls
    without = analyze_text("a.py", CODE.replace("tools=TOOLS, tool_choice={\"type\": \"any\"},", "").replace(
        '{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "DATA"}},', ""),
        Config()).calls
    assert len(with_media) == 1 and len(without) == 1
    counter = counter_for_tokenizer("estimate:claude")
    tools = anthropic_tool_tokens([{"name": "get_weather", "description": "Weather for a city.",
                                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
                                  counter, "claude-sonnet-4-5", "any")
    assert with_media[0].input_tokens - without[0].input_tokens == tools + 1334
    assert not with_media[0].exact
    assert any("image" in n for n in with_media[0].notes) and any("tool" in n for n in with_media[0].notes)
