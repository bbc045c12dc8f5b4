"""Build tiktoken encodings from the files bundled in ``promptls/data`` — never from the network.

tiktoken's own constructors (``tiktoken_ext.openai_public``) download the BPE ranks from OpenAI's blob
store and cache them. We reuse those constructors for everything except the download: each one is run
with a stand-in for ``load_tiktoken_bpe`` that only records the URL and the expected sha256, so the split
regex, special tokens and hash come from the installed tiktoken and are never re-typed here. The ranks are
read from the package data, checked against that hash, and parsed here.
"""

from __future__ import annotations

import binascii
import contextlib
import ctypes
import gc
import hashlib
import threading
import types
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

BUNDLED_ENCODINGS: tuple[str, ...] = ("o200k_base", "cl100k_base")


class TokenizerDataError(ValueError):
    """A bundled tokenizer file is missing, corrupted, or does not match tiktoken's expected hash."""


@dataclass(frozen=True, slots=True)
class EncodingDefinition:
    """What tiktoken's constructor says about an encoding, minus the ranks."""

    name: str
    pat_str: str
    special_tokens: dict[str, int]
    explicit_n_vocab: int | None
    source_url: str
    expected_sha256: str


_lock = threading.Lock()
_cache: dict[str, tiktoken.Encoding] = {}


def encoding_definition(name: str) -> EncodingDefinition:
    """Run tiktoken's constructor for ``name`` with the download replaced by a recorder."""
    if name not in BUNDLED_ENCODINGS:
        raise KeyError(f"no bundled encoding {name!r}; bundled: {', '.join(BUNDLED_ENCODINGS)}")
    # tiktoken loads with the first encoding built, not when promptls is imported.
    from tiktoken_ext import openai_public

    ctor = openai_public.ENCODING_CONSTRUCTORS[name]
    seen: list[tuple[str, str | None]] = []

    def record_only(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen.append((blobpath, expected_hash))
        return {}

    # Same code object, same globals except the loader: no monkeypatching of the shared module.
    offline_ctor = types.FunctionType(
        ctor.__code__,
        {**ctor.__globals__, "load_tiktoken_bpe": record_only},
        ctor.__name__,
        ctor.__defaults__,
        ctor.__closure__,
    )
    spec: dict[str, Any] = offline_ctor()
    if len(seen) != 1 or not seen[0][1]:
        # tiktoken loads with the first encoding built, not when promptls is imported.
        import tiktoken

        raise TokenizerDataError(
            f"tiktoken {tiktoken.__version__} builds {name} differently than expected "
            f"(saw loader calls {seen!r}); cannot find the expected sha256 for the bundled file"
        )
    url, expected = seen[0]
    if not url.endswith(f"/{name}.tiktoken"):
        raise TokenizerDataError(f"tiktoken's {name} constructor loads {url!r}, not {name}.tiktoken")
    return EncodingDefinition(
        name=spec["name"],
        pat_str=spec["pat_str"],
        special_tokens=dict(spec["special_tokens"]),
        explicit_n_vocab=spec.get("explicit_n_vocab"),
        source_url=url,
        expected_sha256=expected or "",
    )


def bundled_file_bytes(name: str) -> bytes:
    """The raw bytes of ``promptls/data/<name>.tiktoken``."""
    resource = resources.files("promptls").joinpath("data", f"{name}.tiktoken")
    try:
        return resource.read_bytes()
    except FileNotFoundError as exc:
        raise TokenizerDataError(f"bundled tokenizer file {name}.tiktoken is missing from promptls/data") from exc


def parse_ranks(data: bytes, origin: str) -> dict[bytes, int]:
    """Parse the ``<base64 token> <rank>`` lines of a .tiktoken file.

    Written here instead of calling ``tiktoken.load.load_tiktoken_bpe(path)`` because that function routes
    local paths through its download cache (it would copy the file into TIKTOKEN_CACHE_DIR) and would read
    the file a second time after we have already hashed it.
    """
    ranks: dict[bytes, int] = {}
    decode = binascii.a2b_base64  # what base64.b64decode calls, without its per-call argument checks
    for line in data.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[decode(token, strict_mode=True)] = int(rank)
        except (ValueError, binascii.Error) as exc:
            raise TokenizerDataError(f"malformed line {line[:60]!r} in {origin}") from exc
    return ranks


def build_encoding(name: str, data: bytes | None = None, origin: str | None = None) -> tiktoken.Encoding:
    """Build a fresh (uncached) encoding from ``data`` (default: the bundled file), verifying its sha256."""
    # tiktoken loads with the first encoding built, not when promptls is imported.
    import tiktoken

    definition = encoding_definition(name)
    if data is None:
        data = bundled_file_bytes(name)
    origin = origin or f"promptls/data/{name}.tiktoken"
    actual = hashlib.sha256(data).hexdigest()
    if actual != definition.expected_sha256:
        raise TokenizerDataError(
            f"{origin} has sha256 {actual}, but tiktoken {tiktoken.__version__} expects "
            f"{definition.expected_sha256} for {name}; the file is corrupted or from another version "
            "— reinstall promptls"
        )
    kwargs: dict[str, Any] = {
        "pat_str": definition.pat_str,
        "mergeable_ranks": parse_ranks(data, origin),
        "special_tokens": definition.special_tokens,
    }
    if definition.explicit_n_vocab is not None:
        kwargs["explicit_n_vocab"] = definition.explicit_n_vocab
    return tiktoken.Encoding(definition.name, **kwargs)


def build_encoding_from_path(name: str, path: Path) -> tiktoken.Encoding:
    """Build an encoding from a .tiktoken file on disk (used to check a copy, e.g. in tests)."""
    return build_encoding(name, path.read_bytes(), str(path))


def get_encoding(name: str) -> tiktoken.Encoding:
    """The bundled encoding ``name``, built once per process (about 0.5-1 s the first time)."""
    encoding = _cache.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        encoding = _cache.get(name)
        if encoding is None:
            encoding = build_encoding(name)
            _release_python_ranks(encoding)
            _cache[name] = encoding
    return encoding


def _release_python_ranks(encoding: tiktoken.Encoding) -> None:
    """Drop the Python copy of the merge ranks once the Rust core has its own (tens of MB for o200k).

    tiktoken keeps `_mergeable_ranks` only to pickle the Encoding, which promptls never does; encoding and
    counting go through the Rust core. The cached, shared encodings are the ones trimmed; `build_encoding`
    still returns complete objects.
    """
    encoding._mergeable_ranks = {}  # type: ignore[attr-defined]
    gc.collect()
    # Give the freed heap back to the OS (glibc); harmless where unavailable.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def clear_cache() -> None:
    """Forget built encodings (tests use this to prove a cold build stays offline)."""
    with _lock:
        _cache.clear()
