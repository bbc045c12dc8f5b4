"""Tool definitions and images an SDK call states literally (`tools=[...]`, image content parts), for the call's
token estimate (tokens/extras.py counts them the providers' documented way)."""

from __future__ import annotations

from typing import Any

from promptls.documents.code.model import UNKNOWN, CallSite, Value


def _plain_known(v: Any) -> bool:
    if v is UNKNOWN:
        return False
    if isinstance(v, dict):
        return all(_plain_known(x) for x in v.values())
    if isinstance(v, list):
        return all(_plain_known(x) for x in v)
    return True


def call_tools(site: CallSite) -> tuple[list[dict[str, Any]], str | None]:
    """The literal tool definitions of a call (those fully known), and a literal `tool_choice` type."""
    tools: list[dict[str, Any]] = []
    v = site.args.get("tools")
    if v is not None and isinstance(v.value, list):
        for item in v.value:
            plain = item.plain()
            if isinstance(plain, dict) and _plain_known(plain):
                tools.extend(_gemini_declarations(plain))
    choice = site.args.get("tool_choice")
    plain_choice = choice.plain() if choice is not None else None
    kind = plain_choice.get("type") if isinstance(plain_choice, dict) else plain_choice
    return tools, kind if isinstance(kind, str) else None


def _gemini_declarations(tool: dict[str, Any]) -> list[dict[str, Any]]:
    """A Gemini `{"function_declarations": [...]}` tool holds several functions; other SDKs give one per item."""
    decls = tool.get("function_declarations", tool.get("functionDeclarations"))
    if isinstance(decls, list):
        return [d for d in decls if isinstance(d, dict)]
    return [tool]


def call_images(site: CallSite) -> list[tuple[str | None, str]]:
    """Every image content part written in the call's arguments, as (data URL or None, detail)."""
    found: list[tuple[str | None, str]] = []

    def walk(v: Value) -> None:
        val = v.value
        if isinstance(val, list):
            for x in val:
                walk(x)
            return
        if not isinstance(val, dict):
            return
        kind = val["type"].value if "type" in val and isinstance(val["type"].value, str) else None
        if kind in ("image_url", "input_image"):  # OpenAI Chat Completions / Responses
            url = v.get("image_url")
            detail = v.get("detail")
            if url is not None and isinstance(url.value, dict):
                detail = url.get("detail") or detail
                url = url.get("url")
            found.append((url.value if url is not None and isinstance(url.value, str) else None,
                          detail.value if detail is not None and isinstance(detail.value, str) else "auto"))
            return
        if kind == "image":  # Anthropic: {"type": "image", "source": {"type": "base64", "media_type", "data"}}
            src = v.get("source")
            data = src.get("data") if src is not None else None
            mtype = src.get("media_type") if src is not None else None
            url = None
            if data is not None and isinstance(data.value, str) and mtype is not None and isinstance(mtype.value, str):
                url = f"data:{mtype.value};base64,{data.value}"
            found.append((url, "auto"))
            return
        for key in ("inline_data", "inlineData", "file_data", "fileData"):  # Gemini parts
            if key in val:
                blob = v.get(key)
                data = blob.get("data") if blob is not None else None
                mtype = (blob.get("mime_type") or blob.get("mimeType")) if blob is not None else None
                url = None
                if data is not None and isinstance(data.value, str) and mtype is not None \
                        and isinstance(mtype.value, str) and mtype.value.startswith("image/"):
                    url = f"data:{mtype.value};base64,{data.value}"
                found.append((url, "auto"))
                return
        for x in val.values():
            walk(x)

    for name in ("messages", "input", "contents", "system"):
        if (v := site.args.get(name)) is not None:
            walk(v)
    return found
