"""Entry point of documents/: pick the dialect of a file (saying so when it was guessed) and parse it."""

from __future__ import annotations

import re
from pathlib import Path

from promptls.config import Config
from promptls.documents.prompt import dotprompt, plain, prompty
from promptls.documents.prompt import frontmatter as fmmod
from promptls.documents.prompt.model import ModelRef, PromptDocument

PROMPT_SUFFIXES = (".prompt", ".prompty")
_JINJA_HINT = re.compile(r"\{%-?\s*\w|\{#|\{\{[^}]*\|\s*\w+")
_HBS_HINT = re.compile(r"\{\{[#/^>!]")


def is_prompt_path(path: str, config: Config) -> bool:
    return path.endswith(PROMPT_SUFFIXES) or config.engine_for(path) is not None


def parse_document(path: str, text: str, config: Config) -> PromptDocument:
    name = Path(path).name
    if name.endswith(".prompty"):
        fm = fmmod.parse(text, fmmod.split(text, allow_leading_comments=False))
        doc = prompty.parse(path, text, fm)
    elif name.endswith(".prompt") and not name.endswith(".prompt.md"):
        doc = _parse_dot_prompt_file(path, text, config)
    else:
        engine = config.engine_for(path) or "jinja2"
        doc = plain.parse(path, text, engine, config)
    if doc.model is None and config.default_model:
        doc.model = ModelRef(config.default_model, None, source="config")
    if config.model_override:
        doc.model = ModelRef(config.model_override, None, source="cli")
    return doc


def _parse_dot_prompt_file(path: str, text: str, config: Config) -> PromptDocument:
    """A `.prompt` file is Dotprompt unless its content says otherwise; the guess is reported (FM010)."""
    fm = fmmod.split(text)
    if fm.present:
        fm = fmmod.parse(text, fm)
        data = fm.data
        if data and _looks_like_prompty(data):
            return prompty.parse(path, text, fm, dialect="prompty",
                                 note="frontmatter uses Prompty keys (model.api/configuration, sample, inputs): "
                                      "analysed as Prompty")
        return dotprompt.parse(path, text, fm)
    body = text
    if _JINJA_HINT.search(body) and not _HBS_HINT.search(body):
        return plain.parse(path, text, "jinja2", config,
                           note="no frontmatter and Jinja syntax: analysed as a plain Jinja2 template")
    note = None
    if "{{" in body:
        note = "no frontmatter: analysed as a Dotprompt template without declared inputs"
    return dotprompt.parse(path, text, fm, note=note)


def _looks_like_prompty(data: dict) -> bool:
    if any(k in data for k in ("input", "output", "config")):
        return False
    model = data.get("model")
    if isinstance(model, dict) and any(k in model for k in (*prompty.V1_MODEL, *prompty.V2_MODEL)):
        return True
    return "sample" in data or "inputs" in data
