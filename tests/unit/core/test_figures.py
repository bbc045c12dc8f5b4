"""The one way money and token counts are written (promptls.core.figures): a table of cases, and the property that a
non-zero cost is never written as zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptls.core.figures import CallFigures, format_cost, format_count, share_bar


@pytest.mark.parametrize(
    ("usd", "shown"),
    [
        (0.0, "$0"),
        (0.000003, "$0.0000030"),
        (0.0000675, "$0.000068"),
        (0.00006, "$0.000060"),
        (0.0001, "$0.00010"),
        (0.0012, "$0.0012"),
        (0.0099996, "$0.010"),
        (0.068, "$0.068"),
        (0.5, "$0.50"),
        (0.994, "$0.99"),
        (0.996, "$1.00"),
        (1, "$1.00"),
        (12.5, "$12.50"),
        (1234.5, "$1,234.50"),
        (3e-9, "<$0.00000001"),
    ],
)
def test_format_cost_table(usd: float, shown: str) -> None:
    assert format_cost(usd) == shown


@given(st.floats(min_value=1e-12, max_value=1e6, allow_nan=False))
def test_a_non_zero_cost_is_never_written_as_zero(usd: float) -> None:
    shown = format_cost(usd)
    digits = shown.lstrip("<$").replace(",", "")
    assert float(digits) > 0, shown


def test_call_figures_one_definition_of_a_calls_tokens() -> None:
    fig = CallFigures(29, 256, exact=False, cost_usd=0.0000675)
    assert fig.tokens == 285
    assert fig.short == "~285 tokens · $0.000068/call"
    assert fig.long == "~285 tokens (29 input + 256 output) · $0.000068/call"
    assert CallFigures(29, 0).long == "29 tokens (input only)"
    assert CallFigures(1200, 100, lower_bound=True).long == "1,300+ tokens (1,200+ input + 100 output)"
    assert format_count(1234, exact=False) == "~1,234"


def test_share_bar() -> None:
    assert share_bar(27, 100) == "███░░░░░░░ 27%"
    assert share_bar(1, 10_000) == "█░░░░░░░░░ 1%"  # a non-zero share is never drawn as nothing
    assert share_bar(0, 10) == "░░░░░░░░░░ 0%"
    assert share_bar(5, 0) == ""
