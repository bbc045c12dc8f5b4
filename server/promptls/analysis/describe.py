"""What the editor shows about an analysis, as plain text and Markdown: hovers on models, variables, messages,
partials and calls, the titles of code lenses, inlay-hint labels, model completion details and the figures of
the `promptls/status` notification. Built from the analysis' data, the catalog and `core/figures.py` (the one
way money and tokens are written); `lsp/` only wraps these strings in LSP types."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from typing import Any

from promptls.analysis.context import Context
from promptls.config import Config
from promptls.core.figures import format_cost, format_count, of_estimate, of_report, share_bar
from promptls.core.findings import FileReport
from promptls.core.positions import LineIndex, Span

# A Markdown hard line break between a hover's fields: one field per line, without the blank line that a
# paragraph break shows in Neovim's hover window.
BREAK = "  \n"

# Findings that make every call fail: such a call is not priced, its lens and hover say why it fails.
FAILS = {"SD001": "`max_tokens` missing", "MD003": "model retired", "TK002": "context window exceeded",
         "TK003": "max output above the model's limit", "SD002": "sampling parameter out of range"}


def failure(findings, span: Span | None = None) -> str | None:
    """`✗ Fails: model retired (MD003)` when a finding (inside `span`, if given) makes every call fail."""
    for f in findings:
        if f.code in FAILS and (span is None or (span.start <= f.span.start and f.span.end <= span.end)):
            return f"✗ Fails: {FAILS[f.code]} ({f.code})"
    return None


# -- models ------------------------------------------------------------------------------------------------------
def model_md(config: Config, ref: str, provider: str | None) -> str:
    """A model's catalog facts: limits, prices, tokenizer and lifecycle (or why the id is unknown)."""
    res = Context(config).catalog.resolve(ref, provider)
    info = res.info
    if info is None:
        more = f" — did you mean `{res.suggestions[0]}`?" if res.suggestions else ""
        return f"**{ref}**: not in the catalog{more}"
    parts = [f"**{info.id}** ({info.provider})"]
    if info.context_window:
        parts.append(f"context window: {info.context_window:,} tokens")
    if info.max_output:
        parts.append(f"max output: {info.max_output:,} tokens")
    if info.input_per_mtok is not None:
        price = f"price: ${info.input_per_mtok:g} / ${info.output_per_mtok or 0:g} per million input/output tokens"
        if info.cached_input_per_mtok is not None:
            price += f" (cached input ${info.cached_input_per_mtok:g})"
        parts.append(price)
    parts.append(f"tokenizer: `{info.tokenizer}`")
    status = info.status(config.today or _dt.date.today())
    if status != "active":
        when = f" on {info.deprecation_date}" if info.deprecation_date else ""
        succ = f"; successor `{info.successor}`" if info.successor else ""
        parts.append(f"**{status}**{when}{succ}")
    return BREAK.join(parts)


def endpoint_md(config: Config, est) -> str:
    """The model facts of a call's id as its endpoint reads it (an Azure deployment, a self-hosted server)."""
    client = est.site.client
    endpoint = client.endpoint if client is not None else None
    if endpoint == "azure":
        mapped = est.site.deployment_model
        if mapped:
            return f"Azure deployment `{est.model}` serves `{mapped}` (`[deployments]`){BREAK}" \
                + model_md(config, mapped, "azure")
        return (f"**{est.model}**: an Azure OpenAI deployment name, not a model id. Map it to the model it serves "
                f"in promptls.toml to see that model's limits, prices and lifecycle:{BREAK}"
                f"`[deployments]` `\"{est.model}\" = \"gpt-4o\"`")
    if endpoint == "self-hosted":
        where = f" at `{client.base_url}`" if client.base_url else ""
        head = f"**{est.model}**: served by a self-hosted server{where}"
        return head + (f"; limits and tokenizer of `{est.info.id}`{BREAK}" + model_md(config, est.info.id, None)
                       if est.info is not None else " (not in the catalog: no limits known)")
    return model_md(config, est.model, None)


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """A catalog model offered for completion: its id and a one-line detail."""

    id: str
    detail: str


def model_choices(config: Config, prefix: str, limit: int = 200) -> list[ModelChoice]:
    """Catalog models matching what is typed after `model:` (the part after a provider's `/`)."""
    out = []
    for i in Context(config).catalog.search(prefix.rpartition("/")[2])[:limit]:
        detail = f"{i.provider} · {i.context_window or '?'} ctx"
        if i.input_per_mtok is not None:
            detail += f" · ${i.input_per_mtok:g}/${i.output_per_mtok or 0:g} per Mtok"
        out.append(ModelChoice(i.id, detail))
    return out


# -- prompts -----------------------------------------------------------------------------------------------------
def prompt_call_md(report: FileReport, calls_per_month: int | None = None) -> str:
    """The prompt's call figures, as the lens and the status bar write them (and the month's cost)."""
    t = report.tokens
    if t is None:
        return ""
    fails = failure(report.findings)
    note = f" ({t.rendered_with})" if t.rendered_with else ""
    return f"{BREAK}{fails}." if fails else f"{BREAK}This call: {of_report(t, calls_per_month).long}{note}."


