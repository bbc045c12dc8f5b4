"""FM rules: the dialect guess (FM010); a frontmatter that cannot be read (FM002, FM001, FM004); the Dotprompt and
Prompty schemas, key by key (FM003 to FM006); JSON output without schema (FM009); Prompty v1/v2 key mixing (FM007,
FM008), with the migration to v2 as its fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import yaml

from promptls.analysis.context import Context
from promptls.core.findings import Finding, Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.prompt import dotprompt, prompty
from promptls.documents.prompt.frontmatter import FMNode
from promptls.documents.prompt.model import PromptDocument

NUM = (int, float)
# key -> (types, extra) where extra is an enum list, a (lo, hi) range, or a nested schema dict
Schema = dict[str, tuple[tuple[type, ...], Any]]

_SAMPLING = {
    "temperature": (NUM, (0, 2)), "topP": (NUM, (0, 1)), "top_p": (NUM, (0, 1)), "topK": ((int,), (0, None)),
    "maxOutputTokens": ((int,), (1, None)), "max_tokens": ((int,), (1, None)),
    "max_completion_tokens": ((int,), (1, None)), "frequency_penalty": (NUM, (-2, 2)),
    "presence_penalty": (NUM, (-2, 2)), "stopSequences": ((list,), None), "stop": ((list, str), None),
    "seed": ((int,), None),
}
DOTPROMPT: Schema = {
    "name": ((str,), None), "variant": ((str,), None), "version": ((str, int, float), None),
    "description": ((str,), None), "model": ((str,), None), "tools": ((list,), None),
    "toolDefs": ((list,), None), "config": ((dict,), {"*open*": True, **_SAMPLING}),
    "input": ((dict,), {"schema": ((dict, str), None), "default": ((dict,), None)}),
    "output": ((dict,), {"format": ((str,), ["json", "text", "media", "array", "enum", "jsonl"]),
                         "schema": ((dict, str, list), None), "jsonSchema": ((dict,), None)}),
    "raw": ((dict,), None), "ext": ((dict,), None), "metadata": ((dict,), None), "maxTurns": ((int,), (1, None)),
    "returnToolRequests": ((bool,), None), "defaultInput": ((dict,), None),
}
PROMPTY_V2: Schema = {
    "kind": ((str,), None), "id": ((str,), None), "version": ((str, int, float), None), "name": ((str,), None),
    "displayName": ((str,), None), "description": ((str,), None), "metadata": ((dict,), None),
    "model": ((str, dict), {"id": ((str,), None), "provider": ((str,), None),
                            "apiType": ((str,), ["chat", "completion", "responses", "embedding", "image", "agent"]),
                            "connection": ((dict, str), None),
                            "options": ((dict,), {"*open*": True, **_SAMPLING}),
                            # v1 keys, reported by FM007 rather than as unknown
                            "api": ((str,), None), "configuration": ((dict, str), None),
                            "parameters": ((dict,), None), "response": ((str, dict), None)}),
    "inputs": ((list, dict, str), None), "inputSchema": ((dict, list, str), None),
    "outputs": ((list, dict, str), None), "outputSchema": ((dict, list, str), None), "tools": ((list,), None),
    "template": ((str, dict), {"format": ((str, dict), None), "parser": ((str, dict), None),
                               "type": ((str,), None)}),
    "instructions": ((str,), None), "additionalInstructions": ((str,), None),
    "sample": ((dict, str), None), "authors": ((list,), None), "tags": ((list,), None), "base": ((str,), None),
}
PROMPTY_V1: Schema = {**PROMPTY_V2, "model": ((str, dict), {
    "api": ((str,), ["chat", "completion"]), "configuration": ((dict, str), {"*open*": True,
        "type": ((str,), ["azure_openai", "azure", "openai", "serverless", "azure_serverless"])}),
    "parameters": ((dict,), {"*open*": True, **_SAMPLING}), "response": ((str, dict), None),
    "id": ((str,), None), "provider": ((str,), None), "apiType": ((str,), None),
    "connection": ((dict, str), None), "options": ((dict,), None)})}

V1_IN_V2 = {("model", "api"): "model.apiType", ("model", "configuration"): "model.connection (and model.id)",
            ("model", "parameters"): "model.options", ("sample",): "inputs[].default",
            ("authors",): "metadata.authors", ("model", "response"): "outputs"}
V2_IN_V1 = {("model", "id"): "model.configuration.model", ("model", "provider"): "model.configuration.type",
            ("model", "apiType"): "model.api", ("model", "connection"): "model.configuration",
            ("model", "options"): "model.parameters", ("metadata",): "top-level keys (authors, tags)"}


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    yield from dialect_assumed(doc, ctx)
    unusable = unparsed(doc, ctx)
    if unusable is not None:
        yield unusable
        return
    root = doc.frontmatter.root
    if root is None:
        return
    if doc.dialect == "dotprompt":
        yield from _schema(ctx, root, DOTPROMPT, "", dotprompt_ext=True)
        yield from json_output_without_schema(ctx, root)
    elif doc.dialect == "prompty":
        yield from _schema(ctx, root, PROMPTY_V1 if doc.version == "v1" else PROMPTY_V2, "")
        fix = _migration_fix(doc) if doc.version == "v2" else None
        yield from prompty_version_keys(doc, ctx, root, fix)
        yield from prompty_v1_input_types(doc, ctx, root, fix)


def dialect_assumed(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """FM010: which dialect a file without a telling frontmatter was read as."""
    if doc.dialect_note:
        yield ctx.finding("FM010", f"Dialect: {doc.dialect_note}.", Span(0, 0))


def unparsed(doc: PromptDocument, ctx: Context) -> Finding | None:
    """Why the frontmatter cannot be checked key by key: never closed (FM002), not YAML (FM001), or YAML that is
    no mapping (FM004). None when it can be (or there is none)."""
    fm = doc.frontmatter
    if fm.present and fm.close_span is None:
        return ctx.finding("FM002", "Frontmatter opened with `---` is never closed with `---`: the whole file, "
                           "settings included, is rendered as the prompt and reaches the model.",
                           fm.open_span or Span(0, 3))
    if fm.error is not None:
        msg, span = fm.error
        return ctx.finding("FM001", msg, span)
    if fm.root is not None and not fm.root.is_map:
        return ctx.finding("FM004", "Frontmatter must be a YAML mapping of keys to values.", fm.root.span)
    return None


# -- the format's schema: unknown keys (FM003), types (FM004), allowed values (FM005), ranges (FM006) -----------
def _schema(ctx: Context, node: FMNode, schema: Schema, prefix: str, dotprompt_ext: bool = False
            ) -> Iterator[Finding]:
    for key, child in (node.children or {}).items():  # type: ignore[union-attr]
        where = f"{prefix}{key}"
        spec = schema.get(key)
        if spec is None:
            yield from unknown_key(ctx, key, where, child, schema, dotprompt_ext)
        else:
            yield from _value(ctx, where, child, spec)


def unknown_key(ctx: Context, key: str, where: str, child: FMNode, schema: Schema, dotprompt_ext: bool
                ) -> Iterator[Finding]:
    """FM003, with the nearest known key as a fix when one is close."""
    if dotprompt_ext and "." in key:
        return
    open_ = schema.get("*open*") is True
    known = [k for k in schema if k != "*open*"]
    # open maps (model config) accept any key, but a near-miss of a known one is still a typo
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.85 if open_ else 0.7)
    if open_ and not close:
        return
    ks = child.key_span or child.span
    fixes = ()
    msg = f"Unknown key `{where}`."
    if close:
        msg = f"Unknown key `{where}`; did you mean `{close[0]}`?"
        fixes = (Fix(f"Rename to `{close[0]}`", (TextEdit(ks, close[0]),), preferred=True),)
    elif dotprompt_ext:
        msg += " Put custom data under `metadata` or use a namespaced key (`myapp.key`)."
    yield ctx.finding("FM003", msg, ks, fixes=fixes, key=where)


def _value(ctx: Context, where: str, child: FMNode, spec: tuple[tuple[type, ...], Any]) -> Iterator[Finding]:
    """A known key's value: its type (FM004), then what its spec adds: allowed values, a range, nested keys."""
    types, extra = spec
    value = child.value
    if isinstance(value, str) and "${" in value:
        return  # Prompty reference, resolved at load time
    if not _type_ok(value, types):
        yield ctx.finding("FM004", f"`{where}` should be {_type_names(types)}, not {_type_name(value)}.",
                          child.span, key=where)
    elif isinstance(extra, list):
        yield from bad_enum(ctx, where, child, extra)
    elif isinstance(extra, tuple):
        yield from out_of_range(ctx, where, child, extra)
    elif isinstance(extra, dict) and child.is_map:
        yield from _schema(ctx, child, extra, where + ".")


