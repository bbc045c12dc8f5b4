"""Rule documentation rendered from the rule objects of `core/registry.py`: the `promptls rules` listing and its
JSON, one rule's page (`promptls rules CODE`, after `ruff rule CODE`), and the README's rule table."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from promptls.core.registry import RULES, FixSafety, Rule, lookup

# Fence languages of the example files, by suffix (a Prompty body is Jinja, a Dotprompt body Handlebars).
_FENCE = {".prompt": "handlebars", ".prompty": "jinja", ".py": "python", ".ts": "typescript", ".js": "javascript",
          ".jsonl": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_FIX_LINE = {FixSafety.NONE: "No fix.", FixSafety.SAFE: "Fix: safe.", FixSafety.UNSAFE: "Fix: unsafe."}


def render_rules_table(rules: list[Rule] | None = None) -> str:
    """The `promptls rules` listing: one line per rule (code, name, default severity, summary)."""
    rules = list(RULES.values()) if rules is None else rules
    return "\n".join(f"{r.code}  {r.name:<30} {r.severity.label:<8} {r.summary}" for r in rules)


def rule_json(r: Rule) -> dict[str, Any]:
    """One rule for `promptls rules --json`."""
    return {"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary,
            "rationale": r.rationale, "fix": r.fix.value, "tags": [t.value for t in r.tags]}


def rules_json(rules: list[Rule] | None = None) -> list[dict[str, Any]]:
    return [rule_json(r) for r in (list(RULES.values()) if rules is None else rules)]


def render_rule(code_or_name: str) -> str | None:
    """One rule's documentation in Markdown, by code or name; None for an unknown rule."""
    r = lookup(code_or_name)
    if r is None:
        return None
    head = [f"# {r.name} ({r.code})", "",
            " ".join([f"Default severity: {r.severity.label}.", _FIX_LINE[r.fix], *_tags_line(r)]), "",
            "## What it does", r.summary, "", "## Why is this bad?", r.rationale, ""]
    fix = ["", "## Fix safety", r.fix_doc] if r.fix is not FixSafety.NONE else []
    return "\n".join([*head, *_example(r), *fix]) + "\n"


def _tags_line(r: Rule) -> list[str]:
    return [f"Tags: {', '.join(t.value for t in r.tags)}."] if r.tags else []


def _fenced(text: str, file: str) -> list[str]:
    return [f"```{_FENCE.get(PurePosixPath(file).suffix, '')}", text.rstrip("\n"), "```"]


def _example(r: Rule) -> list[str]:
    if r.example is None:
        return ["## Why no example", r.no_example]
    ex = r.example
    out = ["## Example", f"`{ex.file}`:", *_fenced(ex.text, ex.file)]
    for name, text in ex.beside:
        out += ["", f"Beside it, `{name}`:", *_fenced(text, name)]
    if ex.config:
        out += ["", "With this `promptls.toml`:", *_fenced(ex.config, "promptls.toml")]
    return out


def _cell(text: str) -> str:
    # A literal `|` would end the cell, even inside backticks (GitHub Flavored Markdown).
    return text.replace("|", "\\|").replace("\n", " ")


def render_readme_table(rules: list[Rule] | None = None) -> str:
    """The README's rule table (Markdown), between its `<!-- rules:start -->` and `<!-- rules:end -->` markers."""
    rules = list(RULES.values()) if rules is None else rules
    lines = ["| Code | Name | Default severity | Summary |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r.code}` | `{r.name}` | {r.severity.label} | {_cell(r.summary)} |" for r in rules]
    return "\n".join(lines) + "\n"
