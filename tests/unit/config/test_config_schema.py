"""The core settings are declared once (`config/settings.py`): their messages, their defaults and the JSON Schema
all come from those declarations and agree with each other."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

from promptls import config
from promptls.config import Config
from promptls.config.settings import CORE


def messages(data: dict) -> list[str]:
    return config.from_dict(data)[1]


def test_top_level_messages_in_declaration_order_after_unknown_keys():
    assert messages({"tokens": {"online": "yes"}, "select": ["nope"], "zzz": 1, "max_file_bytes": 0}) == [
        "zzz: unknown setting",
        "select: unknown rule code or name 'nope'",
        "max-file-bytes: expected a positive integer, got 0",
        "tokens.online: expected true or false, got 'yes'",
    ]


def test_table_messages_use_the_hyphenated_key_and_list_unknown_keys_last():
    assert messages({"cost": {"x": 1, "per_call_budget_usd": True, "budget-severity": "loud",
                              "calls_per_month": 1.5}}) == [
        "cost.per-call-budget-usd: expected a non-negative number, got True",
        "cost.budget-severity: unknown severity 'loud': use error, warning, info or hint",
        "cost.calls-per-month: expected a whole number >= 0, got 1.5",
        "cost.x: unknown setting",
    ]
    assert messages({"code": 1, "datasets": {"sniff": 1, "model": ""}, "deployments": {"a": 3}}) == [
        "code: expected a table",
        "datasets.sniff: expected true or false, got 1",
        "datasets.model: expected a model id string, got ''",
        'deployments.a: expected a model id string, got 3',
    ]


def test_partly_valid_values_keep_their_valid_part():
    cfg, errs = config.from_dict({
        "per-file-ignores": {"a/*": ["VR001"], "b": [3]},
        "severity": {"VR001": "error", "nope": "warning"},
        "code": {"languages": ["python", "rust"]},
        "deployments": {"prod": " gpt-4o ", "bad": ""},
        "templates": {"globs": {"*.a": "jinja2", "*.b": "erb"},
                      "overrides": [1, {"glob": "p/*", "inputs": [1], "engine": "erb", "model": "gpt-4o"}]},
        "models": {"m": {"context_window": 10, "max_output": True, "bad": 1}},
    })
    assert cfg.per_file_ignores == (("a/*", ("VR001",)),)
    assert [(code, sev.label) for code, sev in cfg.severity] == [("VR001", "error")]
    assert cfg.code_languages == ("python",)
    assert cfg.deployments == {"prod": "gpt-4o"}
    assert cfg.template_globs == (("*.a", "jinja2"),)
    assert [(o.glob, o.model, o.inputs, o.engine) for o in cfg.template_overrides] == [("p/*", "gpt-4o", None, None)]
    assert cfg.models == {"m": {"context_window": 10}}
    assert errs == [
        "per-file-ignores.b: expected a list of strings, got [3]",
        "severity.nope: unknown rule",
        "models.m.max_output: wrong type True",
        "models.m.bad: unknown setting",
        "templates.globs.*.b: unknown engine 'erb'; use one of jinja2, handlebars, mustache",
        "templates.overrides[0]: each override needs a `glob` string",
        "templates.overrides[1].inputs: expected a list of strings, got [1]",
        "templates.overrides[1].engine: unknown engine 'erb'",
        "code.languages: unknown language 'rust'; use python, typescript, javascript",
        "deployments.bad: expected a model id string, got ''",
    ]


def test_null_is_unset_in_tables_and_for_the_keys_that_always_allowed_it():
    cfg, errs = config.from_dict({"max-file-bytes": None, "per-file-ignores": None,
                                  "cost": {"per-call-budget-usd": None}, "tokens": {"online": None}})
    assert not errs and cfg == Config(raw=cfg.raw)
    assert messages({"model": None, "today": None, "cost": None}) == [
        "model: expected a model id string, got None", "cost: expected a table",
        "today: expected a date YYYY-MM-DD, got None"]


def test_later_sources_change_only_the_keys_they_set():
    base, _ = config.from_dict({"select": ["VR"], "cost": {"calls-per-month": 3}})
    cfg, errs = config.from_dict({"cost": {"per-call-budget-usd": 0.5}, "today": "2025-01-02"}, base)
    assert not errs
    assert (cfg.select, cfg.calls_per_month, cfg.per_call_budget_usd) == (("VR",), 3, 0.5)
    assert cfg.today == dt.date(2025, 1, 2)


def test_every_setting_is_in_the_schema_and_its_documented_defaults_are_the_config_defaults():
    props = config.json_schema()["properties"]
    declared = [f for f in fields(Config) if "setting" in f.metadata]
    assert len(declared) == 24
    documented: dict = {}
    for f in declared:
        s = f.metadata["setting"]
        node = props[s.table]["properties"][s.name] if s.table else props[s.key]
        if "default" in node:
            target = documented.setdefault(s.table, {}) if s.table else documented
            target[s.name] = node["default"]
    # null is "unset" in tables; a top-level null (model, today) is no value to feed back
    cfg, errs = config.from_dict({k: v for k, v in documented.items() if v is not None})
    assert not errs
    assert cfg == Config(raw=cfg.raw)


def test_known_top_level_keys_are_the_declared_ones():
    assert CORE.known() >= {"select", "per-file-ignores", "per_file_ignores", "max_file_bytes", "cost", "tokens"}
    assert list(CORE.properties()) == ["select", "ignore", "per-file-ignores", "severity", "model", "models",
                                       "templates", "cost", "today", "max-file-bytes", "code", "datasets",
                                       "deployments", "tokens"]
