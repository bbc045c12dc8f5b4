"""How money and token counts are written, everywhere: code lens, hover, inlay hint, the `promptls/status`
notification (which the VS Code and Neovim clients display as sent), finding messages and `check`.

One call's tokens are its input plus the output it reserves (`max_tokens` / `maxOutputTokens`): that sum is what
counts against the context window and what the cost is computed from, so it is the one token figure of a call.
It is written `~285 tokens (29 input + 256 output)`; with no output limit, `29 tokens (input only)`.

Money follows these rules (`format_cost`):
- zero is `$0`; a non-zero amount is never written as zero;
- from $1 (after rounding): two decimals with thousands separators, `$12.50`, `$1,234.00`;
- below $1: two significant digits, never fewer than two decimals: `$0.50`, `$0.068`, `$0.0012`, `$0.000068`,
  `$0.0000030`; a trailing zero is kept, it is a significant digit;
- below $0.00000001 (a millionth of a cent): `<$0.00000001`.

With `[cost] calls-per-month` set, every cost per call is followed by the month's: `$0.000068/call · $6.80/month`
(`CallFigures.cost_text`, `monthly_usd`), on lenses, hovers, the status and `check`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TINY_USD = 1e-8


def format_cost(usd: float) -> str:
    """US dollars for people; see the module docstring for the rules."""
    if usd < 0:
        return "-" + format_cost(-usd)
    if usd == 0:
        return "$0"
    if usd < TINY_USD:
        return "<$0.00000001"
    rounded = float(f"{usd:.1e}")  # two significant digits, so that 0.0099996 is written as 0.010
    if rounded >= 1 or usd >= 0.995:
        return f"${usd:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(rounded)))
    return f"${rounded:.{decimals}f}"


def format_count(n: int, exact: bool = True, *, lower_bound: bool = False) -> str:
    """A token count: `1,234`, `~1,234` when estimated, `1,234+` when only a lower bound is known."""
    return f"{'' if exact else '~'}{n:,}{'+' if lower_bound else ''}"


@dataclass(frozen=True, slots=True)
class CallFigures:
    """The figures of one LLM call, and their one written form."""

    input: int
    output: int  # the reserved output (the call's max output), 0 when none is set
    exact: bool = True
    cost_usd: float | None = None
    lower_bound: bool = False  # only part of the input is known (a prompt computed at run time)
    error_pct: int | None = None  # an estimate's measured error bound (bench/bench_estimates.py), if known
    calls_per_month: int | None = None  # `[cost] calls-per-month`: adds the monthly cost

    @property
    def tokens(self) -> int:
        """The call's tokens: input plus reserved output."""
        return self.input + self.output

    @property
    def tokens_text(self) -> str:
        """`~285 tokens`."""
        return f"{format_count(self.tokens, self.exact, lower_bound=self.lower_bound)} tokens"

    @property
    def split_text(self) -> str:
        """`29 input + 256 output`, or `input only` when no output limit is set."""
        if not self.output:
            return "input only"
        return f"{self.input:,}{'+' if self.lower_bound else ''} input + {self.output:,} output"

    @property
    def monthly_usd(self) -> float | None:
        """The cost of `calls_per_month` calls, or None when either is unknown."""
        return monthly_usd(self.cost_usd, self.calls_per_month)

    @property
    def cost_text(self) -> str | None:
        """`$0.000068/call` (`$0.000068/call · $6.80/month` with calls per month), or None when the model has no
        known price."""
        if self.cost_usd is None:
            return None
        monthly = self.monthly_usd
        return f"{format_cost(self.cost_usd)}/call" + ("" if monthly is None else f" · {format_cost(monthly)}/month")

    @property
    def short(self) -> str:
        """`~285 tokens · $0.000068/call`: status bars and statuslines."""
        return " · ".join(p for p in (self.tokens_text, self.cost_text) if p)

    @property
    def long(self) -> str:
        """`~285 tokens (29 input + 256 output) · $0.000068/call`: lenses, hovers and `check`; an estimate with a
        measured error bound says it: `~285 tokens (≈ ±12%; 29 input + 256 output)`."""
        bound = f"≈ ±{self.error_pct}%; " if self.error_pct is not None and not self.exact else ""
        head = f"{self.tokens_text} ({bound}{self.split_text})"
        return " · ".join(p for p in (head, self.cost_text) if p)


def share_bar(part: int, whole: int, width: int = 10) -> str:
    """A part's share of a whole as a text bar and a percentage: `███░░░░░░░ 27%` (any non-zero part shows at
    least one block and 1%, like money never shows a non-zero amount as zero)."""
    if whole <= 0:
        return ""
    frac = min(1.0, max(0.0, part / whole))
    blocks = max(1, round(frac * width)) if part > 0 else 0
    pct = max(1, round(frac * 100)) if part > 0 else 0
    return f"{'█' * blocks}{'░' * (width - blocks)} {pct}%"


_EIGHTHS = " ▏▎▍▌▋▊▉"


def scaled_bar(value: float, largest: float, width: int = 30, *, ascii_only: bool = False) -> str:
    """A value as a horizontal bar, `width` cells for `largest`: Unicode blocks in eighths of a cell (`████▍`), or
    `#` per cell with `ascii_only`. Any non-zero value shows at least the smallest mark, as money is never written
    as zero when it is not."""
    if value <= 0 or largest <= 0:
        return ""
    frac = min(1.0, value / largest)
    if ascii_only:
        return "#" * max(1, round(frac * width))
    eighths = max(1, round(frac * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def monthly_usd(cost_per_call: float | None, calls_per_month: int | None) -> float | None:
    """The month's cost of a call made `calls_per_month` times (None when either is unknown)."""
    return None if cost_per_call is None or calls_per_month is None else cost_per_call * calls_per_month


def of_report(report, calls_per_month: int | None = None) -> CallFigures:
    """The figures of a prompt's `TokenReport`."""
    return CallFigures(report.input, report.output_reserved, report.exact, report.cost_usd,
                       error_pct=getattr(report, "error_pct", None), calls_per_month=calls_per_month)


def of_estimate(est, calls_per_month: int | None = None) -> CallFigures:
    """The figures of a code call site's `CallEstimate`."""
    return CallFigures(est.input_tokens, est.output_tokens, est.exact, est.cost_usd, lower_bound=not est.complete,
                       calls_per_month=calls_per_month)
