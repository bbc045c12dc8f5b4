#!/usr/bin/env python3
"""Build ``server/promptls/data/model_catalog.json`` from LiteLLM's model price/context-window table.

Usage:
    python scripts/build_catalog.py path/to/litellm-X.Y.Z-*.whl
    python scripts/build_catalog.py path/to/model_prices_and_context_window_backup.json --source-version X.Y.Z

The input is LiteLLM's ``model_prices_and_context_window_backup.json`` (MIT, Berri AI), either directly or
inside a LiteLLM wheel (then the version and the licence text are taken from the wheel). Only chat,
completion and responses models are kept, with the fields promptls uses; the output records the source
version and the sha256 of the JSON it was built from. Output is deterministic: one model per line, sorted,
so updates diff cleanly.

The providers' own lifecycle table, ``data/model_lifecycle.json`` (hand-transcribed from their deprecation pages,
only ever grows), is merged in: a provider's shutdown date and successor win over LiteLLM's; an id LiteLLM dropped
is kept as a row of its own; a date only LiteLLM gives is marked ``litellm`` so that it can warn but never make a
model "retired". The output records the lifecycle file's version and sha256, which the reader checks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "server" / "promptls" / "data"
DEFAULT_OUT = DATA_DIR / "model_catalog.json"
LICENSE_OUT = DATA_DIR / "model_catalog.LICENSE"
LIFECYCLE_IN = DATA_DIR / "model_lifecycle.json"
JSON_NAME = "model_prices_and_context_window_backup.json"

KEPT_MODES = ("chat", "completion", "responses")
from promptls.catalog.data_file import (  # noqa: E402 - one row layout for writer and reader
    COLUMNS,
    DATE_FROM_LITELLM,
    DATE_FROM_PROVIDER,
)

_COL = {name: i for i, name in enumerate(COLUMNS)}

# LiteLLM splits some providers by API flavour; promptls only needs who serves the model.
PROVIDER_RENAMES = {
    "azure_text": "azure",
    "bedrock_converse": "bedrock",
    "cohere_chat": "cohere",
}
TIER_RE = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def normalise_provider(provider: str) -> str:
    """``vertex_ai-language-models`` -> ``vertex_ai``, ``text-completion-openai`` -> ``openai``, ..."""
    if provider.startswith("vertex_ai-"):
        return "vertex_ai"
    if provider.startswith("text-completion-"):
        return provider.removeprefix("text-completion-")
    return PROVIDER_RENAMES.get(provider, provider)


def per_mtok(value: object) -> float | None:
    """USD per token -> USD per million tokens, rounded to hide float noise (2.5e-06 -> 2.5)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(float(value) * 1_000_000, 6)


def positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def tiers_of(entry: dict) -> list[list[float | int | None]] | None:
    """Input-size price tiers, e.g. Gemini's ``*_above_200k_tokens``: [[threshold, in, out, cached], ...]."""
    tiers = []
    for key in entry:
        match = TIER_RE.match(key)
        if not match:
            continue
        k = match.group(1)
        threshold = int(k) * 1000
        tiers.append(
            [
                threshold,
                per_mtok(entry[key]),
                per_mtok(entry.get(f"output_cost_per_token_above_{k}k_tokens")),
                per_mtok(entry.get(f"cache_read_input_token_cost_above_{k}k_tokens")),
            ]
        )
    return sorted(tiers) or None


def iso_date(value: object, model: str, warnings: list[str]) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        warnings.append(f"{model}: ignoring deprecation_date {value!r} (not YYYY-MM-DD)")
        return None


def row_for(key: str, entry: dict, warnings: list[str]) -> list:
    shutdown = iso_date(entry.get("deprecation_date"), key, warnings)
    return [
        normalise_provider(str(entry.get("litellm_provider", ""))),
        entry["mode"],
        positive_int(entry.get("max_input_tokens")),
        positive_int(entry.get("max_output_tokens")),
        per_mtok(entry.get("input_cost_per_token")),
        per_mtok(entry.get("output_cost_per_token")),
        per_mtok(entry.get("cache_read_input_token_cost")),
        tiers_of(entry),
        shutdown,
        entry.get("successor_model") or None,
        1 if entry.get("supports_prompt_caching") else 0,
        positive_int(entry.get("prompt_cache_min_tokens")),
        None,  # deprecated_on: LiteLLM records only the shutdown date
        DATE_FROM_LITELLM if shutdown else None,
        None,  # lifecycle_url
    ]


def _empty_row(provider: str, mode: str) -> list:
    row: list = [None] * len(COLUMNS)
    row[_COL["provider"]] = provider
    row[_COL["mode"]] = mode
    row[_COL["supports_prompt_caching"]] = 0
    return row


def _apply(row: list, entry: dict) -> None:
    """The provider's lifecycle over one row: its dates and successor win; LiteLLM's successor fills a gap."""
    if entry.get("shutdown"):
        row[_COL["deprecation_date"]] = entry["shutdown"]
        row[_COL["date_source"]] = DATE_FROM_PROVIDER
    if entry.get("deprecated"):
        row[_COL["deprecated_on"]] = entry["deprecated"]
    if entry.get("successor"):
        row[_COL["successor"]] = entry["successor"]
    row[_COL["lifecycle_url"]] = entry["url"]


