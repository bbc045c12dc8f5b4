"""The VS Code client, tested for real: the extension's unit tests (node --test on the compiled pure modules,
including the settings-drift check against `promptls schema`), and end-to-end runs in code-server with the
packaged .vsix installed, driven by playwright-core with Debian's chromium (clients/vscode/test/e2e/drive.mjs).

Everything is installed by clients/vscode/scripts/install_code_server.sh (idempotent, cached under
${PROMPTLS_CACHE_DIR:-~/.cache/promptls}); the end-to-end tests are marked slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "clients" / "vscode"
INSTALL = EXT / "scripts" / "install_code_server.sh"
PACKAGE = EXT / "scripts" / "package_vsix.sh"
DRIVER = EXT / "test" / "e2e" / "drive.mjs"
# The server under test is the one installed next to the interpreter running pytest (the project venv).
PROMPTLS = Path(sys.executable).with_name("promptls")
FAKE_KEY_ENV = "PROMPTLS_E2E_FAKE_KEY"

BROKEN_PROMPT = """\
---
model: openai/gpt-4o-mini
input:
  schema:
    name: string
---
{{role "system"}}
You greet people.
{{role "user"}}
{{#if name}}
Say hello to {{name}}.
"""

# Installing code-server, Node and chromium on a fresh machine takes 6-11 minutes (module fixture setup).
pytestmark = pytest.mark.timeout(1800)

SDK_CODE = """\
import anthropic

client = anthropic.Anthropic(timeout=30)
reply = client.messages.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
"""
_EXAMPLE = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}'
DATASET = "\n".join([_EXAMPLE] * 11 + ['{"messages": [{"role": "user", "content": "cut off"']) + "\n"

INLINE_PROMPT = """\
---
model: openai/gpt-4o-mini
input:
  schema:
    topic: string
---
{{role "system"}}
You write short poems.
{{role "user"}}
"""

CLEAN_PROMPT = """\
---
model: openai/gpt-5.2
config:
  maxOutputTokens: 5
---
Say hi.
"""

RUN_PROMPT = """\
---
model: openai/gpt-4o-mini
---
{{role "user"}}
Name three quiet things.
"""


def _run(cmd: list[str], *, timeout: float, cwd: Path = EXT, env: dict[str, str] | None = None):
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _require_tools() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the VS Code client tests need {', '.join(missing)} on PATH")


# -- unit tests -------------------------------------------------------------------------------------------------


def test_extension_unit_tests() -> None:
    """node --test over the compiled pure modules: server discovery, status bar, settings schema mapping and
    the drift check of package.json against `promptls schema`, manifest, TextMate grammars."""
    _require_tools()
    install = _run(["bash", str(INSTALL), "--extension-only"], timeout=600)
    assert install.returncode == 0, install.stderr[-4000:]
    env = {**os.environ, "PROMPTLS_BIN": str(PROMPTLS)}
    result = _run(["npm", "run", "--silent", "test:unit"], timeout=300, env=env)
    output = result.stdout + result.stderr
    counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail) (\d+)$", output, re.MULTILINE)}
    assert result.returncode == 0 and counts.get("fail") == 0, output[-6000:]
    assert counts.get("pass", 0) >= 30, output[-3000:]


# -- end to end in code-server ----------------------------------------------------------------------------------


@dataclass
class CodeServer:
    url: str
    node: str
    workspace: Path
    shots: Path
    log: Path
    user_data: Path

    def extension_logs(self, limit: int = 3000) -> str:
        """The tails of the extension's output channels (LSP log and trace), which VS Code writes to files."""
        parts = []
        for path in sorted(self.user_data.glob("logs/**/*promptls*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-limit:]}")
        return "\n".join(parts) or "(no promptls logs found)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"code-server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    pytest.fail(f"code-server did not answer /healthz within {timeout_s}s:\n{log.read_text()[-4000:]}")


def _install_everything() -> dict[str, str]:
    _require_tools()
    started = time.monotonic()
    install = _run(["bash", str(INSTALL)], timeout=1500)
    assert install.returncode == 0, install.stderr[-6000:]
    paths = dict(line.split("=", 1) for line in install.stdout.splitlines() if "=" in line)
    print(f"install_code_server.sh took {time.monotonic() - started:.1f}s")
    return paths


def _package_vsix(out: Path) -> Path:
    packaged = _run(["bash", str(PACKAGE), str(out / "promptls.vsix")], timeout=600)
    assert packaged.returncode == 0, packaged.stdout[-3000:] + packaged.stderr[-3000:]
    vsix = Path(packaged.stdout.strip().splitlines()[-1].removeprefix("VSIX="))
    assert vsix.is_file(), packaged.stdout
    return vsix


def _machine_settings() -> dict[str, object]:
    # code-server windows are remote windows: VS Code takes `machine-overridable` settings such as
    # promptls.server.path from the remote machine's settings, not from the user's (it applies them from
    # the user's only until the extension's contribution is registered, a race).
    return {"promptls.server.path": str(PROMPTLS)}


def _user_settings() -> dict[str, object]:
    return {
        "promptls.trace.server": "messages",
        # No marketplace, telemetry, updates or welcome pages: nothing may reach the network. (Not
        # "chat.disableAIFeatures": it also turns off inline completions from extensions such as ours.)
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": "off",
        "extensions.ignoreRecommendations": True,
        "workbench.enableExperiments": False,
        "workbench.startupEditor": "none",
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "workbench.tips.enabled": False,
        "workbench.welcomePage.walkthroughs.openOnInstall": False,
        "security.workspace.trust.enabled": False,
        "git.enabled": False,
        "editor.inlineSuggest.enabled": True,
        # The word-based suggest widget would compete with the ghost text the inline test looks for.
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.wordBasedSuggestions": "off",
        "files.autoSave": "off",
    }


def _shots_dir(root: Path) -> Path:
    """Screenshots go to the pytest temp dir, or to $PROMPTLS_E2E_SHOTS (to refresh the README's pictures)."""
    return Path(os.environ.get("PROMPTLS_E2E_SHOTS") or root / "shots")


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    paths = _install_everything()
    root = tmp_path_factory.mktemp("vscode-e2e")
    vsix = _package_vsix(root)
    user_data, extensions = root / "user-data", root / "extensions"
    for scope, settings in (("User", _user_settings()), ("Machine", _machine_settings())):
        (user_data / scope).mkdir(parents=True)
        (user_data / scope / "settings.json").write_text(json.dumps(settings, indent=2))
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "broken.prompt").write_text(BROKEN_PROMPT)
    (workspace / "inline.prompt").write_text(INLINE_PROMPT)
    (workspace / "run.prompt").write_text(RUN_PROMPT)
    (workspace / "clean.prompt").write_text(CLEAN_PROMPT)
    (workspace / "bot.py").write_text(SDK_CODE)
    (workspace / "train.jsonl").write_text(DATASET)

    env = {
        **os.environ,
        # An empty gallery disables the marketplace (code-server defaults to open-vsx).
        "EXTENSIONS_GALLERY": "{}",
        "PATH": f"{Path(paths['NODE24']).parent}{os.pathsep}{os.environ['PATH']}",
        # A fake key, built at run time, for the loopback fake provider of the inline-completion test.
        FAKE_KEY_ENV: "sk-test-" + secrets.token_hex(8),
    }
    base = [
        paths["CODE_SERVER"],
        *("--config", str(root / "code-server.yaml")),
        *("--user-data-dir", str(user_data)),
        *("--extensions-dir", str(extensions)),
    ]
    installed = _run([*base, "--install-extension", str(vsix)], timeout=300, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = _run([*base, "--list-extensions"], timeout=120, env=env)
    assert "promptls.promptls" in listed.stdout, listed.stdout + listed.stderr

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "code-server.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                *base,
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--disable-proxy",
                "--ignore-last-opened",
                str(workspace),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, proc, log)
        yield CodeServer(
            url=url, node=paths["NODE24"], workspace=workspace, shots=_shots_dir(root), log=log, user_data=user_data
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)


def _drive(cs: CodeServer, scenario: str, *args: str, timeout_s: int = 90) -> dict:
    cmd = [
        cs.node,
        str(DRIVER),
        scenario,
        "--url",
        cs.url,
        "--folder",
        str(cs.workspace),
        "--shots",
        str(cs.shots),
        "--timeout",
        str(timeout_s),
        *args,
    ]
    result = _run(cmd, timeout=timeout_s + 120)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"driver printed no report (exit {result.returncode}):\n{result.stderr[-4000:]}"
    report = json.loads(lines[-1])
    if not report["ok"]:
        server_log = cs.log.read_text()[-3000:]
        pytest.fail(
            f"{scenario}: {report.get('error')}\nscreenshot: {report.get('screenshot')}\n"
            f"steps: {report['steps']}\nstatus bar: {report.get('statusBar')}\n"
            f"driver log:\n{result.stderr[-3000:]}\ncode-server log:\n{server_log}\n"
            f"extension logs:\n{cs.extension_logs()}"
        )
    return report


@pytest.mark.slow
def test_clean_prompt_figures_not_problems_and_one_cost_string(code_server: CodeServer) -> None:
    """A clean prompt leaves the Problems panel empty while its lens, status bar and hover carry the figures,
    and the cost is the same string on each of them and in `promptls check`."""
    check = _run([str(PROMPTLS), "check", "--format", "json", str(code_server.workspace / "clean.prompt")],
                 timeout=120, cwd=code_server.workspace)
    data = json.loads(check.stdout)["files"][0]
    from promptls.core.figures import format_cost

    cost = format_cost(data["cost_usd"]) + "/call"
    text = _run([str(PROMPTLS), "check", str(code_server.workspace / "clean.prompt")], timeout=120,
                cwd=code_server.workspace).stdout
    assert cost in text and cost != "$0/call", text
    report = _drive(code_server, "figures", "--file", "clean.prompt", "--expect", cost)
    assert report["problems"] == [], report["problems"]
    assert any(cost in lens for lens in report["codeLenses"]), report["codeLenses"]
    status = [item["text"] for item in report["statusBar"] if item["id"].endswith("promptls.status")]
    assert status and cost in status[0], report["statusBar"]
    assert cost in report["hover"], report["hover"]
    tokens = f"{data['tokens']['input'] + 5:,} tokens"
    assert tokens in status[0] and any(tokens in lens for lens in report["codeLenses"]), report


@pytest.mark.slow
def test_broken_prompt_shows_in_problems_panel(code_server: CodeServer) -> None:
    report = _drive(code_server, "problems", "--file", "broken.prompt", "--code", "TP002")
    assert report["languageMode"] == "Dotprompt", report
    rows = [row["text"] for row in report["problems"]]
    # The Problems panel shows `source(code)` (the parentheses are CSS, so innerText has "promptls TP002");
    # the message text is the server's business.
    finding = [row for row in rows if re.search(r"\bpromptls\W*TP002\b", row)]
    assert finding, rows
    status = [item for item in report["statusBar"] if item["id"].endswith("promptls.status")]
    assert status, report["statusBar"]
    assert "error" not in status[0]["text"].lower(), status
    # e.g. "promptls: invalid settings" when the client sends what the server cannot validate
    assert not [n for n in report["notifications"] if "promptls" in n.lower()], report["notifications"]


@pytest.mark.slow
@pytest.mark.parametrize("name, code", [("bot.py", "SD001"), ("train.jsonl", "DS001")])
def test_code_and_dataset_findings_in_problems_panel(code_server: CodeServer, name: str, code: str) -> None:
    """The extension attaches to Python files and JSONL datasets: their findings reach the Problems panel."""
    report = _drive(code_server, "problems", "--file", name, "--code", code)
    rows = [row["text"] for row in report["problems"]]
    assert [row for row in rows if re.search(rf"\bpromptls\W*{code}\b", row)], rows


@pytest.mark.slow
def test_missing_server_says_how_to_fix_it(code_server: CodeServer) -> None:
    settings_file = code_server.workspace / ".vscode" / "settings.json"
    settings_file.parent.mkdir(exist_ok=True)
    settings_file.write_text(json.dumps({"promptls.server.path": "/nonexistent/bin/promptls"}))
    try:
        report = _drive(code_server, "notification", "--file", "broken.prompt", "--expect", "/nonexistent/bin/promptls")
    finally:
        settings_file.unlink()
    message = next(n for n in report["notifications"] if "/nonexistent/bin/promptls" in n)
    assert "promptls.server.path" in message, message
    assert "not an executable" in message, message
    assert any("not found" in item["text"] for item in report["statusBar"]), report["statusBar"]


def _server_capabilities() -> dict:
    """The capabilities `promptls serve` advertises, from a real initialize handshake (pygls client)."""
    from lsprotocol import types
    from lsprotocol.converters import get_converter
    from pygls.lsp.client import LanguageClient

    async def probe() -> dict:
        client = LanguageClient("promptls-e2e-probe", "0")
        await client.start_io(str(PROMPTLS), "serve")
        try:
            result = await asyncio.wait_for(
                client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities())), 60
            )
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
            return get_converter().unstructure(result.capabilities)
        finally:
            await client.stop()

    return asyncio.run(probe())


