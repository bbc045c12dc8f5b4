"""Write a tiny llama-architecture GGUF model (random weights, a byte-fallback SPM vocabulary) with `gguf`.

Big enough for llama.cpp to load and really run (tokenize, decode, sample), small enough to write and load in
well under a second: 2 layers, 64-wide embeddings, ~300 tokens. Its output is gibberish by design; tests check
the mechanics (streaming, limits, usage, cancellation), not the prose.

`python -m tests.fakes.tiny_gguf OUT.gguf` writes one.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

WORDS = ["the", "a", "hello", "world", "prompt", "model", "token", "ok", "yes", "no", "code", "test", "fast",
         "small", "local", "answer", "file", "line", "value", "name"]



def require_local_inference() -> None:
    """Skip the calling test module (fail it under CI=true) when real local inference cannot run: it needs the
    `local` extra (llama-cpp-python) and `gguf` to write the test model."""
    import pytest

    missing = [m for m in ("llama_cpp", "gguf") if importlib.util.find_spec(m) is None]
    if missing:
        why = (f"{' and '.join(missing)} not installed: real local inference needs the `local` extra "
               "(llama-cpp-python) and `gguf` to write the test model")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {why}", pytrace=False)
        pytest.skip(why, allow_module_level=True)


def write_tiny_gguf(path: str | Path, *, n_embd: int = 64, n_layer: int = 2, n_ff: int = 128, n_head: int = 4,
                    n_ctx: int = 4096, seed: int = 0) -> Path:
    import gguf
    import numpy as np

    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens: list[bytes] = [b"<unk>", b"<s>", b"</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>".encode())
        types.append(gguf.TokenType.BYTE)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        tokens.append(ch.encode())
        types.append(gguf.TokenType.NORMAL)
    for w in WORDS:
        tokens.append(("\u2581" + w).encode())
        types.append(gguf.TokenType.NORMAL)
    tokens.append("\u2581".encode())
    types.append(gguf.TokenType.NORMAL)
    scores = [0.0] * 3 + [-1000.0] * 256 + [-float(i) for i in range(len(tokens) - 259)]
    n_vocab = len(tokens)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("promptls-tiny-test")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_chat_template(CHATML)

    def t(name: str, *shape: int, scale: float = 0.02) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def ones(name: str, n: int) -> None:
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    t("token_embd.weight", n_vocab, n_embd, scale=0.5)
    ones("output_norm.weight", n_embd)
    t("output.weight", n_vocab, n_embd, scale=0.5)
    for i in range(n_layer):
        ones(f"blk.{i}.attn_norm.weight", n_embd)
        for proj in ("q", "k", "v", "output"):
            t(f"blk.{i}.attn_{proj}.weight", n_embd, n_embd)
        ones(f"blk.{i}.ffn_norm.weight", n_embd)
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


if __name__ == "__main__":
    print(write_tiny_gguf(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf"))
