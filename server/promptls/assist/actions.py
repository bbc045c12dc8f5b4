"""LLM code actions and prompt runs, independent of LSP: which actions a place offers, the request each sends,
and how an answer becomes text to put in the file.

The language server turns `ActionPlan.mode` into an edit (replace, insert below), a new file or a shown
document; everything here is plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from promptls.assist.postfilter import strip_fences
from promptls.assist.prompts import BUILTIN_ACTIONS, PROMPT_ONLY, action_messages, fill_template
from promptls.assist.settings import AssistSettings

PROMPT_SUFFIXES = (".prompt", ".prompty")


@dataclass(frozen=True, slots=True)
class ActionChoice:
    id: str  # builtin id, or "user:<index>"
    title: str
    kind: str
    diagnostic: dict[str, Any] | None = None


@dataclass(slots=True)
class ActionPlan:
    title: str
    mode: str  # replace | insert_below | new_file | show
    messages: list[dict[str, str]]
    new_file_name: str | None = None


def is_prompt_file(path: str) -> bool:
    return path.endswith(PROMPT_SUFFIXES)


# LSP DiagnosticSeverity Error and Warning; a diagnostic without a severity is left to the client, so it counts.
_PROBLEM_SEVERITIES = (None, 1, 2)


def offered(path: str, has_selection: bool, diagnostics: list[dict[str, Any]], settings: AssistSettings,
            only: list[str] | None = None, *, usable: bool = True) -> list[ActionChoice]:
    """The LLM actions a place offers. "Fix with LLM" only for problems (errors and warnings: an information note
    has nothing to fix) and only with a usable provider (one per diagnostic would only fail, over and over); the
    selection actions stay, and without a provider they answer with how to configure one."""
    prompt = is_prompt_file(path)
    out: list[ActionChoice] = []
    problems = [d for d in diagnostics if d.get("severity") in _PROBLEM_SEVERITIES] if usable else []
    for d in problems[:3]:
        title = f"Fix with LLM: {_short(d.get('message', ''))}"
        out.append(ActionChoice("fix", title, "quickfix", d))
    for aid, (title, kind, _, _) in BUILTIN_ACTIONS.items():
        if aid == "fix":
            continue
        if aid in PROMPT_ONLY and not prompt:
            continue
        if aid in ("refactor", "docstring", "tests", "explain") and not has_selection:
            continue
        if prompt and aid in ("docstring", "tests"):
            continue
        out.append(ActionChoice(aid, title, kind))
    for i, ua in enumerate(settings.actions):
        out.append(ActionChoice(f"user:{i}", ua.title, "refactor"))
    if only:
        out = [c for c in out if any(c.kind == k or c.kind.startswith(k + ".") for k in only)]
    return out


def plan(action_id: str, *, path: str, language: str, selection: str, diagnostic: dict[str, Any] | None,
         settings: AssistSettings) -> ActionPlan:
    diag_text = _diag_text(diagnostic)
    name = PurePath(path).name
    if action_id.startswith("user:"):
        ua = settings.actions[int(action_id.split(":", 1)[1])]
        text = fill_template(ua.prompt, selection=selection, file=name, language=language, diagnostics=diag_text,
                             instruction=ua.instruction)
        messages = action_messages(text, selection, name, language)
        return ActionPlan(ua.title, ua.mode, messages, _new_name(path, "llm") if ua.mode == "new_file" else None)
    title, _, mode, template = BUILTIN_ACTIONS[action_id]
    instruction = fill_template(template, selection=selection, file=name, language=language,
                                diagnostics=diag_text, instruction="")
    new_name = None
    if action_id == "tests":
        new_name = _test_name(path)
    elif action_id == "samples":
        new_name = str(PurePath(path).with_suffix("")) + ".samples.json"
    return ActionPlan(title, mode, action_messages(instruction, selection, name, language), new_name)


def answer_text(raw: str, mode: str) -> str:
    """The part of a model answer to put in a file (fences stripped); shown answers stay as written."""
    if mode == "show":
        return raw.strip()
    return strip_fences(raw.strip()).strip("\n")


def _diag_text(d: dict[str, Any] | None) -> str:
    if not d:
        return "(none)"
    src = d.get("source") or "diagnostic"
    code = f" {d['code']}" if d.get("code") is not None else ""
    line = (d.get("range") or {}).get("start", {}).get("line")
    where = f" (line {line + 1})" if isinstance(line, int) else ""
    return f"{src}{code}{where}: {d.get('message', '')}"


def _short(msg: str, n: int = 60) -> str:
    msg = re.sub(r"\s+", " ", msg).strip()
    return msg if len(msg) <= n else msg[: n - 1] + "…"


def _test_name(path: str) -> str:
    p = PurePath(path)
    if p.suffix == ".py":
        return str(p.with_name(f"test_{p.stem}.py"))
    return str(p.with_name(f"{p.stem}.test{p.suffix}"))


def _new_name(path: str, tag: str) -> str:
    p = PurePath(path)
    return str(p.with_name(f"{p.stem}.{tag}{p.suffix or '.txt'}"))


def prompt_body_offsets(text: str) -> tuple[int, int]:
    """Start and end of the template body (after the frontmatter) of a prompt file."""
    from promptls.documents.prompt import frontmatter as fm
    return fm.split(text).body_start, len(text)
