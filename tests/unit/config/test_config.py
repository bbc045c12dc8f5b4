"""Config validation: invalid values keep their defaults, with messages; template engines per glob."""

from __future__ import annotations

from promptls import config


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
