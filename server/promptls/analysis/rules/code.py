"""Rules for LLM SDK call sites in source code: the SD family, plus the shared model (MD001-003), max-output
(TK003) and literal-secret (SC001) rules applied to what the code passes to the SDKs."""

from __future__ import annotations

import os
from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.analysis.fixes import edits
from promptls.analysis.fixes.edits import string_inner
from promptls.analysis.measure import SDK_PROVIDER, CallEstimate
from promptls.analysis.rules.models import model_findings
from promptls.core.findings import Finding, Fix, Related, TextEdit
from promptls.core.positions import Span
from promptls.documents.code.model import CallSite, ClientInit, CodeDocument, Location, Value
from promptls.documents.code.requests import lookup

# Highest accepted temperature per SDK (top_p is 0..1 everywhere). Ollama passes options to llama.cpp: no limit.
TEMPERATURE_MAX = {"anthropic": 1.0, "openai": 2.0, "gemini": 2.0, "litellm": 2.0}
KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY", "google": "GEMINI_API_KEY",
           "gemini": "GEMINI_API_KEY"}
# Whole messages: a removed module API is not "the legacy X API" of a call, so each entry says it its own way.
_LEGACY = {
    ("anthropic", "completions.create"): "`completions.create` is the legacy Text Completions API; use "
                                         "`messages.create` (Messages API)",
    ("openai", "completions.create"): "`completions.create` is the legacy Completions API; use "
                                      "`chat.completions.create` or `responses.create`",
    ("openai", "ChatCompletion.create"): "`openai.ChatCompletion` was removed in openai 1.0; create a client "
                                         "(`OpenAI()`) and call `client.chat.completions.create`",
    ("openai", "Completion.create"): "`openai.Completion` was removed in openai 1.0; use "
                                     "`client.chat.completions.create`",
}
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def check(doc: CodeDocument, ctx: Context) -> Iterator[Finding]:
    for est in ctx.measurement.calls:  # measured before the rules (`measure.py`)
        related = _chain(doc, est)
        for f in _call(doc, est, ctx):
            f.related.extend(related)
            yield f
    for client in doc.clients:
        yield from _timeout(doc, client, ctx)
    yield from _secrets(doc, ctx)


