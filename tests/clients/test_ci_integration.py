"""CI integration, run for real on this machine.

- The composite GitHub Action (`clients/ci/action.yml`): its `run:` steps execute locally on the bundled example
  prompts (see `fixtures_ci/local_action.py`), the SARIF it writes validates against the SARIF 2.1.0 schema, its
  annotations and outputs match the report; its `uses:` steps are checked for what they would be given.
- The GitLab CI example's script runs as written.
- The pre-commit hooks (`.pre-commit-hooks.yaml`) run through `pre-commit try-repo` on a fixture git repository.

Offline: the `language: python` hook and the action's install step pip-install promptls from source with
`PIP_NO_INDEX=1` and a wheelhouse of promptls's dependencies; the wheelhouse is downloaded once from PyPI by a
fixture (like any test dependency) and cached, so the runs themselves reach no network.

Everything that runs promptls or pre-commit end to end is marked slow (seconds each on 2 cores).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.timeout(900)  # builds a wheelhouse and installs promptls offline

REPO = Path(__file__).resolve().parents[2]
CI_DIR = REPO / "clients" / "ci"
EXAMPLES = CI_DIR / "examples"
PROMPTS = EXAMPLES / "prompts"
FIXTURES = Path(__file__).resolve().parent / "fixtures_ci"
VENV_BIN = Path(sys.executable).parent

# Ground truth of the bundled examples: which files are broken, and which of those have error-level findings.
CLEAN = {"support_reply.prompt", "summarize.prompty"}
BROKEN = {"welcome_email.prompt", "classify.prompty", "extract.prompt"}
WITH_ERRORS = {"welcome_email.prompt", "extract.prompt"}

ANNOTATION = re.compile(
    r"^::(?P<level>error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+)[^:]*?,title=(?P<title>[^:]+)::"
    r"(?P<msg>.+)$")


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


local_action = _module("promptls_test_local_action", FIXTURES / "local_action.py")


@pytest.fixture(scope="session")
def sarif_validator() -> Any:
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _env(**extra: str) -> dict[str, str]:
    """This environment, minus anything that would make a run depend on the outer CI or pip setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "PIP_", "PRE_COMMIT"))}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.update(extra)
    return env


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(PROMPTS, ws / "prompts")
    return ws


def _check_sarif(path: Path, workspace: Path, validator: Any) -> list[dict[str, Any]]:
    """Validate a SARIF file and its locations (as code scanning needs them); return its results."""
    log = json.loads(path.read_text())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "SARIF does not match the 2.1.0 schema:\n" + "\n".join(
        f"{list(e.path)}: {e.message}" for e in errors[:10])
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "promptls"
    rule_ids = {r["id"] for r in run["tool"]["driver"].get("rules", [])}
    root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert Path(urlparse(root).path).resolve() == workspace.resolve()
    for res in run["results"]:
        assert res["ruleId"] in rule_ids
        loc = res["locations"][0]["physicalLocation"]
        art = loc["artifactLocation"]
        # Relative to the checkout, as code scanning maps results onto files in the repository.
        assert art.get("uriBaseId") == "%SRCROOT%" and not art["uri"].startswith(("/", "file:"))
        assert (workspace / art["uri"]).is_file()
        assert loc["region"]["startLine"] >= 1
    return run["results"]


