"""Secret-shape detection and redaction (promptls.core.secrets). Keys are assembled at run time."""

from __future__ import annotations

import secrets as pysecrets
import string

from promptls.core.secrets import find_secrets, redact, redact_key

ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM + "_-") -> str:
    return "".join(pysecrets.choice(alphabet) for _ in range(n))


def test_each_key_shape_is_found_with_its_kind():
    openai_proj = "sk-" + "proj-" + rand(60)
    openai_legacy = "sk-" + rand(48, ALNUM)
    anthropic = "sk-" + "ant-api03-" + rand(90)
    google = "AI" + "za" + rand(35)
    text = f"a={openai_proj}\nb='{openai_legacy}' c:{anthropic} d=\"{google}\" end"
    found = find_secrets(text)
    assert [m.kind for m in found] == ["openai", "openai", "anthropic", "google"]
    assert [text[m.start:m.end] for m in found] == [openai_proj, openai_legacy, anthropic, google]


def test_redact_replaces_keys_and_keeps_the_rest():
    key = "sk-" + "ant-api03-" + rand(90)
    out = redact(f"use {key} please")
    assert key not in out
    assert out == "use [REDACTED:anthropic] please"


def test_lookalikes_are_not_secrets():
    for text in ("sk-short", "task-force", "risk-" + rand(40, ALNUM), "AIza" + rand(10), "desk-" + rand(50, ALNUM)):
        assert find_secrets(text) == [], text
    assert redact("plain prose, no keys") == "plain prose, no keys"


def test_redact_key_removes_a_known_key_of_any_shape():
    key = "fake-" + rand(20)
    assert key not in redact_key(f"x {key} y", key)