def bad_enum(ctx: Context, where: str, child: FMNode, allowed: list[str]) -> Iterator[Finding]:
    """FM005, with the nearest allowed value as a fix when one is close."""
    value = child.value
    if not isinstance(value, str) or value in allowed:
        return
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    fixes = (Fix(f"Replace with `{close[0]}`", (TextEdit(child.span, close[0]),), preferred=True),) if close else ()
    yield ctx.finding("FM005", f"`{where}` is {value!r}; expected one of: {', '.join(allowed)}.",
                      child.span, fixes=fixes, key=where)


def out_of_range(ctx: Context, where: str, child: FMNode, bounds: tuple[float | None, float | None]
                 ) -> Iterator[Finding]:
    """FM006: a number outside the range providers accept."""
    value = child.value
    if not isinstance(value, NUM) or isinstance(value, bool):
        return
    lo, hi = bounds
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        yield ctx.finding("FM006", f"`{where}` is {value}; providers accept {rng}.", child.span, key=where)


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if value is None:
        return False
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "empty"}.get(type(value), type(value).__name__)


def _type_names(types: tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number"}
    return " or ".join(dict.fromkeys(names[t] for t in types if t in names))


def json_output_without_schema(ctx: Context, root: FMNode) -> Iterator[Finding]:
    """FM009: Dotprompt `output.format: json` with neither `output.schema` nor `output.jsonSchema`."""
    out = root.get("output")
    if out is None or not out.is_map:
        return
    fmt = out.get("format")
    if fmt is not None and fmt.value == "json" and out.get("schema") is None and out.get("jsonSchema") is None:
        yield ctx.finding("FM009", "`output.format: json` without `output.schema`: the model will choose the "
                          "JSON shape.", fmt.span)


# -- Prompty versions: v1 keys in a v2 file (FM007), v2 keys in a v1 file (FM008) --------------------------------
def prompty_version_keys(doc: PromptDocument, ctx: Context, root: FMNode, fix: Fix | None) -> Iterator[Finding]:
    """A key of the other Prompty version, with the key this version uses instead."""
    table, code, other = (V1_IN_V2, "FM007", "v2") if doc.version == "v2" else (V2_IN_V1, "FM008", "v1")
    for path, replacement in table.items():
        node = root.get(*path)
        if node is None:
            continue
        key = ".".join(path)
        what = "v1" if code == "FM007" else "v2"
        msg = f"Prompty {what} key `{key}` in a Prompty {other} file; use `{replacement}`."
        yield ctx.finding(code, msg, node.key_span or node.span, fixes=(fix,) if fix else (), key=key)


def prompty_v1_input_types(doc: PromptDocument, ctx: Context, root: FMNode, fix: Fix | None) -> Iterator[Finding]:
    """FM007 for a v2 file's inputs written the v1 way: a mapping whose entries say `type` rather than `kind`."""
    inputs = root.get("inputs")
    if doc.version != "v2" or inputs is None or not inputs.is_map:
        return
    for name, child in (inputs.children or {}).items():  # type: ignore[union-attr]
        t = child.get("type") if child.is_map else None
        if t is not None and child.get("kind") is None:
            yield ctx.finding("FM007", f"Prompty v1 `type` for input `{name}`; v2 uses `kind`.",
                              t.key_span or t.span, fixes=(fix,) if fix else (), key=f"inputs.{name}.type")


def migrate_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """The v2 equivalent of a v1 frontmatter (keys v2 doesn't know are kept under `metadata`)."""
    out: dict[str, Any] = {}
    meta: dict[str, Any] = dict(data.get("metadata") or {})
    for k in ("name", "description", "version"):
        if k in data:
            out[k] = data[k]
    for k in ("authors", "tags"):
        if k in data:
            meta[k] = data[k]
    if meta:
        out["metadata"] = meta
    model = data.get("model")
    if isinstance(model, dict):
        out["model"] = _migrate_model(model)
    elif model is not None:
        out["model"] = model
    items = _migrate_inputs(data)
    if items:
        out["inputs"] = items
    for k in ("outputs", "tools", "template"):
        if k in data:
            out[k] = data[k] if k != "template" or not isinstance(data[k], str) else {"format": {"kind": data[k]}}
    return out


def _migrate_model(model: dict[str, Any]) -> dict[str, Any]:
    """v1 `model` (`api`, `configuration`, `parameters`) as v2 `model` (`id`, `provider`, `apiType`,
    `connection`, `options`)."""
    m2: dict[str, Any] = {}
    conf = model.get("configuration") if isinstance(model.get("configuration"), dict) else {}
    mid = model.get("id") or conf.get("model") or conf.get("azure_deployment") or conf.get("name")
    if mid:
        m2["id"] = mid
    typ = conf.get("type")
    if model.get("provider") or typ:
        m2["provider"] = model.get("provider") or {"azure_openai": "azure", "serverless": "azure"}.get(typ, typ)
    if model.get("apiType") or model.get("api"):
        m2["apiType"] = model.get("apiType") or model.get("api")
    conn = {k: v for k, v in conf.items() if k not in {"type", "model", "azure_deployment", "name"}}
    if isinstance(model.get("connection"), dict):
        conn = {**conn, **model["connection"]}
    if conn:
        m2["connection"] = {"kind": "key", **{_camel(k): v for k, v in conn.items()}}
    opts = {**(model.get("parameters") or {}), **(model.get("options") or {})}
    if opts:
        m2["options"] = {_OPT.get(k, k): v for k, v in opts.items()}
    return m2


def _migrate_inputs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """v1 `inputs` (a mapping) and `sample` as the v2 `inputs` list, samples as defaults."""
    inputs = data.get("inputs")
    sample = data.get("sample") if isinstance(data.get("sample"), dict) else {}
    items: list[dict[str, Any]] = []
    if isinstance(inputs, dict):
        for name, spec in inputs.items():
            spec = spec if isinstance(spec, dict) else {"default": spec}
            item = {"name": name}
            if "type" in spec or "kind" in spec:
                item["kind"] = spec.get("kind", spec.get("type"))
            for k in ("description", "required", "default"):
                if k in spec:
                    item[k] = spec[k]
            if "sample" in spec and "default" not in item:
                item["default"] = spec["sample"]
            if name in sample and "default" not in item:
                item["default"] = sample[name]
            items.append(item)
    elif isinstance(inputs, list):
        items = list(inputs)
    for name, value in sample.items():
        if not any(i.get("name") == name for i in items):
            items.append({"name": name, "kind": _kind(value), "default": value})
    return items


_OPT = {"max_tokens": "maxOutputTokens", "top_p": "topP", "frequency_penalty": "frequencyPenalty",
        "presence_penalty": "presencePenalty", "stop": "stopSequences"}


def _camel(k: str) -> str:
    head, *rest = k.split("_")
    return head + "".join(p.title() for p in rest)


def _kind(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}.get(type(v), "string")


def _migration_fix(doc: PromptDocument) -> Fix | None:
    fm = doc.frontmatter
    if fm.yaml_span is None or not fm.data:
        return None
    new = yaml.safe_dump(migrate_v1_to_v2(fm.data), sort_keys=False, allow_unicode=True, width=100)
    return Fix("Migrate frontmatter to Prompty v2", (TextEdit(fm.yaml_span, new),))


# for the Prompty v1 file case the migration is also offered (a v1 file is legal, so only as a refactor)
def v1_migration_fix(doc: PromptDocument) -> Fix | None:
    return _migration_fix(doc) if doc.dialect == "prompty" and doc.version == "v1" else None


__all__ = ["check", "dotprompt", "migrate_v1_to_v2", "prompty", "v1_migration_fix"]
