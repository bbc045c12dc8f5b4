"""Chat framing overhead per model family: tokens added around each message and to prime the reply.

All such constants live here, each with its source. A chat's count is
``sum(per_message + count(role) + count(content)) + reply_priming``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatOverhead:
    """Tokens a chat template adds: around each message, and once to prime the assistant's reply."""

    per_message: int
    reply_priming: int
    documented: bool
    source: str


OPENAI_OVERHEAD = ChatOverhead(
    per_message=3,
    reply_priming=3,
    documented=True,
    source=(
        "OpenAI Cookbook, 'How to count tokens with tiktoken' (num_tokens_from_messages): "
        "tokens_per_message = 3 for gpt-3.5-turbo-0613, gpt-4 and gpt-4o, and 'every reply is primed with "
        "<|start|>assistant<|message|>' = 3 tokens"
    ),
)

OVERHEADS: dict[str, ChatOverhead] = {
    "openai": OPENAI_OVERHEAD,
    "llama": ChatOverhead(
        per_message=4,
        reply_priming=5,
        documented=False,
        source=(
            "Llama 3 prompt format (Meta model card): <|start_header_id|>role<|end_header_id|>\\n\\n"
            "content<|eot_id|> = 4 framing tokens besides the role; the reply needs <|begin_of_text|> plus "
            "an assistant header (4 tokens including the role word)"
        ),
    ),
    "qwen": ChatOverhead(
        per_message=4,
        reply_priming=3,
        documented=False,
        source=(
            "ChatML as used by Qwen: <|im_start|>role\\ncontent<|im_end|>\\n = 4 framing tokens besides the "
            "role; the reply is primed with <|im_start|>assistant\\n = 3 tokens"
        ),
    ),
}

# Claude, Gemini, Mistral and unknown families publish no chat template token-by-token; OpenAI's documented
# constants are used as an approximation (a few tokens per message either way).
APPROXIMATE_OVERHEAD = ChatOverhead(
    per_message=OPENAI_OVERHEAD.per_message,
    reply_priming=OPENAI_OVERHEAD.reply_priming,
    documented=False,
    source="no public token-level chat template; OpenAI's per-message constants used as an approximation",
)


def overhead_for_family(family: str) -> ChatOverhead:
    """The chat overhead for a tokenizer family (``openai``, ``claude``, ``llama``, ...)."""
    return OVERHEADS.get(family, APPROXIMATE_OVERHEAD)
