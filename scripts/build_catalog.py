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
JSON_NAME = "model_prices_and_context_window_backup.json"

KEPT_MODES = ("chat", "completion", "responses")
from promptls.catalog.data_file import COLUMNS  # noqa: E402 - one row layout for writer and reader

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
    return [
        normalise_provider(str(entry.get("litellm_provider", ""))),
        entry["mode"],
        positive_int(entry.get("max_input_tokens")),
        positive_int(entry.get("max_output_tokens")),
        per_mtok(entry.get("input_cost_per_token")),
        per_mtok(entry.get("output_cost_per_token")),
        per_mtok(entry.get("cache_read_input_token_cost")),
        tiers_of(entry),
        iso_date(entry.get("deprecation_date"), key, warnings),
        entry.get("successor_model") or None,
        1 if entry.get("supports_prompt_caching") else 0,
        positive_int(entry.get("prompt_cache_min_tokens")),
    ]


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


def build(data: bytes, version: str, wheel_sha256: str | None) -> tuple[str, list[str]]:
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
    meta = {
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
    args = parser.parse_args(argv)

    data, version, licence, wheel_sha = read_source(args.source, args.source_version)
    text, warnings = build(data, version, wheel_sha)
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
