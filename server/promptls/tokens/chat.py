"""Count a chat (a list of ``(role, content)`` messages) including the family's framing overhead."""

from __future__ import annotations

from dataclasses import dataclass

from promptls.tokens.counter import TokenCounter
from promptls.tokens.overhead import ChatOverhead, overhead_for_family


@dataclass(frozen=True, slots=True)
class ChatCount:
    """Tokens for a whole chat request: ``total`` = sum(per_message) + the reply priming."""

    total: int
    per_message: list[int]
    exact: bool
    overhead: ChatOverhead


def count_chat(messages: list[tuple[str, str]], counter: TokenCounter) -> ChatCount:
    """Count ``messages`` as a chat prompt for ``counter``'s model family.

    Each message costs the family's per-message framing plus its role and content tokens; the total adds
    the tokens that prime the assistant's reply. Exact only for exact counters with a documented overhead.
    """
    overhead = overhead_for_family(counter.family)
    count = counter.count
    per_message = [overhead.per_message + count(role) + count(content) for role, content in messages]
    return ChatCount(
        total=sum(per_message) + overhead.reply_priming,
        per_message=per_message,
        exact=counter.exact and overhead.documented,
        overhead=overhead,
    )
