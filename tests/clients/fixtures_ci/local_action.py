"""Run a composite GitHub Action's steps on this machine, the way the runner would, for tests.

`run:` steps execute with the shell GitHub uses (`bash --noprofile --norc -eo pipefail`), the GITHUB_* files
(GITHUB_OUTPUT, GITHUB_PATH, GITHUB_ENV, GITHUB_STEP_SUMMARY) pointed at temp files and read back the same way,
and `${{ }}` expressions substituted. `uses:` steps cannot run here: they are recorded with their `with:`
resolved, so a test can check what they would have been given. The expression support is deliberately small
(context lookups, string literals, ==, !=, &&, ||, !); anything else raises, so an action that starts using more
fails its test instead of being run wrongly.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!)|(?P<ref>[A-Za-z_][\w.-]*))")


class ExpressionError(ValueError):
    pass


@dataclass
class StepResult:
    name: str
    id: str | None
    kind: str  # "run", "uses" (recorded, not run) or "skipped" (its `if:` was false, or an earlier step failed)
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    path_added: list[str]

    @property
    def failed(self) -> bool:
        return any(s.kind == "run" and s.returncode != 0 for s in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


class LocalAction:
    def __init__(self, action_dir: Path) -> None:
        self.dir = action_dir
        self.spec: dict[str, Any] = yaml.safe_load((action_dir / "action.yml").read_text())
        if self.spec["runs"]["using"] != "composite":
            raise ValueError("only composite actions can run locally")

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        return self.spec.get("inputs") or {}

    def run(self, *, workspace: Path, temp: Path, inputs: dict[str, str] | None = None,
            env: dict[str, str] | None = None, timeout: float = 300) -> ActionRun:
        given = dict(inputs or {})
        unknown = set(given) - set(self.inputs)
        if unknown:
            raise ValueError(f"inputs the action does not declare: {sorted(unknown)}")
        ctx_inputs = {k: str(given.get(k, v.get("default", ""))) for k, v in self.inputs.items()}
        temp.mkdir(parents=True, exist_ok=True)
        summary = temp / "step_summary.md"
        gh_path, gh_env = temp / "github_path", temp / "github_env"
        for f in (summary, gh_path, gh_env):
            f.write_text("")
        base_env = dict(env if env is not None else os.environ)
        base_env.update({
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(self.dir), "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(gh_path), "GITHUB_ENV": str(gh_env),
        })
        steps_ctx: dict[str, dict[str, Any]] = {}
        results: list[StepResult] = []
        failed = False
        for i, step in enumerate(self.spec["runs"]["steps"]):
            name = step.get("name") or step.get("uses") or f"step {i}"
            ctx = {"inputs": ctx_inputs, "steps": steps_ctx,
                   "github": {"action_path": str(self.dir), "workspace": str(workspace)},
                   "runner": {"temp": str(temp), "os": "Linux"}}
            cond = step.get("if")
            if failed or (cond is not None and not truthy(evaluate(strip_braces(str(cond)), ctx))):
                results.append(StepResult(name, step.get("id"), "skipped"))
                continue
            if "uses" in step:
                with_ = {k: substitute(str(v), ctx) for k, v in (step.get("with") or {}).items()}
                results.append(StepResult(name, step.get("id"), "uses", uses=step["uses"], with_=with_))
                continue
            result = self._run_step(step, name, ctx, base_env, workspace, temp, gh_path, gh_env, timeout)
            results.append(result)
            if result.id:
                steps_ctx[result.id] = {"outputs": result.outputs}
            failed = result.returncode != 0
        ctx = {"inputs": ctx_inputs, "steps": steps_ctx, "github": {}, "runner": {}}
        outputs = {k: substitute(str(v.get("value", "")), ctx) for k, v in (self.spec.get("outputs") or {}).items()}
        added = [p for p in gh_path.read_text().splitlines() if p]
        return ActionRun(results, outputs, summary.read_text(), added)

    def _run_step(self, step: dict[str, Any], name: str, ctx: dict[str, Any], base_env: dict[str, str],
                  workspace: Path, temp: Path, gh_path: Path, gh_env: Path, timeout: float) -> StepResult:
        if step.get("shell") != "bash":
            raise ValueError(f"step {name!r}: only `shell: bash` is supported here, got {step.get('shell')!r}")
        script = temp / f"step-{uuid.uuid4().hex}.sh"
        script.write_text(substitute(step["run"], ctx))
        out_file = temp / f"output-{uuid.uuid4().hex}"
        out_file.write_text("")
        env = dict(base_env)
        env.update(parse_kv_file(gh_env.read_text()))
        added = [p for p in gh_path.read_text().splitlines() if p]
        env["PATH"] = os.pathsep.join([*reversed(added), env.get("PATH", "")])
        env.update({k: substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()})
        env["GITHUB_OUTPUT"] = str(out_file)
        cwd = workspace / substitute(step["working-directory"], ctx) if "working-directory" in step else workspace
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        return StepResult(name, step.get("id"), "run", proc.returncode, proc.stdout, proc.stderr,
                          parse_kv_file(out_file.read_text()))


def parse_kv_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` lines, or `name<<DELIM` ... `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        i += 1
    return out


def strip_braces(expr: str) -> str:
    m = _EXPR.fullmatch(expr.strip())
    return m.group(1) if m else expr


def substitute(text: str, ctx: dict[str, Any]) -> str:
    return _EXPR.sub(lambda m: to_str(evaluate(m.group(1), ctx)), text)


def to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def truthy(v: Any) -> bool:
    # As on GitHub: any non-empty string is true, including "false" (compare inputs with == 'true').
    return bool(v)


def evaluate(expr: str, ctx: dict[str, Any]) -> Any:
    tokens = _tokenize(expr)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def operand() -> Any:
        kind, value = take()
        if kind == "op" and value == "!":
            return not truthy(operand())
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "ref":
            return _lookup(value, ctx)
        raise ExpressionError(f"unexpected {value!r} in {expr!r}")

    def comparison() -> Any:
        left = operand()
        tok = peek()
        if tok and tok[1] in ("==", "!="):
            op = take()[1]
            right = operand()
            # GitHub compares strings case-insensitively
            equal = to_str(left).casefold() == to_str(right).casefold()
            return equal if op == "==" else not equal
        return left

    def conjunction() -> Any:
        value = comparison()
        while (tok := peek()) and tok[1] == "&&":
            take()
            rhs = comparison()
            value = rhs if truthy(value) else value
        return value

    def disjunction() -> Any:
        value = conjunction()
        while (tok := peek()) and tok[1] == "||":
            take()
            rhs = conjunction()
            value = value if truthy(value) else rhs
        return value

    result = disjunction()
    if pos != len(tokens):
        raise ExpressionError(f"cannot evaluate {expr!r} locally")
    return result


def _tokenize(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(expr):
        if expr[i:].strip() == "":
            break
        m = _TOKEN.match(expr, i)
        if not m or m.end() == i:
            raise ExpressionError(f"cannot evaluate {expr!r} locally (at {expr[i:]!r})")
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
        i = m.end()
    return tokens


def _lookup(ref: str, ctx: dict[str, Any]) -> Any:
    parts = ref.split(".")
    if parts[0] not in ctx:
        raise ExpressionError(f"context {parts[0]!r} is not available locally ({ref})")
    value: Any = ctx
    for p in parts:
        if not isinstance(value, dict):
            raise ExpressionError(f"{ref}: {p!r} of a non-object")
        if parts[0] == "steps" and p not in value:
            return ""  # outputs of steps that did not run are empty strings on GitHub too
        if p not in value:
            raise ExpressionError(f"unknown {ref}")
        value = value[p]
    return value