def _by_file(results: list[dict[str, Any]]) -> dict[str, set[str]]:
    """File name → levels of its findings."""
    out: dict[str, set[str]] = {}
    for r in results:
        name = Path(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name
        out.setdefault(name, set()).add(r.get("level", "warning"))
    return out


# -- the GitHub Action ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_action_on_examples_with_the_example_workflow_inputs(tmp_path: Path, sarif_validator: Any) -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-workflow.yml").read_text())
    step = next(s for s in workflow["jobs"]["promptls"]["steps"] if "/clients/ci@" in s.get("uses", ""))
    # Expressions in the example (the fork check) need GitHub's event context; locally there is no upload.
    inputs = {k: str(v) for k, v in step["with"].items() if "${{" not in str(v)}
    inputs.update({"install": "false", "upload-sarif": "true"})
    ws = _workspace(tmp_path)
    run = local_action.LocalAction(CI_DIR).run(workspace=ws, temp=tmp_path / "runner", inputs=inputs, env=_env())

    assert run.step("Set up Python").kind == "skipped"
    assert run.step("Install promptls").kind == "skipped"
    check = run.step("Check prompt files")
    assert check.returncode == 0, check.stderr
    upload = run.step("Upload SARIF to code scanning")
    assert upload.kind == "uses" and upload.uses is not None
    assert upload.uses.startswith("github/codeql-action/upload-sarif@")
    assert upload.with_ == {"sarif_file": "promptls.sarif", "category": "promptls"}

    results = _check_sarif(ws / upload.with_["sarif_file"], ws, sarif_validator)
    levels = _by_file(results)
    assert set(levels) >= BROKEN
    for name in WITH_ERRORS:
        assert "error" in levels[name], name
    for name in BROKEN - WITH_ERRORS:
        assert levels[name] & {"error", "warning"}, name
    for name in CLEAN:
        assert levels.get(name, set()) <= {"note"}, name

    # Annotations: one workflow command per finding, on the same files and rules as the SARIF report.
    annotations = [m.groupdict() for line in check.stdout.splitlines() if (m := ANNOTATION.match(line))]
    assert len(annotations) == len(results)
    assert {(a["file"], a["title"]) for a in annotations} == {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in results}
    assert all((ws / a["file"]).is_file() for a in annotations)
    level_of = {"error": "error", "warning": "warning", "notice": "note"}
    assert {level_of[a["level"]] for a in annotations} == {r.get("level", "warning") for r in results}

    # The verdict: the example fails on warnings, and the examples have some.
    assert inputs["fail-on"] == "warning"
    assert run.step("Fail on findings").returncode == 1
    assert run.failed
    assert run.outputs == {"sarif-file": "promptls.sarif", "findings": str(len(results)), "exit-code": "1"}
    assert run.summary.startswith("### promptls")
    assert all(r["ruleId"] in run.summary for r in results)


@pytest.mark.slow
def test_action_passes_clean_prompts(tmp_path: Path, sarif_validator: Any) -> None:
    ws = _workspace(tmp_path)
    inputs = {"paths": "prompts/support_reply.prompt\nprompts/summarize.prompty", "annotations": "false",
              "upload-sarif": "false", "install": "false", "sarif-file": "reports/promptls.sarif"}
    (ws / "reports").mkdir()
    run = local_action.LocalAction(CI_DIR).run(workspace=ws, temp=tmp_path / "runner", inputs=inputs, env=_env())

    assert not run.failed, [(s.name, s.returncode, s.stderr[-2000:]) for s in run.steps]
    assert run.step("Upload SARIF to code scanning").kind == "skipped"
    assert run.step("Fail on findings").returncode == 0
    results = _check_sarif(ws / "reports" / "promptls.sarif", ws, sarif_validator)
    assert set(_by_file(results)) <= CLEAN
    assert all(r.get("level") == "note" for r in results)
    assert "::" not in run.step("Check prompt files").stdout  # annotations off: plain text
    assert run.outputs["exit-code"] == "0"


@pytest.mark.slow
def test_action_usage_error_fails_the_check_step(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    inputs = {"paths": "prompts", "fail-on": "sometimes", "install": "false", "upload-sarif": "true"}
    run = local_action.LocalAction(CI_DIR).run(workspace=ws, temp=tmp_path / "runner", inputs=inputs, env=_env())
    assert run.step("Check prompt files").returncode == 2
    assert run.step("Upload SARIF to code scanning").kind == "skipped"
    assert run.failed


# -- the GitLab example ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_gitlab_example_script(tmp_path: Path, sarif_validator: Any) -> None:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["promptls"]
    ws = _workspace(tmp_path)
    env = _env(**{k: str(v) for k, v in job.get("variables", {}).items()})
    rcs = []
    for line in job["script"]:
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", line], cwd=ws, env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        rcs.append(proc.returncode)
        if proc.returncode:
            break
    # Reports never fail the job; the last line is the verdict, and the examples have errors.
    assert rcs == [0] * (len(job["script"]) - 1) + [1]

    paths = job["artifacts"]["paths"]
    report = job["artifacts"]["reports"]["codequality"]
    results = _check_sarif(ws / paths[0], ws, sarif_validator)
    issues = json.loads((ws / report).read_text())
    assert len(issues) == len(results)
    assert {i["location"]["path"] for i in issues} == {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "severity", "fingerprint", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert (ws / issue["location"]["path"]).is_file()
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)


# -- pre-commit ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pre_commit() -> list[str]:
    """`python -m pre_commit`, installed into this environment if missing."""
    if importlib.util.find_spec("pre_commit") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pre-commit>=4"], check=True,
                       timeout=600)
        importlib.invalidate_caches()
    return [sys.executable, "-m", "pre_commit"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=promptls tests", "-c", "user.email=tests@promptls.invalid",
                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                   cwd=cwd, check=True, capture_output=True, timeout=60)


def _copy_source(dest: Path) -> Path:
    """The files a user gets from the promptls repository that installing it needs, plus the CI client."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "node_modules")
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    if (REPO / "README.md").exists():
        shutil.copy2(REPO / "README.md", dest / "README.md")
    else:  # pyproject names a readme; the real one may not be written yet in a work tree
        (dest / "README.md").write_text("# promptls\n")
    shutil.copytree(REPO / "server", dest / "server", ignore=ignore)
    shutil.copytree(CI_DIR, dest / "clients" / "ci", ignore=ignore)
    return dest


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with the promptls source and its .pre-commit-hooks.yaml, committed (as try-repo needs)."""
    repo = _copy_source(tmp_path_factory.mktemp("hook-repo") / "promptls")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "promptls")
    return repo


