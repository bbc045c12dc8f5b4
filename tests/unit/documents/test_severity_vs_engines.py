"""Severities that match the engine: for every error-severity template or format rule, the input that triggers it
is run through the reference engine, and what the engine accepts (compiles and renders without error) is never
reported as an error.

Reference engines: Handlebars.js, mustache.js and Google's `dotprompt` package from the npm registry (installed once
into a cache folder, pinned, run by one node script for all cases at once: tests/engines/render.js), jinja2's
sandbox, and PyYAML's safe_load for frontmatter.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from promptls.analysis.engine import analyze_path
from promptls.analysis.rules.template import ISSUE_CODES
from promptls.config import Config
from promptls.core.findings import Severity
from promptls.core.registry import RULES
from promptls.documents.prompt.common import analyze_body

NPM_PACKAGES = ("handlebars@4.7.8", "mustache@4.2.0", "dotprompt@1.1.2")
RENDER_JS = Path(__file__).resolve().parents[2] / "engines" / "render.js"


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    file: str  # name of the prompt file; its whole text goes to the engine unless `template` is set
    text: str
    engine: str  # handlebars | mustache | dotprompt | jinja | yaml
    template: str | None = None
    partials: dict[str, str] = field(default_factory=dict)  # name -> text, written as `_name.prompt`
    # The engine renders it but the request it makes fails at the provider (checked by its own test below).
    provider_rejects: bool = False


CASES = [
    # -- Handlebars (Dotprompt bodies and *.hbs) ---------------------------------------------------
    Case("hb-syntax-call", "TP001", "a.hbs", "Hi {{upper(name)}}\n", "handlebars"),
    Case("hb-unclosed-comment", "TP001", "a.hbs", "Hi {{!-- note\n", "handlebars"),
    Case("hb-unclosed-if", "TP002", "a.hbs", "{{#if x}}hi\n", "handlebars"),
    Case("hb-close-never-opened", "TP003", "a.hbs", "hi {{/if}}\n", "handlebars"),
    Case("hb-close-other-name", "TP003", "a.hbs", "{{#if x}}hi{{/each}}\n", "handlebars"),
    Case("hb-stray-close", "TP004", "a.hbs", "hi }} there\n", "handlebars"),
    Case("hb-comment-with-close", "TP004", "a.hbs", "{{! see {{x}} here }}\nhi\n", "handlebars"),
    Case("hb-unterminated-open", "TP004", "a.hbs", "Hello {{name\n", "handlebars"),
    Case("hb-open-inside-open", "TP004", "a.hbs", "Hi {{a {{b}}\n", "handlebars"),
    Case("hb-triple-closed-double", "TP001", "a.hbs", "Hi {{{name}}\n", "handlebars"),
    Case("hb-else-outside-block", "TP001", "a.hbs", "a {{else}} b\n", "handlebars"),
    Case("hb-two-elses", "TP001", "a.hbs", "{{#if x}}a{{else}}b{{else}}c{{/if}}\n", "handlebars"),
    Case("hb-unclosed-raw-block", "TP002", "a.hbs", "{{{{raw}}}} x\n", "handlebars"),
    Case("hb-unclosed-bracket", "TP001", "a.hbs", "{{[a}}\n", "handlebars"),
    Case("hb-unterminated-string", "TP001", "a.hbs", "{{x \"a}}\n", "handlebars"),
    Case("hb-jinja-tag", "TP005", "a.hbs", "{% if x %}hi{% endif %}\n", "handlebars"),
    Case("hb-jinja-comment", "TP005", "a.hbs", "{# note #}hi\n", "handlebars"),
    Case("hb-jinja-filter", "TP005", "a.hbs", "{{ name | upper }}\n", "handlebars"),
    Case("dp-unknown-role", "TP007", "a.prompt", '---\nmodel: gpt-4o\n---\n{{role "sistem"}}hi\n', "dotprompt",
         provider_rejects=True),
    Case("dp-circular-partial", "PT002", "a.prompt", "---\nmodel: gpt-4o\n---\n{{> b}}\n", "handlebars",
         template="{{> b}}", partials={"b": "{{> a}}", "a": "{{> b}}"}),
    # -- Mustache ----------------------------------------------------------------------------------
    Case("mu-spaces-in-name", "TP001", "a.mustache", "Hi {{first name}}\n", "mustache"),
    Case("mu-empty-tag", "TP001", "a.mustache", "Hi {{}}\n", "mustache"),
    Case("mu-bad-delimiters", "TP001", "a.mustache", "{{=<%=}}\n", "mustache"),
    Case("mu-unclosed-section", "TP002", "a.mustache", "{{#items}}x\n", "mustache"),
    Case("mu-close-never-opened", "TP003", "a.mustache", "x{{/items}}\n", "mustache"),
    Case("mu-stray-close", "TP004", "a.mustache", "hi }} there\n", "mustache"),
    Case("mu-unterminated-open", "TP004", "a.mustache", "Hello {{name\n", "mustache"),
    Case("mu-open-inside-open", "TP004", "a.mustache", "Hi {{a {{b}}\n", "mustache"),
    Case("mu-comment-with-close", "TP003", "a.mustache", "{{! a {{#x}} b {{/x}}\n", "mustache"),
    Case("mu-section-open-inside-open", "TP004", "a.mustache", "{{#a {{b}}\n", "mustache"),
    Case("mu-close-other-name", "TP003", "a.mustache", "{{#a}}x{{/b}}\n", "mustache"),
    Case("mu-jinja-tag", "TP005", "a.mustache", "{% if x %}hi{% endif %}\n", "mustache"),
    Case("mu-jinja-filter", "TP005", "a.mustache", "{{name | upper}}\n", "mustache"),
    Case("mu-handlebars-else", "TP005", "a.mustache", "{{#x}}a{{else}}b{{/x}}\n", "mustache"),
    Case("mu-handlebars-call", "TP005", "a.mustache", "{{upper(name)}}\n", "mustache"),
    Case("mu-handlebars-if", "TP005", "a.mustache", "{{#if x}}a{{/if}}\n", "mustache"),
    # -- Jinja2 ------------------------------------------------------------------------------------
    Case("j2-syntax", "TP001", "a.j2", "Hi {{ name }\n", "jinja"),
    Case("j2-unclosed-if", "TP002", "a.j2", "{% if x %}hi\n", "jinja"),
    Case("j2-close-never-opened", "TP003", "a.j2", "hi {% endif %}\n", "jinja"),
    Case("j2-unclosed-comment-first", "TP001", "a.j2", "{#x", "jinja"),
    Case("j2-unclosed-comment", "TP001", "a.j2", "hi {# x\n", "jinja"),
    Case("j2-unclosed-for", "TP002", "a.j2", "{% for x in xs %}{{ x }}\n", "jinja"),
    Case("j2-close-other-name", "TP003", "a.j2", "{% if x %}a{% endfor %}\n", "jinja"),
    Case("j2-unknown-tag", "TP001", "a.j2", "{% frobnicate %}\n", "jinja"),
    Case("j2-handlebars-if", "TP005", "a.j2", "{{#if x}}hi{{/if}}\n", "jinja"),
    Case("j2-handlebars-else", "TP005", "a.j2", "{% if x %}a{{else}}b{% endif %}\n", "jinja"),
    Case("j2-handlebars-partial", "TP005", "a.j2", "{{> header}}\n", "jinja"),
    Case("j2-handlebars-comment", "TP005", "a.j2", "{{! note }}hi\n", "jinja"),
    Case("j2-handlebars-else-if", "TP005", "a.j2", "{% if x %}a{{else if y}}b{% endif %}\n", "jinja"),
    Case("j2-role-typo", "TP007", "a.j2", "system:\nBe brief.\nsustem:\nhi\nuser:\n{{ q }}\n", "jinja"),
    # -- frontmatter -------------------------------------------------------------------------------
    Case("fm-yaml-syntax", "FM001", "a.prompt", "---\nmodel: [gpt-4o\n---\nhi\n", "yaml", template="model: [gpt-4o\n"),
    Case("fm-unclosed", "FM002", "a.prompt", "---\nmodel: gpt-4o\nHello {{name}}\n", "dotprompt"),
]

# Error-severity rules of the template/format families whose verdict is not a template engine's, and why.
NOT_AN_ENGINE_VERDICT = {
    "FM004": "a value of the wrong type parses as YAML; the runtime's schema or the provider API rejects it",
    "FM005": "a value outside the allowed set parses as YAML; the runtime or the provider API rejects it",
    "RF001": "policy: Prompty reads a `${file:}` outside the prompt's folder; reading it is the leak",
    "RF003": "the Prompty runtime fails to load a prompt whose `${file:}` does not exist",
    "RF004": "the runtime blocks on a FIFO or exhausts memory on an endless file; promptls refuses to read it",
}
ENGINE_FAMILIES = ("TP", "FM", "VR", "PT", "RF")


def _engines_dir() -> Path:
    root = Path(os.environ.get("PROMPTLS_CACHE_DIR") or Path.home() / ".cache" / "promptls")
    return root / "engines"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _install_node_engines() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed to run Handlebars.js, mustache.js and dotprompt")
    prefix = _engines_dir()
    modules = prefix / "node_modules"
    wanted = {spec.rsplit("@", 1)[0]: spec.rsplit("@", 1)[1] for spec in NPM_PACKAGES}
    if all(_installed_version(modules, name) == version for name, version in wanted.items()):
        return modules
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                               "--no-save", *NPM_PACKAGES], capture_output=True, text=True, timeout=100)
    except subprocess.TimeoutExpired:
        _unavailable("npm install of the reference engines timed out")
    if done.returncode != 0:
        _unavailable(f"npm could not install {', '.join(NPM_PACKAGES)}: {done.stderr.strip()[-400:]}")
    return modules


def _installed_version(modules: Path, name: str) -> str | None:
    try:
        return json.loads((modules / name / "package.json").read_text("utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None


def _jinja(text: str) -> dict:
    try:
        return {"ok": True, "output": SandboxedEnvironment().from_string(text).render()}
    except Exception as err:
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}


def _yaml(text: str) -> dict:
    try:
        return {"ok": True, "output": repr(yaml.safe_load(text))}
    except yaml.YAMLError as err:
        return {"ok": False, "error": str(err).splitlines()[0]}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    """Every case through its engine: the node ones in one run of tests/engines/render.js."""
    out: dict[str, dict] = {}
    node_cases = []
    for case in CASES:
        template = case.template if case.template is not None else case.text
        if case.engine == "jinja":
            out[case.id] = _jinja(template)
        elif case.engine == "yaml":
            out[case.id] = _yaml(template)
        else:
            node_cases.append({"id": case.id, "engine": case.engine, "template": template,
                               "partials": case.partials})
    modules = _install_node_engines()
    done = subprocess.run(["node", str(RENDER_JS)], input=json.dumps(node_cases), capture_output=True, text=True,
                          timeout=60, env={**os.environ, "NODE_PATH": str(modules)})
    assert done.returncode == 0, done.stderr
    out.update(json.loads(done.stdout))
    return out


# Pieces of templates for the differential check: random texts of a few of them, through promptls and the engine.
_HB_ATOMS = ("{{", "}}", "{{#if x}}", "{{/if}}", "{{else}}", "{{!", "x", " ", "{", "}", "~", "^", ">", "|", "(", ")",
             "{{{", "}}}", "#", "/", "a b", '"s"', "=", "..", "@", "[", "]", "{{#each xs}}", "{{/each}}", "\n",
             "{{^x}}", "{{/x}}", "{{#x}}", "&", "--", "{{!--", "--}}", ".", "{%", "%}", "{#", "#}")
_JINJA_ATOMS = ("{{", "}}", "{%", "%}", "{#", "#}", " if x ", " endif ", " for x in xs ", " endfor ", " else ", "x",
                " ", "|", "upper", "(", ")", "{{#if x}}", "{{/if}}", "{{else}}", "{{> p}}", "{{! c}}", "-", "~",
                "+", "raw", "endraw", "\n", "'", '"', "[", "]", ".", ",", "set y = 1", "{{{x}}}")
_RANDOM_PER_ENGINE = 800


def _random_texts(atoms: tuple[str, ...], seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(atoms) for _ in range(rnd.randint(1, 6))) for _ in range(_RANDOM_PER_ENGINE)]


def _error_issues(engine: str, text: str) -> list[str]:
    info = analyze_body(engine, text, 0)
    return [f"{ISSUE_CODES.get(i.kind, 'TP001')} {i.message}" for i in info.issues
            if not i.reaches_model and RULES[ISSUE_CODES.get(i.kind, "TP001")].severity == Severity.ERROR]


def test_random_templates_the_engines_accept_get_no_error() -> None:
    """Differential: random templates through Handlebars.js, mustache.js and jinja2, and through promptls's own
    parsers; none that the engine renders may get an error-severity finding."""
    texts = {"handlebars": _random_texts(_HB_ATOMS, 13), "mustache": _random_texts(_HB_ATOMS, 17)}
    cases = [{"id": f"{engine}-{k}", "engine": engine, "template": t}
             for engine, ts in texts.items() for k, t in enumerate(ts)]
    modules = _install_node_engines()
    done = subprocess.run(["node", str(RENDER_JS)], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=60, env={**os.environ, "NODE_PATH": str(modules)})
    assert done.returncode == 0, done.stderr
    verdicts = json.loads(done.stdout)
    wrong = [(c["engine"], c["template"], errs) for c in cases
             if verdicts[c["id"]]["ok"] and (errs := _error_issues(c["engine"], c["template"]))]
    wrong += [("jinja", t, errs) for t in _random_texts(_JINJA_ATOMS, 19)
              if _jinja(t)["ok"] and (errs := _error_issues("jinja2", t))]
    assert wrong == [], f"{len(wrong)} accepted templates reported as errors, e.g. {wrong[:5]}"


def _findings(case: Case, tmp_path: Path) -> list:
    path = tmp_path / case.file
    path.write_text(case.text, "utf-8")
    for name, text in case.partials.items():
        (tmp_path / f"_{name}.prompt").write_text(text, "utf-8")
    report, _ = analyze_path(str(path), Config())
    return [f for f in report.findings if f.code == case.rule]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_what_the_engine_accepts_is_never_an_error(case: Case, verdicts: dict[str, dict], tmp_path: Path) -> None:
    found = _findings(case, tmp_path)
    assert found, f"the fixture does not trigger {case.rule}"
    verdict = verdicts[case.id]
    severities = {f.severity for f in found}
    if verdict["ok"] and case.provider_rejects:
        assert Severity.ERROR in severities
    elif verdict["ok"]:
        assert Severity.ERROR not in severities, (
            f"{case.engine} accepts {case.text!r} (renders {verdict['output']!r}) but {case.rule} is an error")
    else:
        assert Severity.ERROR in severities, (
            f"{case.engine} rejects {case.text!r} ({verdict['error']}) but {case.rule} is only a "
            f"{sorted(s.label for s in severities)}")


def test_an_unknown_dotprompt_role_reaches_the_provider(verdicts: dict[str, dict]) -> None:
    """Why TP007 stays an error: Dotprompt passes the role on, and providers refuse unknown roles."""
    verdict = verdicts["dp-unknown-role"]
    assert verdict["ok"], verdict
    assert [m["role"] for m in json.loads(verdict["output"])["messages"]] == ["sistem"]


def test_every_error_rule_of_the_template_families_is_checked() -> None:
    errors = {code for code, r in RULES.items() if r.severity == Severity.ERROR and code.startswith(ENGINE_FAMILIES)}
    covered = {c.rule for c in CASES} | set(NOT_AN_ENGINE_VERDICT)
    assert errors <= covered, f"error-severity rules without an engine case: {sorted(errors - covered)}"