def _openai_fake():
    try:
        from tests.fakes.http import FakeServer
        from tests.fakes.openai_fake import OpenAIFake
    except ImportError:  # tests/ is on sys.path through its conftest, not the repository root
        from fakes.http import FakeServer  # type: ignore[no-redef]
        from fakes.openai_fake import OpenAIFake  # type: ignore[no-redef]
    return FakeServer, OpenAIFake


@contextlib.contextmanager
def _fake_provider(cs: CodeServer, tokens: list[str], routes: list[str]) -> Iterator[object]:
    """A loopback OpenAI-compatible fake answering `tokens`, configured as the only provider of `routes`
    through the workspace folder's settings (the API key comes from the fake key in code-server's env)."""
    FakeServer, OpenAIFake = _openai_fake()
    fake = OpenAIFake()
    fake.default_tokens = tokens
    settings_file = cs.workspace / ".vscode" / "settings.json"
    with FakeServer(fake) as server:
        folder_settings = {
            "promptls.providers": {
                "fake": {
                    "kind": "openai",
                    "base_url": f"{server.url}/v1",
                    "api_key_env": FAKE_KEY_ENV,
                    "model": "gpt-4o-mini",
                }
            },
            **{f"promptls.router.{route}": ["fake"] for route in routes},
        }
        settings_file.parent.mkdir(exist_ok=True)
        settings_file.write_text(json.dumps(folder_settings, indent=2))
        try:
            yield fake
        finally:
            settings_file.unlink()