def _target_repo(path: Path, names: set[str]) -> Path:
    path.mkdir()
    (path / "prompts").mkdir()
    for name in names:
        shutil.copy2(PROMPTS / name, path / "prompts" / name)
    # Not a prompt file by the hook's `files:` pattern: must not be checked even though it is broken.
    (path / "prompts" / "layout.j2").write_text("{% if user %}\nHello {{ user }\n")
    # A JSONL file that is no dataset: matched by the pattern, left alone by promptls.
    (path / "prompts" / "events.jsonl").write_text('{"ts": 1, "event": "login"}\n')
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    return path


def test_pre_commit_manifest_and_example_config_are_valid(pre_commit: list[str]) -> None:
    manifest = subprocess.run([*pre_commit, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                              capture_output=True, text=True, timeout=120)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    config = subprocess.run([*pre_commit, "validate-config", str(EXAMPLES / "pre-commit-config.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert config.returncode == 0, config.stdout + config.stderr
    hooks = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    example = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text())
    assert {h["id"] for r in example["repos"] for h in r["hooks"]} <= hooks


def _try_repo(pre_commit: list[str], hook_repo: Path, hook: str, target: Path, env: dict[str, str],
              timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*pre_commit, "try-repo", str(hook_repo), hook, "--all-files", "--color", "never"],
                          cwd=target, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_pre_commit_system_hook(pre_commit: list[str], hook_repo: Path, tmp_path: Path) -> None:
    env = _env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    mixed = _try_repo(pre_commit, hook_repo, "promptls-check-system", _target_repo(tmp_path / "mixed",
                      CLEAN | BROKEN), env, 300)
    out = mixed.stdout + mixed.stderr
    assert mixed.returncode == 1, out
    assert "Failed" in out and "- hook id: promptls-check-system" in out
    for name in WITH_ERRORS:
        assert f"prompts/{name}" in out
    assert "TP002" in out and "FM001" in out
    assert "layout.j2" not in out and "events.jsonl" not in out

    code = tmp_path / "code"
    _target_repo(code, CLEAN)
    (code / "bot.py").write_text('import anthropic\nc = anthropic.Anthropic(timeout=9)\n'
                                 'c.messages.create(model="claude-haiku-4-5", messages=[])\n')
    _git(code, "add", "-A")
    res = _try_repo(pre_commit, hook_repo, "promptls-check-system", code, env, 300)
    assert res.returncode == 1 and "bot.py:3:1: SD001" in res.stdout + res.stderr, res.stdout + res.stderr

    clean = _try_repo(pre_commit, hook_repo, "promptls-check-system", _target_repo(tmp_path / "clean", CLEAN),
                      env, 300)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout


# -- slow: installing promptls offline from a wheelhouse ------------------------------------------------------

@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """Wheels of promptls's dependencies and build requirements (from pyproject.toml), fetched once from PyPI
    and cached, so that the installs under test can run with PIP_NO_INDEX."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = sorted([*meta["project"]["dependencies"], *meta["build-system"]["requires"]])
    key = hashlib.sha256(json.dumps([sys.version_info[:2], reqs]).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("PROMPTLS_CACHE_DIR") or Path.home() / ".cache" / "promptls")
    target = cache / f"wheelhouse-{key}"
    if not target.is_dir():
        partial = cache / f"wheelhouse-{key}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--only-binary=:all:", "--dest", str(partial), *reqs], check=True, timeout=900)
        try:
            partial.rename(target)
        except OSError:  # another run got there first
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _offline_pip_env(wheelhouse: Path, **extra: str) -> dict[str, str]:
    return _env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_CONFIG_FILE=os.devnull,
                PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)


@pytest.mark.slow
def test_action_installs_promptls_from_its_own_source(tmp_path: Path, wheelhouse: Path,
                                                      sarif_validator: Any) -> None:
    src = _copy_source(tmp_path / "promptls")  # what GitHub checks out for `uses: OWNER/promptls/clients/ci@ref`
    ws = _workspace(tmp_path)
    # Only a bare python3 on PATH: whatever `promptls` runs must be the one the action installed.
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python3").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    env = _offline_pip_env(wheelhouse)
    env["PATH"] = os.pathsep.join([str(shim), "/usr/bin", "/bin"])
    inputs = {"paths": "prompts", "python-version": "", "upload-sarif": "false"}
    run = local_action.LocalAction(src / "clients" / "ci").run(
        workspace=ws, temp=tmp_path / "runner", inputs=inputs, env=env, timeout=900)

    install = run.step("Install promptls")
    assert install.returncode == 0, install.stdout + install.stderr
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert version in install.stdout
    venv_bin = tmp_path / "runner" / "promptls-venv" / "bin"
    assert run.path_added == [str(venv_bin)]
    assert (venv_bin / "promptls").is_file()
    check = run.step("Check prompt files")
    assert check.returncode == 0, check.stderr
    results = _check_sarif(ws / "promptls.sarif", ws, sarif_validator)
    assert {n for n, lv in _by_file(results).items() if "error" in lv} >= WITH_ERRORS
    assert run.step("Fail on findings").returncode == 1  # default fail-on: error


@pytest.mark.slow
def test_pre_commit_python_hook_offline(pre_commit: list[str], hook_repo: Path, wheelhouse: Path,
                                        tmp_path: Path) -> None:
    env = _offline_pip_env(wheelhouse, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    # No promptls on PATH: the hook can only run the one pre-commit installs into its environment.
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin"])
    target = _target_repo(tmp_path / "mixed", CLEAN | BROKEN)
    proc = _try_repo(pre_commit, hook_repo, "promptls-check", target, env, 900)
    out = proc.stdout + proc.stderr
    assert "Installing environment" in out, out  # the hook got its own virtualenv with promptls in it
    assert proc.returncode == 1, out
    assert "- hook id: promptls-check" in out
    for name in WITH_ERRORS:
        assert f"prompts/{name}" in out
    assert "layout.j2" not in out
    assert "TP002" in out and "FM001" in out