def _shown(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel.replace(os.sep, "/")


def _related(where: Location, message: str) -> Related:
    return Related(where.path, where.line, where.col, where.end_col, message)


def _chain(doc: CodeDocument, est: CallEstimate) -> list[Related]:
    """Where a call's client and values come from, when that is another file: what explains its findings."""
    site, out = est.site, []
    client = site.client
    if client is not None and client.location is not None and client.location.path != doc.path:
        where = client.location
        name = f"`{client.name}` " if client.name else ""
        out.append(_related(where, f"client {name}created in {_shown(where.path)}:{where.line + 1} as "
                                   f"`{client.callee}`"))
    for key, v in site.args.items():
        if v.defined_in is not None:
            out.append(_related(v.defined_in, f"`{key}` is `{v.name}`, defined in {_shown(v.defined_in.path)}:"
                                              f"{v.defined_in.line + 1}"))
    return out


def _call(doc: CodeDocument, est: CallEstimate, ctx: Context) -> Iterator[Finding]:
    site, req = est.site, est.request
    endpoint = site.client.endpoint if site.client is not None else None
    if req.model is not None and isinstance(req.model.value, str) and not req.model.partial:
        if endpoint == "azure":  # `model=` names a deployment; the model it serves is what `[deployments]` says
            if site.deployment_model:
                for f in model_findings(site.deployment_model, req.model.span, "azure", ctx, fixable=False):
                    f.message = f"Azure deployment `{req.model.value}` serves `{site.deployment_model}` " \
                                f"(`[deployments]`): {f.message}"
                    yield f
        elif endpoint != "self-hosted":  # a self-hosted server serves its own ids
            yield from model_findings(req.model.value, req.model.span, SDK_PROVIDER.get(site.sdk), ctx,
                                      edit_span=string_inner(doc, req.model),
                                      fixable=req.model.defined_in is None)
    legacy = _LEGACY.get((site.sdk, site.api))
    if legacy:
        yield ctx.finding("SD004", f"{legacy}.", site.callee_span, api=site.api)
    if site.sdk == "anthropic" and site.api in ("messages.create", "messages.stream") \
            and req.max_output is None and not site.has_spread:
        fix = _insert_arg(doc, site, "max_tokens", str(_default_max(est)))
        yield ctx.finding("SD001", "Anthropic Messages calls require `max_tokens`; this call fails with a 400 "
                          "error.", site.callee_span, fixes=(fix,) if fix else ())
    info = est.info
    mo = req.max_output
    if info is not None and mo is not None and isinstance(mo.value, int) and info.max_output \
            and mo.value > info.max_output:
        yield ctx.finding("TK003", f"`{req.max_output_name}` {mo.value:,} is above `{info.id}`'s output limit of "
                          f"{info.max_output:,} tokens.", mo.span)
    yield from _sampling(site, est, ctx)
    yield from _json_without_schema(site, ctx)
    yield from _deprecated_params(doc, site, est, ctx)
    yield from _long_prompts(est, ctx)


def _default_max(est: CallEstimate) -> int:
    limit = est.info.max_output if est.info is not None and est.info.max_output else 4096
    return min(1024, limit)


def _insert_arg(doc: CodeDocument, site: CallSite | ClientInit, name: str, value: str) -> Fix | None:
    sep = "=" if doc.language == "python" else ": "
    text = f"{site.insert_prefix}{name}{sep}{value}{getattr(site, 'insert_suffix', '')}"
    return Fix(f"Add `{name}{sep}{value}`", (TextEdit(Span(site.insert_at, site.insert_at), text),), preferred=True)


def _number(v: Value | None) -> float | None:
    if v is None or isinstance(v.value, bool) or not isinstance(v.value, int | float):
        return None
    return float(v.value)


def _sampling(site: CallSite, est: CallEstimate, ctx: Context) -> Iterator[Finding]:
    req = est.request
    t = _number(req.temperature)
    hi = TEMPERATURE_MAX.get(site.sdk)
    if t is not None and hi is not None and not 0 <= t <= hi:
        yield ctx.finding("SD002", f"temperature {t:g} is outside {site.sdk}'s range 0..{hi:g}; the API rejects "
                          "the call.", req.temperature.span)
    p = _number(req.top_p)
    if p is not None and site.sdk != "ollama" and not 0 <= p <= 1:
        yield ctx.finding("SD002", f"top_p {p:g} is outside the range 0..1; the API rejects the call.",
                          req.top_p.span)


def _json_without_schema(site: CallSite, ctx: Context) -> Iterator[Finding]:
    args = site.args
    hit: Value | None = None
    how = ""
    if site.sdk in ("openai", "litellm"):
        rf = args.get("response_format")
        t = rf.get("type") if rf is not None else None
        if t is not None and t.value == "json_object":
            hit, how = t, "`response_format` `json_object` (JSON mode)"
        fmt_type = lookup(args, "text.format.type")
        if fmt_type is not None and fmt_type.value == "json_object":
            hit, how = fmt_type, "`text.format` `json_object` (JSON mode)"
        if hit is not None:
            how += "; use `json_schema` with a schema (or `.parse` with a model class)"
    elif site.sdk == "gemini":
        cfg = args.get("config")
        mime = None
        for k in ("response_mime_type", "responseMimeType"):
            mime = mime or (cfg.get(k) if cfg is not None else None)
        has_schema = cfg is not None and any(cfg.get(k) is not None for k in (
            "response_schema", "responseSchema", "response_json_schema", "responseJsonSchema"))
        if mime is not None and mime.value == "application/json" and not has_schema and not cfg.partial:
            hit, how = mime, "`response_mime_type` JSON without `response_schema`"
    elif site.sdk == "ollama":
        f = args.get("format")
        if f is not None and f.value == "json":
            hit, how = f, "`format=\"json\"`; pass a JSON schema as `format` instead"
    elif site.sdk == "anthropic":
        for key in ("output_format", "output_config"):
            v = args.get(key)
            fmt = (v.get("format") or v) if v is not None and isinstance(v.value, dict) else None
            t = fmt.get("type") if fmt is not None and isinstance(fmt.value, dict) else None
            if t is not None and t.value in ("json", "json_schema") and fmt.get("schema") is None \
                    and not fmt.partial:
                hit, how = t, f"`{key}` JSON without a `schema`"
    if hit is not None:
        yield ctx.finding("SD005", f"JSON output requested without a schema: {how}.", hit.span)


def _deprecated_params(doc: CodeDocument, site: CallSite, est: CallEstimate, ctx: Context) -> Iterator[Finding]:
    if site.sdk not in ("openai", "litellm"):
        return
    for old, new in (("functions", "tools"), ("function_call", "tool_choice")):
        v = site.args.get(old)
        if v is not None:
            yield ctx.finding("SD007", f"`{old}` is deprecated; use `{new}`.", v.span)
    mt = site.args.get("max_tokens")
    model = (est.model or "").rpartition("/")[2]
    if mt is not None and site.api.startswith("chat.") and model.startswith(_REASONING_PREFIXES):
        key = edits.key_span(doc, mt, "max_tokens")
        fixes = (Fix("Rename to `max_completion_tokens`", (TextEdit(key, "max_completion_tokens"),),
                     preferred=True),) if key else ()
        yield ctx.finding("SD007", f"`{model}` rejects `max_tokens`; use `max_completion_tokens`.", mt.span,
                          fixes=fixes)


def _long_prompts(est: CallEstimate, ctx: Context) -> Iterator[Finding]:
    threshold = ctx.config.code_long_prompt_tokens
    for part, tokens in est.parts:
        if tokens < threshold or not part.static:
            continue
        kind = "exact" if est.exact else "estimated"
        cost = ""
        if est.info is not None and est.cost_usd is not None:
            cost = f"; the call costs about ${est.cost_usd:.4f} at `{est.info.id}` list prices"
            if not est.output_tokens:
                cost += " (input only)"
        yield ctx.finding("SD006", f"{part.role.capitalize()} prompt of {tokens:,} tokens ({kind}, {est.tokenizer}) "
                          f"written in code{cost}; a prompt file gets lint, counts and a preview.", part.value.span,
                          tokens=tokens, cost_usd=est.cost_usd)


def _timeout(doc: CodeDocument, client: ClientInit, ctx: Context) -> Iterator[Finding]:
    if client.has_spread:
        return
    if client.sdk == "gemini":
        opts = client.args.get("http_options") or client.args.get("httpOptions")
        if opts is not None and (not isinstance(opts.value, dict) or opts.partial or opts.get("timeout")):
            return
    elif client.sdk in ("anthropic", "openai", "ollama"):
        if "timeout" in client.args:
            return
        if client.sdk == "ollama" and doc.language != "python":
            return  # ollama-js has no timeout option
    else:
        return
    fix = edits.add_timeout(doc, client)
    yield ctx.finding("SD003", "Client created without a timeout (the SDK default is up to 10 minutes).",
                      client.span, fixes=(fix,) if fix else (), sdk=client.sdk)


def _secrets(doc: CodeDocument, ctx: Context) -> Iterator[Finding]:
    from promptls.core.secrets import find_secrets

    matches = find_secrets(doc.text)
    if not matches:
        return
    key_values = [(c, v) for c in doc.clients for k, v in c.args.items() if k in ("api_key", "apiKey")]
    for m in matches:
        fixes: tuple[Fix, ...] = ()
        for client, v in key_values:
            w = v.written_at
            if w.start <= m.start and m.end <= w.end:
                env = KEY_ENV.get(client.sdk) or KEY_ENV.get(m.kind, "API_KEY")
                fix = edits.key_to_env(doc, v, env)
                fixes = (fix,) if fix else ()
                break
        yield ctx.finding("SC001", f"Literal {m.kind} API key in source code; read it from an environment variable "
                          "and revoke this key.", Span(m.start, m.end), fixes=fixes)