def merge_lifecycle(
    models: dict[str, list], aliases: dict[str, str], lifecycle: dict, warnings: list[str]
) -> int:
    """Merge the providers' lifecycle table into LiteLLM's rows (in place); returns how many ids LiteLLM lacked.

    Provider dates and successors win. An id LiteLLM dropped becomes a row with the lifecycle facts only (no
    limits or prices), so it resolves to "retired on <date>, use <successor>" instead of "unknown model". Each
    alias gets the same facts: as an alias when LiteLLM has no row of that name, else on that row too.
    """
    added = 0
    for entry in lifecycle["models"]:
        model_id = entry["id"]
        for key in (model_id, *entry.get("aliases", ())):
            if key == model_id or key in models:
                row = models.get(key)
                if row is None:
                    row = models[key] = _empty_row(entry["provider"], entry.get("mode", "chat"))
                    added += 1
                else:
                    theirs, ours = row[_COL["deprecation_date"]], entry.get("shutdown")
                    if theirs and ours and theirs != ours:
                        warnings.append(f"{key}: LiteLLM says {theirs}, the provider {ours}; provider wins")
                _apply(row, entry)
                aliases.pop(key, None)
            else:
                aliases[key] = model_id
    for key, row in models.items():
        successor = row[_COL["successor"]]
        if successor and successor not in models and successor not in aliases:
            warnings.append(f"{key}: successor {successor} is not in the catalog")
    return added


def read_source(path: Path, source_version: str | None) -> tuple[bytes, str, str | None, str | None]:
    """Return (json bytes, version, licence text or None, wheel sha256 or None)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            json_name = next((n for n in names if n.endswith(f"litellm/{JSON_NAME}")), None)
            if json_name is None:
                raise SystemExit(f"{path}: no litellm/{JSON_NAME} inside")
            data = wheel.read(json_name)
            metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
            version_line = next(
                line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Version:")
            )
            version = version_line.split(":", 1)[1].strip()
            licence_name = next((n for n in names if re.search(r"\.dist-info/(licenses/)?LICENSE[^/]*$", n)), None)
            licence = wheel.read(licence_name).decode() if licence_name else None
        return data, version, licence, hashlib.sha256(path.read_bytes()).hexdigest()
    return path.read_bytes(), source_version or "unknown", None, None


def build(
    data: bytes, version: str, wheel_sha256: str | None, lifecycle_bytes: bytes | None = None
) -> tuple[str, list[str]]:
    raw = json.loads(data)
    warnings: list[str] = []
    models: dict[str, list] = {}
    for key, entry in raw.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        if entry.get("mode") in KEPT_MODES and entry.get("litellm_provider"):
            models[key] = row_for(key, entry, warnings)
    aliases = {
        key: entry["alias_of"]
        for key, entry in raw.items()
        if isinstance(entry, dict) and isinstance(entry.get("alias_of"), str) and entry["alias_of"] in models
    }
    lifecycle_meta: dict[str, object] = {}
    if lifecycle_bytes is not None:
        lifecycle = json.loads(lifecycle_bytes)
        added = merge_lifecycle(models, aliases, lifecycle, warnings)
        lifecycle_meta = {
            "lifecycle_version": lifecycle["meta"]["version"],
            "lifecycle_sha256": hashlib.sha256(lifecycle_bytes).hexdigest(),
            "lifecycle_models": len(lifecycle["models"]),
            "lifecycle_added": added,
        }
    meta = {
        **lifecycle_meta,
        "source": f"LiteLLM {JSON_NAME}",
        "source_url": "https://github.com/BerriAI/litellm",
        "source_version": version,
        "source_sha256": hashlib.sha256(data).hexdigest(),
        "source_wheel_sha256": wheel_sha256,
        "license": "MIT, Copyright (c) 2023 Berri AI; full text in model_catalog.LICENSE",
        "generated_by": "scripts/build_catalog.py",
        "kept_modes": list(KEPT_MODES),
        "prices": "USD per million tokens; tiers are [input tokens above, input, output, cached input]",
        "model_count": len(models),
        "alias_count": len(aliases),
    }
    lines = ["{", f'"meta": {json.dumps(meta, sort_keys=True)},', f'"columns": {json.dumps(list(COLUMNS))},']
    lines.append('"aliases": {')
    alias_items = sorted(aliases.items())
    lines += [
        f"{json.dumps(k)}: {json.dumps(v)}{',' if i < len(alias_items) - 1 else ''}"
        for i, (k, v) in enumerate(alias_items)
    ]
    lines.append("},")
    lines.append('"models": {')
    model_items = sorted(models.items())
    lines += [
        f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{',' if i < len(model_items) - 1 else ''}"
        for i, (k, v) in enumerate(model_items)
    ]
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n", warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help=f"a LiteLLM wheel or its {JSON_NAME}")
    parser.add_argument("--source-version", help="LiteLLM version when SOURCE is a bare JSON file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lifecycle", type=Path, default=LIFECYCLE_IN,
                        help="the providers' lifecycle table to merge (default: %(default)s)")
    args = parser.parse_args(argv)

    data, version, licence, wheel_sha = read_source(args.source, args.source_version)
    text, warnings = build(data, version, wheel_sha, args.lifecycle.read_bytes())
    json.loads(text)  # the hand-assembled layout must still be valid JSON
    args.out.write_text(text, encoding="utf-8")
    if licence is not None:
        (args.out.parent / LICENSE_OUT.name).write_text(licence, encoding="utf-8")
    elif not (args.out.parent / LICENSE_OUT.name).exists():
        print(f"warning: no licence text found; add LiteLLM's LICENSE as {LICENSE_OUT.name}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {args.out} ({len(text.encode()):,} bytes) from LiteLLM {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
