"""Run suites through the router: render each prompt per case the way `promptls run` does, call every target
(model) under a concurrency limit, check the assertions, and summarise per model (pass rate, p50/p95 latency,
tokens, cost per request and per month) with a recommendation.

Requests go out at temperature 0 unless the prompt or the provider config says otherwise, so an unchanged case
is answered from the router's cache on the next run (and reported as `cached`); repeats after the first
(`--repeat`) bypass the cache so that they measure something. Costs are list prices of the answer's tokens
through the catalog (a cache hit costs nothing to serve but has the same cost per request).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promptls.catalog import catalog_for
from promptls.documents.load import parse_document
from promptls.documents.render import render_request
from promptls.eval.assertions import _NOT_JSON, Answer, AssertResult, check, find_json, output_schema_check, score_case
from promptls.eval.cases import parse_provider_id
from promptls.eval.model import Assertion, Case, Finding, PromptSpec, Suite, TargetSpec
from promptls.eval.schema import output_schema
from promptls.eval.settings import EvalSettings
from promptls.providers import KIND_OF_PREFIX
from promptls.providers.base import ChatRequest
from promptls.providers.errors import ProviderError, RouterError
from promptls.router.cache import cache_key, is_sampled
from promptls.router.pricing import FREE_KINDS
from promptls.router.settings import KINDS, ProviderSettings, RouterSettings
from promptls.router.types import LLMRequest
from promptls.tokens import counter_for_tokenizer
from promptls.tokens.chat import count_chat

log = logging.getLogger("promptls.eval")

DEFAULT_OUTPUT_ESTIMATE = 1024  # output tokens assumed per call by --max-cost when nothing sets max_tokens
JUDGE_MAX_TOKENS = 512


@dataclass(slots=True)
class Target:
    """A resolved model to compare: the router chain that serves it and the model asked for."""

    label: str
    chain: list[str]
    kind: str | None
    model: str | None  # None: the prompt's model (run chain) or the provider's own
    use_prompt_model: bool = False
    temperature: float | None = None
    max_tokens: int | None = None
    #: Shown as the result's provider: the configured provider it is based on, or the spec's label.
    provider: str = ""


@dataclass(slots=True)
class CaseResult:
    suite: str
    prompt: str
    target: Target
    case: Case
    repeat: int
    provider: str
    model: str
    passed: bool = False
    score: float = 0.0
    cost_usd: float | None = None
    latency_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False
    error: str | None = None
    output: str = ""
    checks: list[AssertResult] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        if self.error:
            return [{"type": "error", "message": self.error, "file": self.case.path, "line": self.case.line}]
        return [{"type": r.assertion.label, "message": r.reason, "file": r.assertion.path or self.case.path,
                 "line": r.assertion.line or self.case.line} for r in self.checks
                if not r.passed and r.assertion.weight > 0]  # weight 0: informative, never a failure


@dataclass(slots=True)
class ModelSummary:
    label: str
    provider: str
    model: str
    cases: int
    passed: int
    pass_rate: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    tokens_per_request: float
    cost_per_request_usd: float | None
    monthly_usd: float | None
    cached: int
    meets_targets: bool


@dataclass(slots=True)
class EvalReport:
    results: list[CaseResult]
    models: list[ModelSummary]
    recommended: ModelSummary | None
    settings: EvalSettings
    spent_usd: float = 0.0
    judge_calls: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results) and all(m.meets_targets for m in self.models)


@dataclass(slots=True)
class Job:
    suite: Suite
    prompt: PromptSpec
    case: Case
    target: Target
    repeat: int
    request: Any = None  # LLMRequest once rendered
    render_error: str | None = None
    schema: dict[str, Any] | None = None


# -- targets ------------------------------------------------------------------------------------------------------


def _guess_kind(model: str, settings: RouterSettings, catalog: Any) -> str | None:
    if model.startswith("claude"):
        return "anthropic"
    if model.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    if model.startswith("gemini"):
        return "gemini"
    for ps in settings.providers.values():
        if ps.model == model:
            return ps.kind
    if catalog is not None:
        info = catalog.resolve(model).info
        if info is not None:
            prov = info.provider.split("_")[0].split("-")[0]
            return {"vertex": "gemini", "google": "gemini"}.get(prov, prov) if prov in (*KINDS, "vertex", "google") \
                else None
    return None


def resolve_target(spec: TargetSpec, settings: RouterSettings, catalog: Any) -> Target | str:
    """A Target, registering a derived provider in `settings.providers` when the spec needs one; or a message."""
    if spec.ref is None:
        return Target("run", settings.chain("run"), None, None, use_prompt_model=True, provider="run")
    ref = spec.ref
    label = spec.label or ref
    overrides = spec.base_url or spec.api_key_env or spec.max_tokens is not None
    if ref in settings.providers:
        ps = settings.providers[ref]
        if not overrides:
            return Target(label, [ref], ps.kind, ps.model, temperature=spec.temperature, max_tokens=spec.max_tokens,
                          provider=spec.label or ref)
        kind, model = ps.kind, ps.model
    else:
        kind, model, problem = parse_provider_id(ref)
        if problem:
            return problem
        if kind is None:
            prefix, sep, rest = ref.partition("/")
            if sep and prefix in KIND_OF_PREFIX:
                kind, model = KIND_OF_PREFIX[prefix], rest
            else:
                kind, model = _guess_kind(ref, settings, catalog), ref
        if kind is None:
            return (f"'{ref}' is neither a provider in promptls.toml ({', '.join(settings.providers) or 'none'}) "
                    "nor a model whose provider promptls can tell; write it as kind/model, e.g. openai/" + ref)
    run_chain = settings.chain("run")
    bases = sorted((n for n, p in settings.providers.items() if p.kind == kind),
                   key=lambda n: run_chain.index(n) if n in run_chain else len(run_chain))
    base = settings.providers[bases[0]] if bases else ProviderSettings(kind=kind)
    ps = dataclasses.replace(base, model=model, params=dict(base.params))
    if spec.base_url:
        ps.base_url = spec.base_url
    if spec.api_key_env:
        ps.api_key_env = spec.api_key_env
    if spec.max_tokens is not None:
        ps.max_tokens = spec.max_tokens
    name = f"eval:{label}"
    settings.providers[name] = ps
    return Target(label, [name], kind, model, temperature=spec.temperature, max_tokens=spec.max_tokens,
                  provider=spec.label or (bases[0] if bases else kind))


# -- rendering ----------------------------------------------------------------------------------------------------


class _Prompts:
    """Parsed prompts and rendered requests, each made once per run."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._schemas: dict[str, dict[str, Any] | None] = {}
        self._rendered: dict[tuple[str, str], Any] = {}

    def schema(self, prompt: PromptSpec) -> dict[str, Any] | None:
        if prompt.path not in self._schemas:
            try:
                self._schemas[prompt.path] = output_schema(parse_document(prompt.path, prompt.text, self.config))
            except Exception as exc:  # an unparsable frontmatter has no schema to check; render reports it
                log.debug("no output schema for %s: %s", prompt.path, exc)
                self._schemas[prompt.path] = None
        return self._schemas[prompt.path]

    def render(self, prompt: PromptSpec, vars_: dict[str, Any]) -> Any:
        key = (prompt.path, json.dumps(vars_, sort_keys=True, default=str))
        hit = self._rendered.get(key)
        if hit is None:
            hit = self._rendered[key] = render_request(prompt.path, prompt.text, vars_, config=self.config)
        return hit