@pytest.mark.slow
def test_inline_completion_from_loopback_fake_provider(code_server: CodeServer) -> None:
    # `{}` (InlineCompletionOptions without fields) advertises support too: only absence or false means no.
    if _server_capabilities().get("inlineCompletionProvider") in (None, False):
        pytest.skip("server inline completion lands with issue 4")
    ghost = "sunlit zebra lanterns"
    with _fake_provider(code_server, [" sunlit", " zebra", " lanterns"], ["completion"]) as fake:
        report = _drive(
            code_server, "inline", "--file", "inline.prompt", "--type", "Write a poem about", "--expect", ghost
        )
        assert fake.calls, "the fake provider was never called"
    assert ghost in report["ghostText"], report
    assert f"Write a poem about {ghost}" in " ".join(report["editorText"].split()), report["editorText"]


@pytest.mark.slow
def test_run_code_lens_goes_through_the_server_command(code_server: CodeServer) -> None:
    commands = (_server_capabilities().get("executeCommandProvider") or {}).get("commands") or []
    if "promptls.runPrompt" not in commands:
        pytest.skip("the server does not provide promptls.runPrompt yet (run prompt lands with issue 4)")
    answer = "quietly humming teapots"
    with _fake_provider(code_server, [" quietly", " humming", " teapots"], ["run"]) as fake:
        report = _drive(code_server, "codelens", "--file", "run.prompt", "--lens", "Run", "--expect", answer)
        assert fake.calls, "the Run code lens did not reach the provider"
    assert any("Run" in lens for lens in report["codeLenses"]), report["codeLenses"]