def variable_md(doc, index: LineIndex, name: str) -> str:
    """A template variable: its declaration (kind, description, default, sample) and the lines that use it."""
    decl = doc.inputs.get(name)
    lines = [f"**{name}**"]
    if decl is None:
        lines.append("not declared as an input" if doc.inputs_declared else "(this file declares no inputs)")
    else:
        lines.append(f"kind: `{decl.kind or 'any'}`" + (" (required)" if decl.required else " (optional)"))
        if decl.description:
            lines.append(decl.description)
        if decl.has_default:
            lines.append(f"default: `{_short(decl.default)}`")
        if decl.has_sample:
            lines.append(f"sample: `{_short(decl.sample)}`")
    uses = sorted({index.pos(r.span.start).line + 1 for r in doc.template.refs if r.root == name})
    lines.append("used on line" + ("s " if len(uses) != 1 else " ") + ", ".join(map(str, uses)) if uses else
                 "never used in the template")
    return BREAK.join(lines)


def _short(v: Any) -> str:
    s = repr(v) if not isinstance(v, str) else v
    return s if len(s) <= 80 else s[:77] + "..."


def message_md(role: str, message_tokens: int, report: FileReport) -> str:
    """A message's tokens and its share of the prompt's input."""
    tokens = report.tokens
    kind = "exact" if tokens.exact else "estimated"
    share = share_bar(message_tokens, tokens.input)
    return (f"**{role}** message: {format_count(message_tokens, tokens.exact)} tokens "
            f"({kind}, {tokens.tokenizer}){BREAK}`{share}` of the input")


def partial_md(name: str, found: tuple[str, str] | None) -> str:
    where = f"`{found[0]}`" if found else "not found in the workspace"
    return f"partial **{name}**: {where}"


def message_hint(report: FileReport, i: int) -> str:
    tokens = report.tokens
    return f"{format_count(tokens.messages[i].tokens, tokens.exact)} tokens"


def message_detail(report: FileReport, i: int) -> str | None:
    """A message's tokens in the outline (document symbols), when they are known."""
    tokens = report.tokens
    return f"{tokens.messages[i].tokens:,} tokens" if tokens and i < len(tokens.messages) else None


def prompt_lens(report: FileReport, calls_per_month: int | None = None) -> str:
    """The prompt's lens: `~285 tokens (...) · $0.0012/call · gpt-4o`, or why every call fails."""
    title = failure(report.findings) or of_report(report.tokens, calls_per_month).long
    if report.model:
        title += f" · {report.model}"
    return title


def status(uri: str | None, report: FileReport | None, extra: dict) -> dict:
    """The `promptls/status` notification: the assist layer's fields, and the active prompt's figures both as
    numbers and as the text clients show as sent (`text`: the same strings as the lens and `check`)."""
    active = None
    if report is not None and report.tokens is not None:
        fig = of_report(report.tokens)
        fails = failure(report.findings)
        active = {"uri": uri, "tokens": fig.tokens, "costUsd": fig.cost_usd, "exact": fig.exact,
                  "model": report.model, "text": fails or fig.short, "tokensText": fig.tokens_text,
                  "costText": fig.cost_text, "detail": fails or fig.long}
    session = extra.get("sessionCostUsd")
    texts = {"sessionCostText": format_cost(session)} if isinstance(session, (int, float)) else {}
    return {**extra, **texts, "activeFile": active}


# -- calls in source code ----------------------------------------------------------------------------------------
MIN_HINT_TOKENS = 20  # shorter literal prompts get no inlay hint: the number would only be noise


def estimate_call_md(findings, est, calls_per_month: int | None = None) -> str:
    """A call's figures after its hover: what it costs, or why every call fails."""
    fails = failure(findings, est.site.span)
    if fails:
        return f"{BREAK}{fails}."
    if not est.input_tokens and not est.output_tokens:
        return ""
    scope = "" if est.complete else " (the parts known statically)"
    return f"{BREAK}This call: {of_estimate(est, calls_per_month).long}{scope}."


def part_md(est, part, tokens: int) -> str:
    """A literal prompt part of a call: its tokens."""
    kind = "exact" if est.exact else "estimated"
    more = "" if part.static else " (static parts only: the rest is computed at run time)"
    return f"**{part.role}** prompt: {tokens:,} tokens ({kind}, {est.tokenizer}){more}"


def part_hint(findings, est, part, tokens: int) -> str | None:
    """The inlay hint after a literal prompt part (`1,204 tokens · $0.0030`), None for short ones."""
    if tokens < MIN_HINT_TOKENS:
        return None
    cost = None if failure(findings, est.site.span) else of_estimate(est).cost_text
    label = f"{format_count(tokens, est.exact and part.static)} tokens"
    return label + f" · {cost}" if cost else label


def call_lens(findings, est, calls_per_month: int | None = None) -> str | None:
    """The lens above a call: model, then its figures or why it fails; None for a call with nothing known."""
    if not est.model and not est.input_tokens:
        return None
    parts = [est.model or "model not literal"]
    fails = failure(findings, est.site.span)
    if fails:
        parts.append(fails)
    elif est.input_tokens or est.output_tokens:
        parts.append(of_estimate(est, calls_per_month).long)
    return " · ".join(parts)


# -- datasets ----------------------------------------------------------------------------------------------------
def dataset_lens(d, partial: bool = False) -> str:
    """A dataset in one short line: `chat · 120 examples · ~140 tokens/example · $0.42 to train gpt-4o-mini
    (default model)`; the full figures are in `check` and its JSON report."""
    default_model = next(f.default for f in fields(Config) if f.name == "dataset_model")
    parts = [f"{d.format} · {d.examples:,} example{'s' if d.examples != 1 else ''}"]
    if d.examples:
        parts.append(f"{format_count(round(d.tokens_mean), d.exact)} tokens/example")
    if d.training_cost_usd is not None:
        default = " (default model)" if d.model == default_model else ""
        parts.append(f"{format_cost(d.training_cost_usd)} to train {d.model}{default}")
    return " · ".join(parts) + (" (first lines; full pass running)" if partial else "")
