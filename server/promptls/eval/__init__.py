"""Prompt tests: cases beside a prompt (`NAME.tests.yaml`) or in a promptfoo configuration, assertions over the
answers, and a model comparison (pass rate, latency, tokens, cost per request and per month) run through the
router.

`load_suites` reads cases, `run_eval` runs them and returns an `EvalReport`; `report` turns that into a table,
JSON or JUnit XML. Nothing here imports an SDK or the LSP.
"""

from __future__ import annotations