EVAL_PROMPT = """---
model: gpt-4o-mini
input:
  schema:
    country: string
---
What is the capital of {{country}}?
"""

EVAL_CASES = """tests:
  - description: France
    vars:
      country: France
    assert:
      - type: icontains
        value: paris
  - description: Japan
    vars:
      country: Japan
    assert:
      - type: icontains
        value: tokyo
"""


@pytest.mark.slow
def test_testing_view_lists_and_runs_prompt_cases(code_server: CodeServer) -> None:
    """The Testing view lists the prompt and its cases from the server and runs them through `promptls.eval`:
    the case the fake's answer satisfies passes, the other fails."""
    (code_server.workspace / "capital.prompt").write_text(EVAL_PROMPT)
    (code_server.workspace / "capital.tests.yaml").write_text(EVAL_CASES)
    with _fake_provider(code_server, [" Paris", " is", " the", " capital"], ["run"]) as fake:
        report = _drive(code_server, "testing", "--file", "capital.prompt", "--expect", "Japan (Failed)",
                        timeout_s=120)
        assert len(fake.calls) == 2, "both cases went to the provider"
    rows = report["testRows"]
    assert any(r.startswith("France") and "Passed" in r for r in rows), rows
    assert any(r.startswith("capital.prompt") and "Failed" in r for r in rows), rows


