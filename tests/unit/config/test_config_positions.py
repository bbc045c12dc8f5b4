"""Config validation and the UTF-16 position conversions."""

from __future__ import annotations

from promptls import config
from promptls.core.positions import LineIndex, Pos, Span


def test_invalid_values_keep_defaults_with_messages():
    cfg, errs = config.from_dict({"select": "VR001", "ignore": [1], "cost": {"per-call-budget-usd": -1},
                                  "today": "tomorrow", "templates": {"globs": {"*.x": "erb"}}, "zzz": 1})
    assert cfg.select == ("VR001",)
    assert cfg.ignore == () and cfg.per_call_budget_usd is None and cfg.today is None
    text = "\n".join(errs)
    for needle in ("ignore", "per-call-budget-usd", "today", "erb", "zzz"):
        assert needle in text


def test_engine_for_globs_and_overrides():
    cfg, errs = config.from_dict({"templates": {"overrides": [{"glob": "prompts/*.txt", "engine": "mustache",
                                                               "model": "gpt-4o", "inputs": ["a"]}]}})
    assert not errs
    assert cfg.engine_for("x/prompts/a.txt") == "mustache"
    assert cfg.engine_for("a.j2") == "jinja2" and cfg.engine_for("a.hbs") == "handlebars"
    assert cfg.engine_for("a.py") is None


def test_utf16_round_trip():
    text = "a😀b\r\nsecond é line\rthird"
    idx = LineIndex(text)
    assert idx.line_count == 3
    off = text.index("b")
    p = idx.pos(off)
    assert p == Pos(0, 2)
    assert idx.pos_to_utf16(p) == Pos(0, 3)  # the emoji is two UTF-16 units
    assert idx.utf16_to_offset(0, 3) == off
    assert idx.utf16_to_offset(1, 999) == text.index("\rthird")  # clamped to the line end
    assert idx.utf16_to_offset(99, 0) == len(text)
    r = idx.range_utf16(Span(text.index("é"), text.index("é") + 1))
    assert (r.start.line, r.start.character, r.end.character) == (1, 7, 8)
