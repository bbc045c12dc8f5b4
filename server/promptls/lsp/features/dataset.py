"""Editor features of fine-tuning datasets: one lens with the dataset's format, size, tokens per example and
training cost (from its first lines while the full pass runs). The dispatcher (`dispatch.py`) hands each request
here for an analysis of kind "dataset"; the text comes from `analysis/describe.py`."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from promptls.analysis import describe
from promptls.lsp.features.common import lens
from promptls.lsp.state import Analysis

LLM_COMPLETION = True  # nothing of its own to complete: the assist layer's completion items


def hover(ls: Any, a: Analysis, off: int) -> lsp.Hover | None:
    return None


def inlay_hints(ls: Any, a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]:
    return []


def code_lenses(ls: Any, a: Analysis) -> list[lsp.CodeLens]:
    d = a.report.dataset
    return [] if d is None else [lens(describe.dataset_lens(d, a.partial))]


def completion(ls: Any, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    return None


def code_actions(ls: Any, a: Analysis, uri: str, start: int, end: int,
                 wanted: list[Any] | None) -> list[lsp.CodeAction]:
    return []


def document_symbols(ls: Any, a: Analysis) -> list[lsp.DocumentSymbol]:
    return []


def definition(ls: Any, a: Analysis, params: lsp.DefinitionParams, off: int) -> list[lsp.Location] | None:
    return None