@pytest.mark.slow
def test_usage_page_is_a_webview_with_spend_charts(code_server: CodeServer, tmp_path: Path) -> None:
    """Show Usage and Cost opens a webview drawing spend per day, provider and model from the server's ledger (a
    workspace promptls.toml points the server at a ledger written through the ledger's own API), money written as
    `figures.format_cost` writes it, the smallest non-zero spend still drawn."""
    from promptls.core.figures import format_cost
    from promptls.providers.base import Usage
    from promptls.router.ledger import Ledger

    ledger_path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(ledger_path)
    now = time.time()
    for days_ago, provider, model, cost in ((2, "fake", "gpt-4o-mini", 0.0123), (1, "fake", "gpt-4o", 0.0456),
                                            (0, "other", "claude-haiku-4-5", 0.0000042)):
        ledger.record(ts=now - days_ago * 86_400, provider=provider, kind="openai", model=model, purpose="run",
                      usage=Usage(input_tokens=1200, output_tokens=300), cost_usd=cost)
    ledger.close()
    toml = code_server.workspace / "promptls.toml"
    toml.write_text(f'[budget]\nledger_path = "{ledger_path}"\n')
    try:
        with _fake_provider(code_server, [" ok"], ["run"]):
            report = _drive(code_server, "usage", "--file", "clean.prompt", "--expect", "Spend per provider")
    finally:
        toml.unlink()
    text = report["usageText"]
    assert report["usageCharts"] == 3, report
    for heading in ("Spend per day", "Spend per provider", "Spend per model"):
        assert heading in text, text
    for money in (format_cost(0.0123), format_cost(0.0456), format_cost(0.0000042), format_cost(0.0456 + 0.0123)):
        assert money in text, (money, text)
    assert "gpt-4o-mini" in text and "claude-haiku-4-5" in text
    bars = report["usageBars"]
    assert max(bars) == 360 and min(bars) >= 1, bars  # scaled to the largest; a tiny spend is still drawn