def build_request(rendered: Any, target: Target, prompt: PromptSpec, repeat: int) -> Any:
    """The LLMRequest `promptls run` would send for this rendering, on this target."""
    params = dict(rendered.params or {})
    temperature = params.pop("temperature", None)
    max_out = params.pop("max_output", None) or params.pop("max_tokens", None)
    if target.temperature is not None:
        temperature = target.temperature
    elif not isinstance(temperature, int | float):
        temperature = 0.0  # reproducible, and cacheable: the next run of an unchanged case is a cache hit
    max_tokens = target.max_tokens or (int(max_out) if isinstance(max_out, int | float) else None)
    return LLMRequest(
        purpose="run",
        messages=rendered.messages,
        model=rendered.model if target.use_prompt_model else None,
        max_tokens=max_tokens,
        temperature=float(temperature),
        stream=True,
        source_paths=[prompt.path],
        chain=list(target.chain),
        cache=False if repeat > 0 else None,
    )


# -- the run ------------------------------------------------------------------------------------------------------


class Evaluation:
    """One `promptls eval`: targets resolved, jobs rendered; `estimate()` before `run()`."""

    def __init__(
        self,
        suites: list[Suite],
        router_settings: RouterSettings,
        eval_settings: EvalSettings,
        config: Any,
        *,
        models: list[str] | None = None,
        repeat: int = 1,
    ) -> None:
        # Repeats are identical requests sent on purpose: coalescing them into one call would measure nothing.
        self.settings = dataclasses.replace(router_settings, providers=dict(router_settings.providers),
                                            cache=dataclasses.replace(router_settings.cache, coalesce=False))
        self.eval = eval_settings
        self.config = config
        self.catalog = catalog_for(config)  # the configuration's prices, built once per configuration
        self.findings: list[Finding] = []
        self.prompts = _Prompts(config)
        self.jobs: list[Job] = []
        self._targets: dict[tuple[Any, ...], Target] = {}
        self.concurrency = eval_settings.concurrency
        cli_targets = [TargetSpec(ref=m.strip()) for m in (models or []) if m.strip()]
        for suite in suites:
            if suite.concurrency:
                self.concurrency = min(self.concurrency, suite.concurrency) if self.concurrency else suite.concurrency
            targets = [t for spec in (cli_targets or suite.targets) if (t := self._target(spec)) is not None]
            n = max(1, suite.repeat or 1) * max(1, repeat)
            for prompt in suite.prompts:
                schema = self.prompts.schema(prompt)
                for case in suite.cases:
                    case_targets = targets
                    if case.provider is not None and not cli_targets:
                        t = self._target(case.provider)
                        case_targets = [t] if t is not None else []
                    for target in case_targets:
                        for r in range(n):
                            self.jobs.append(self._job(suite, prompt, case, target, r, schema))
        self.judge_chain = list(eval_settings.judge) or self.settings.chain("action")
        unknown = [j for j in eval_settings.judge if j not in self.settings.providers]
        if unknown:
            self.findings.append(Finding("promptls.toml", 1, "error",
                                         f"eval.judge names unknown provider(s) {', '.join(unknown)}"))

    def _target(self, spec: TargetSpec) -> Target | None:
        key = (spec.ref, spec.label, spec.base_url, spec.api_key_env, spec.temperature, spec.max_tokens)
        if key not in self._targets:
            t = resolve_target(spec, self.settings, self.catalog)
            if isinstance(t, str):
                self.findings.append(Finding(spec.path or "--models", spec.line or 1, "error", t))
                return None
            self._targets[key] = t
        return self._targets[key]

    def _job(self, suite: Suite, prompt: PromptSpec, case: Case, target: Target, repeat: int,
             schema: dict[str, Any] | None) -> Job:
        job = Job(suite, prompt, case, target, repeat, schema=schema)
        rendered = self.prompts.render(prompt, case.vars)
        if rendered.error:
            job.render_error = rendered.error
        elif rendered.missing:
            job.render_error = f"no value for input(s) {', '.join(rendered.missing)} (add them to the case's vars)"
        elif not rendered.messages:
            job.render_error = "the prompt rendered no messages"
        else:
            job.request = build_request(rendered, target, prompt, repeat)
        return job

    @property
    def targets(self) -> list[Target]:
        return list(self._targets.values())

    # -- cost -------------------------------------------------------------------------------------------------
    def price(self, kind: str | None, model: str | None, input_tokens: int, output_tokens: int,
              cached_input_tokens: int = 0) -> float | None:
        """List price through the catalog (the one pricing path); local backends are free."""
        if kind in FREE_KINDS:
            return 0.0
        if not model:
            return None
        try:
            return self.catalog.price_call(model, input_tokens, output_tokens,
                                           min(cached_input_tokens, input_tokens)).cost_usd
        except ValueError:
            return None

    def _serving(self, job: Job) -> tuple[str | None, str | None, ProviderSettings | None]:
        """(kind, model, provider settings) that will most likely answer a job: the first provider of its chain
        with a key (the run chain fails over, so this is an estimate)."""
        for name in job.target.chain:
            ps = self.settings.providers.get(name)
            if ps is None:
                continue
            env = ps.api_key_env or {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                                     "gemini": "GEMINI_API_KEY"}.get(ps.kind)
            if env and not os.environ.get(env) and len(job.target.chain) > 1:
                continue
            model = job.request.model if job.request is not None and job.request.model else ps.model
            if job.request is not None and job.request.model and "/" in job.request.model:
                model = job.request.model.split("/", 1)[1]
            return ps.kind, model, ps
        return job.target.kind, job.target.model, None

    def estimate(self, router: Any = None) -> tuple[float, list[str], int]:
        """(USD, unpriced models, calls) the run may spend, before anything is sent: prompt tokens counted with
        the model's tokenizer, plus max_tokens (else 1024) of output, at catalog prices; a call the router's
        cache would answer costs nothing; each llm-rubric adds a judge call."""
        total = 0.0
        unpriced: set[str] = set()
        calls = 0
        counters: dict[str, Any] = {}
        for job in self.jobs:
            if job.request is None:
                continue
            kind, model, ps = self._serving(job)
            if router is not None and self._cached(router, job):
                continue
            calls += 1
            info = self.catalog.resolve(model).info if model else None
            tok = info.tokenizer if info is not None else "o200k_base"
            counter = counters.get(tok) or counters.setdefault(tok, counter_for_tokenizer(tok))
            prompt_tokens = count_chat([(m["role"], m["content"] if isinstance(m["content"], str)
                                         else json.dumps(m["content"])) for m in job.request.messages], counter).total
            out = job.request.max_tokens or (ps.max_tokens if ps is not None else None) or DEFAULT_OUTPUT_ESTIMATE
            cost = self.price(kind, model, prompt_tokens, out)
            if cost is None:
                unpriced.add(model or job.target.label)
            else:
                total += cost
            for a in job.case.asserts:
                if a.type == "llm-rubric":
                    calls += 1
                    jkind, jmodel = self._judge_model(a)
                    jcost = self.price(jkind, jmodel, prompt_tokens + out + 200, JUDGE_MAX_TOKENS)
                    if jcost is None:
                        unpriced.add(jmodel or "judge")
                    else:
                        total += jcost
        return total, sorted(unpriced), calls

    def _judge_model(self, a: Assertion) -> tuple[str | None, str | None]:
        chain = self._judge_chain(a)
        ps = self.settings.providers.get(chain[0]) if chain else None
        return (ps.kind, ps.model) if ps is not None else (None, None)

    def _judge_chain(self, a: Assertion) -> list[str]:
        if a.provider is not None:
            t = self._target(a.provider)
            if t is not None:
                return t.chain
        return self.judge_chain

    def _cached(self, router: Any, job: Job) -> bool:
        """Whether the router's cache holds this job's answer (single-provider targets; others count as not)."""
        req = job.request
        if req.cache is False or not self.settings.cache.enabled or len(job.target.chain) != 1:
            return False
        if is_sampled(req.temperature) and not self.settings.cache.cache_sampled:
            return False
        cache = router.cache
        if cache is None:
            return False
        try:
            p = router.provider(job.target.chain[0])
            preq = ChatRequest(messages=req.messages, model=req.model or p.model,
                               max_tokens=req.max_tokens or p.settings.max_tokens, temperature=req.temperature,
                               params={**p.settings.params, **req.params}, suffix=req.suffix, stream=req.stream)
            return cache.get(cache_key(p.kind, p.base_url, preq)) is not None
        except Exception as exc:  # an estimate: when in doubt, count the call
            log.debug("cache probe failed: %s", exc)
            return False

    # -- running ----------------------------------------------------------------------------------------------
    async def run(self, router: Any, progress: Callable[[int, int], None] | None = None) -> EvalReport:
        sem = asyncio.Semaphore(max(1, self.concurrency))
        total = len(self.jobs)
        done = 0
        spent = [0.0]
        judge_calls = [0]

        async def judge(a: Assertion, rubric: str, output: str) -> tuple[bool, float, str]:
            req = LLMRequest(purpose="action", messages=_judge_messages(rubric, output), temperature=0.0,
                             max_tokens=JUDGE_MAX_TOKENS, chain=self._judge_chain(a), stream=True)
            try:
                async with sem:
                    comp = await router.complete(req)
            except (ProviderError, RouterError) as exc:
                return False, 0.0, f"grading failed: {exc}"
            judge_calls[0] += 1
            if not comp.outcome.cached:
                spent[0] += comp.outcome.cost_usd or 0.0
            return parse_verdict(comp.text)

        async def one(job: Job) -> CaseResult:
            nonlocal done
            try:
                return await self._run_job(router, job, sem, judge, spent)
            finally:
                done += 1
                if progress is not None:
                    progress(done, total)

        results = list(await asyncio.gather(*(one(j) for j in self.jobs)))
        models = self.summarise(results)
        return EvalReport(results, models, recommend(models), self.eval, spent_usd=spent[0],
                          judge_calls=judge_calls[0])

    async def _run_job(self, router: Any, job: Job, sem: asyncio.Semaphore, judge: Any,
                       spent: list[float]) -> CaseResult:
        t = job.target
        res = CaseResult(job.suite.path, job.prompt.label, t, job.case, job.repeat, provider=t.provider,
                         model=t.model or "")
        if job.request is None:
            res.error = job.render_error
            return res
        try:
            async with sem:
                comp = await router.complete(job.request)
        except (ProviderError, RouterError) as exc:
            res.error = f"call failed: {exc}"
            return res
        o = comp.outcome
        if t.use_prompt_model:
            res.provider = o.provider
        res.model = o.model or res.model
        res.output = comp.text
        res.cached = o.cached
        res.latency_ms = o.latency_ms
        res.input_tokens, res.output_tokens = o.usage.input_tokens, o.usage.output_tokens
        res.cost_usd = self.price(o.kind, o.model, o.usage.input_tokens, o.usage.output_tokens,
                                  o.usage.cached_input_tokens)
        if not o.cached:
            spent[0] += o.cost_usd or 0.0
        ans = Answer(comp.text, job.case.vars, None if o.cached else o.latency_ms, res.cost_usd,
                     res.input_tokens, res.output_tokens, o.cached)
        checks = [await check(a, ans, judge) for a in job.case.asserts]
        if job.schema is not None:
            checks.append(output_schema_check(job.schema, ans, job.prompt.path))
        res.checks = checks
        res.passed, res.score = score_case(job.case, checks)
        return res

    def summarise(self, results: list[CaseResult]) -> list[ModelSummary]:
        groups: dict[int, list[CaseResult]] = {}
        order: list[Target] = []
        for r in results:
            if id(r.target) not in groups:
                order.append(r.target)
            groups.setdefault(id(r.target), []).append(r)
        out = []
        for target in order:
            rs = groups[id(target)]
            answered = [r for r in rs if r.error is None]
            lat = sorted(r.latency_ms for r in answered if not r.cached and r.latency_ms is not None)
            costs = [r.cost_usd for r in answered]
            cost = (sum(c for c in costs if c is not None) / len(costs)) if costs and None not in costs else None
            passed = sum(r.passed for r in rs)
            provider = _most_common([r.provider for r in answered] or [rs[0].provider])
            model = _most_common([r.model for r in answered] or [rs[0].model])
            cpm = self.eval.calls_per_month
            s = ModelSummary(
                label=target.label, provider=provider, model=model, cases=len(rs), passed=passed,
                pass_rate=passed / len(rs) if rs else 0.0,
                p50_latency_ms=_percentile(lat, 50), p95_latency_ms=_percentile(lat, 95),
                tokens_per_request=(sum(r.input_tokens + r.output_tokens for r in answered) / len(answered))
                if answered else 0.0,
                cost_per_request_usd=cost,
                monthly_usd=None if cost is None or cpm is None else cost * cpm,
                cached=sum(r.cached for r in rs), meets_targets=False,
            )
            s.meets_targets = s.pass_rate >= self.eval.accuracy_target and (
                self.eval.latency_target_ms is None or s.p50_latency_ms is None
                or s.p50_latency_ms <= self.eval.latency_target_ms)
            out.append(s)
        return out


