"""Which diagnostics get a "Fix with LLM" action: problems only (error, warning, or no severity given), and only
when a provider is usable (issue 16)."""

from __future__ import annotations

from promptls.assist.actions import offered
from promptls.assist.settings import AssistSettings

DIAGS = [{"message": "About $0.000068 per call", "severity": 3}, {"message": "a hint", "severity": 4},
         {"message": "undefined variable", "severity": 2}, {"message": "E226 spacing"},
         {"message": "bad", "severity": 1}]


def fixes(usable: bool) -> list[str]:
    return [c.title for c in offered("a.prompt", False, DIAGS, AssistSettings(), usable=usable) if c.id == "fix"]


def test_fix_with_llm_only_for_problems() -> None:
    assert fixes(True) == ["Fix with LLM: undefined variable", "Fix with LLM: E226 spacing", "Fix with LLM: bad"]


def test_no_fix_with_llm_without_a_usable_provider() -> None:
    assert fixes(False) == []
    assert offered("a.prompt", False, DIAGS, AssistSettings(), usable=False)  # other actions explain the setup
