"""Which files hold prompt tests and which prompts they may name: the names alone, importable without the YAML
reader, so the language server can route documents at start-up without loading the eval package."""

from __future__ import annotations

TESTS_SUFFIXES = (".tests.yaml", ".tests.yml")
PROMPTFOO_NAMES = ("promptfooconfig.yaml", "promptfooconfig.yml")
PROMPT_SUFFIXES = (".prompt", ".prompty", ".j2", ".jinja", ".jinja2", ".hbs", ".handlebars", ".mustache",
                   ".prompt.md", ".txt", ".md")
