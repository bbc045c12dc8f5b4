"""`--format text`: ruff-like lines for people, `path:line:col: CODE message` (1-based, code-point columns).

After each file's findings comes one line with its tokens and cost (or why it was skipped), then one
summary line. Colour is used only when asked or when stdout is a terminal and `NO_COLOR` is unset.
"""

from __future__ import annotations

import os
import sys

from promptls.core.figures import format_cost, of_report
from promptls.core.findings import FileReport, Severity, TokenReport
from promptls.output.located import LocatedFile, locate
from promptls.output.summary import Summary, summarize

# A handful of SGR codes is all we need; a terminal library would cost import time for no gain.
_RESET = "\x1b[0m"
_BOLD = "1"
_DIM = "2"
_SEVERITY_STYLE = {Severity.ERROR: "1;31", Severity.WARNING: "1;33", Severity.INFO: "1;36", Severity.HINT: "2"}

# Messages and paths can quote the analysed file; control characters from it must not reach the terminal
# (escape sequences) nor start a new line (which a CI log could read as a command).
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x09}
_CONTROL |= {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def should_color(stream=None) -> bool:
    """Colour for a terminal unless NO_COLOR (https://no-color.org) is set to a non-empty value."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def clean(s: str) -> str:
    return s.translate(_CONTROL)


def _plural(n: int, word: str) -> str:
    if word == "info":
        return f"{n} info"
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}{_RESET}" if self.color else text


def token_line(tokens: TokenReport, model: str | None) -> str:
    """A prompt's figures: `~285 tokens (29 input + 256 output) · $0.000068/call · model · tokenizer (estimate)`,
    then what the count assumed (defaults or samples for inputs)."""
    parts = [of_report(tokens).long]
    if model:
        parts.append(model)
    # a provider's count is labelled `exact (provider count)` already
    parts.append(tokens.tokenizer if tokens.tokenizer.startswith("exact") else
                 f"{tokens.tokenizer} ({'exact' if tokens.exact else 'estimate'})")
    if tokens.rendered_with:
        parts.append(tokens.rendered_with)
    return " · ".join(parts)


def _file_lines(lf: LocatedFile, style: _Style) -> list[str]:
    path = clean(lf.path)
    lines = []
    for f in lf.findings:
        start = lf.range(f.span).start
        loc = style(f"{path}:{start.line + 1}:{start.character + 1}:", _BOLD)
        code = style(f.code, _SEVERITY_STYLE[f.severity])
        lines.append(f"{loc} {code} {clean(f.message)}")
    r = lf.report
    if r.skipped is not None:
        lines.append(style(f"{path}: skipped ({clean(r.skipped)})", _DIM))
    elif r.tokens is not None:
        lines.append(style(f"{path}: {clean(token_line(r.tokens, r.model))}", _DIM))
    elif r.kind == "dataset" and r.dataset is not None:
        lines.append(style(f"{path}: {clean(dataset_line(r.dataset))}", _DIM))
    elif r.kind == "code" and r.calls:
        models = f" ({clean(r.model)})" if r.model else ""
        lines.append(style(f"{path}: {_plural(len(r.calls), 'LLM call')}{models}", _DIM))
    return lines


def dataset_line(d) -> str:
    """One line about a fine-tuning dataset: examples, tokens per example, billed tokens and training cost."""
    parts = [f"{d.format} dataset", _plural(d.examples, "example")]
    if d.examples:
        parts.append(f"tokens/example min {d.tokens_min:,} · mean {d.tokens_mean:,.0f} · p95 {d.tokens_p95:,} · "
                     f"max {d.tokens_max:,}")
        parts.append(f"{d.billed_tokens:,} billed training tokens ({d.epochs} epochs)")
    if d.training_cost_usd is not None:
        parts.append(f"{format_cost(d.training_cost_usd)} to train {d.model}")
    return " · ".join(parts)


def summary_line(s: Summary) -> str:
    counts = ", ".join(_plural(s.by_severity[sev], sev.label) for sev in sorted(Severity, reverse=True))
    files = _plural(s.files, "file") + (f" ({s.files_skipped} skipped)" if s.files_skipped else "")
    head = f"Found {counts} in {files}" if s.findings else f"All checks passed: {files}"
    parts = [head]
    if s.by_kind.get("prompt") or not (s.calls or s.examples):
        parts.append(f"{s.input_tokens:,} input tokens")
    if s.cost_usd is not None:
        unpriced = f" ({s.files_unpriced} unpriced)" if s.files_unpriced else ""
        parts.append(f"{format_cost(s.cost_usd)} for one call of each prompt{unpriced}")
    if s.calls:
        parts.append(_plural(s.calls, "LLM call") + " in code")
    if s.examples:
        parts.append(f"{s.examples:,} dataset examples")
    if s.training_cost_usd is not None:
        parts.append(f"{format_cost(s.training_cost_usd)} to fine-tune")
    return " · ".join(parts)


def render_text(reports: list[tuple[FileReport, str]], *, root: str, color: bool | None = None) -> str:
    style = _Style(should_color() if color is None else color)
    lines: list[str] = []
    for lf in locate(reports, root):
        lines.extend(_file_lines(lf, style))
    s = summarize([r for r, _ in reports])
    sgr = _SEVERITY_STYLE[Severity.ERROR] if s.by_severity[Severity.ERROR] else _BOLD
    lines.append(style(summary_line(s), sgr))
    return "".join(line + "\n" for line in lines)