def recommend(models: list[ModelSummary]) -> ModelSummary | None:
    """The cheapest model meeting the accuracy and latency targets (ties: the faster)."""
    ok = [m for m in models if m.meets_targets and m.cost_per_request_usd is not None]
    if not ok:
        return None
    return min(ok, key=lambda m: (m.cost_per_request_usd, m.p50_latency_ms or 0.0))


def _most_common(items: list[str]) -> str:
    return max(set(items), key=lambda x: (items.count(x), -items.index(x))) if items else ""


def _percentile(sorted_values: list[float], pct: int) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    # inclusive method: p50 of [a, b] is their mean, p95 interpolates between the two largest
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[pct - 1]


_JUDGE_SYSTEM = (
    "You grade an AI answer against a rubric. Reply with one JSON object and nothing else: "
    '{"reason": "<one sentence>", "pass": true or false, "score": <number from 0 to 1>}.'
)


def _judge_messages(rubric: str, output: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": _JUDGE_SYSTEM},
            {"role": "user", "content": f"<rubric>\n{rubric}\n</rubric>\n<answer>\n{output}\n</answer>"}]


def parse_verdict(text: str) -> tuple[bool, float, str]:
    v = find_json(text)
    if v is _NOT_JSON or not isinstance(v, dict) or not isinstance(v.get("pass"), bool):
        return False, 0.0, f"no verdict in the judge's answer {text[:80]!r}"
    score = v.get("score")
    score = float(score) if isinstance(score, int | float) and not isinstance(score, bool) else float(v["pass"])
    return v["pass"], max(0.0, min(1.0, score)), str(v.get("reason") or ("pass" if v["pass"] else "fail"))
