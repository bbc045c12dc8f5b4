"""Files promptls reads on a user's behalf are read only when they are regular files of a bounded size (issue 10):
a FIFO, a directory, a 10 GB sparse file and a symlink to /dev/zero, as a `${file:}` reference, a partial, a config
file and the checked file itself, through `promptls check` and the engine API; the editor and `check` say the same
of a binary file; the server exits after shutdown while a document references a FIFO.

Every call that would hang or fill the memory if the guard regressed runs bounded: the CLI in a subprocess with a
timeout and an address-space limit, the engine API in a forked child with the same limits."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient
from tests.conftest import TODAY
from tests.e2e.conftest import ENV, SERVER, close, init_params
from tests.e2e.test_robustness import frame, read_message, read_until_id
from tests.e2e.test_server import wait_diagnostics

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")

KINDS = ("fifo", "directory", "sparse", "zero-link")
REASON = {"fifo": "a FIFO, not a regular file", "directory": "a directory, not a regular file",
          "sparse": "above the", "zero-link": "a character device, not a regular file"}
MEMORY_HEADROOM = 1 << 30  # a regression reading /dev/zero fails at this much more memory, not at 5 GB
DEADLINE = 60


def make(kind: str, path: Path) -> Path:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "sparse":
        with open(path, "wb") as f:
            f.truncate(10 * 2**30)  # 10 GB that take no disk
    else:
        path.symlink_to("/dev/zero")
    return path


def _limit_memory() -> None:
    status = Path("/proc/self/status").read_text().splitlines()
    used = int(next(line.split()[1] for line in status if line.startswith("VmSize:"))) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (used + MEMORY_HEADROOM, resource.RLIM_INFINITY))


def bounded(fn, *args):
    """fn(*args) in a forked child with a memory limit and a deadline; a hang or a huge read fails the test."""
    with multiprocessing.get_context("fork").Pool(1, initializer=_limit_memory) as pool:
        return pool.apply_async(fn, args).get(timeout=DEADLINE)


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`promptls check` in a subprocess with a timeout and a 2 GiB address-space limit."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))

    return subprocess.run([sys.executable, "-m", "promptls", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=DEADLINE, env={**os.environ, "NO_COLOR": "1"}, preexec_fn=limit)


def check_json(*args: str, cwd: Path) -> dict[str, list[tuple[str, str]]]:
    res = check("--format", "json", "--fail-on", "never", *args, cwd=cwd)
    assert res.returncode == 0, res.stderr
    return {Path(f["path"]).name: [(d["code"], d["message"]) for d in f["diagnostics"]]
            for f in json.loads(res.stdout)["files"]}


def engine_findings(path: str) -> list[tuple[str, str]]:
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config

    report, _ = analyze_path(path, Config(), today=TODAY)
    return [(f.code, f.message) for f in report.findings]


def the(findings: list[tuple[str, str]], code: str) -> str:
    messages = [m for c, m in findings if c == code]
    assert len(messages) == 1, findings
    return messages[0]


# -- the one safe read --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_safe_read_refuses_what_is_no_bounded_regular_file(tmp_path: Path, kind: str):
    from promptls.core import safe_read
    target = make(kind, tmp_path / "target")
    with pytest.raises(safe_read.Refused, match=REASON[kind]):
        bounded(safe_read.read_bytes, target)
    if kind != "sparse":  # any size is fine for a head, but never a FIFO, device or directory
        with pytest.raises(safe_read.Refused, match=REASON[kind]):
            bounded(safe_read.read_head, target, 100)


def test_safe_read_reads_regular_files_up_to_the_cap(tmp_path: Path):
    from promptls.core import safe_read
    (tmp_path / "f").write_bytes(b"x" * 100)
    assert safe_read.read_bytes(tmp_path / "f", 100) == b"x" * 100
    with pytest.raises(safe_read.Refused, match="file is 100 bytes, above the 99 bytes limit"):
        safe_read.read_bytes(tmp_path / "f", 99)
    (tmp_path / "link").symlink_to(tmp_path / "f")  # symlinks are followed to what they name
    assert safe_read.read_head(tmp_path / "link", 10) == b"x" * 10
    with pytest.raises(safe_read.Refused) as e:
        safe_read.read_bytes(tmp_path / "missing")
    assert e.value.missing


# -- `${file:}` references -------------------------------------------------------------------------------
PROMPTY = "---\nname: t\nmodel:\n  id: gpt-4o\ninputs: ${file:TARGET}\n---\nuser:\nHello\n"


@pytest.mark.parametrize("kind", KINDS)
def test_file_reference(tmp_path: Path, kind: str):
    make(kind, tmp_path / "target")
    (tmp_path / "a.prompty").write_text(PROMPTY.replace("TARGET", "target"))
    for findings in (bounded(engine_findings, str(tmp_path / "a.prompty")),
                     check_json("a.prompty", cwd=tmp_path)["a.prompty"]):
        message = the(findings, "RF004")
        assert message.startswith("`${file:target}` is not read: ") and REASON[kind] in message
        assert "RF003" not in {c for c, _ in findings}


def test_file_reference_to_dev_zero(tmp_path: Path):
    (tmp_path / "a.prompty").write_text(PROMPTY.replace("TARGET", "/dev/zero"))
    for findings in (bounded(engine_findings, str(tmp_path / "a.prompty")),
                     check_json("a.prompty", cwd=tmp_path)["a.prompty"]):
        assert REASON["zero-link"] in the(findings, "RF004") and the(findings, "RF001")


def test_file_reference_to_a_regular_file_is_still_read(tmp_path: Path):
    (tmp_path / "schema.json").write_text(json.dumps([{"name": "q", "kind": "string"}]))
    (tmp_path / "a.prompty").write_text(PROMPTY.replace("TARGET", "schema.json").replace("Hello", "Hello {{q}}"))
    findings = engine_findings(str(tmp_path / "a.prompty"))
    assert not {"RF003", "RF004", "VR001"} & {c for c, _ in findings}, findings


# -- partials --------------------------------------------------------------------------------------------
DOTPROMPT = "---\nmodel: gpt-4o\n---\nHello {{> p}}\n"


@pytest.mark.parametrize("kind", KINDS)
def test_partial(tmp_path: Path, kind: str):
    make(kind, tmp_path / "_p.prompt")
    (tmp_path / "a.prompt").write_text(DOTPROMPT)
    for findings in (bounded(engine_findings, str(tmp_path / "a.prompt")),
                     check_json("a.prompt", cwd=tmp_path)["a.prompt"]):
        message = the(findings, "RF004")
        assert message.startswith("Partial `p` (`_p.prompt`) is not read: ") and REASON[kind] in message
        assert "PT001" not in {c for c, _ in findings}  # it is there: saying "not found" would mislead


def _indexed_lookup(partial: str, from_path: str) -> tuple[str, str] | None:
    from promptls.lsp.state import ServerState

    return ServerState(partial_index={"q": partial}).partial_lookup("q", from_path)


@pytest.mark.parametrize("kind", KINDS)
def test_partial_from_the_workspace_index(tmp_path: Path, kind: str):
    """The server's index lists every `_name.prompt` below the root, FIFOs included: none is read."""
    (tmp_path / "sub").mkdir()
    target = make(kind, tmp_path / "sub" / "_q.prompt")
    assert bounded(_indexed_lookup, str(target), str(tmp_path / "a.prompt")) == (str(target), "")


# -- config files ----------------------------------------------------------------------------------------
def _config_errors(start: str) -> list[str]:
    from promptls import config

    return config.load(Path(start))[1]


@pytest.mark.parametrize("kind", KINDS)
def test_config_file(tmp_path: Path, kind: str):
    make(kind, tmp_path / "promptls.toml")
    (tmp_path / "a.prompt").write_text(DOTPROMPT.replace("{{> p}}", "there"))
    (errors,) = bounded(_config_errors, str(tmp_path))
    assert errors.startswith("promptls.toml: ") and REASON[kind] in errors
    res = check("a.prompt", cwd=tmp_path)
    assert res.returncode == 2 and REASON[kind] in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_pyproject_is_passed_over(tmp_path: Path, kind: str):
    make(kind, tmp_path / "pyproject.toml")
    (tmp_path / "a.prompt").write_text(DOTPROMPT.replace("{{> p}}", "there"))
    assert bounded(_config_errors, str(tmp_path)) == []
    assert check("a.prompt", cwd=tmp_path).returncode == 0


def test_config_file_dev_zero():
    from promptls import config

    data, errors = bounded(config.load_file, Path("/dev/zero"))
    assert data == {} and REASON["zero-link"] in errors[0]


# -- the checked file itself -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x.prompt", "train.jsonl"])
@pytest.mark.parametrize("kind", KINDS)
def test_checked_file(tmp_path: Path, kind: str, name: str):
    make(kind, tmp_path / name)
    (message,) = [m for c, m in bounded(engine_findings, str(tmp_path / name)) if c == "IO001"]
    assert message.startswith("Not analysed: ") and REASON[kind] in message
    if kind == "directory":  # named on the command line, a directory is a folder to walk: nothing in it
        res = check(name, cwd=tmp_path)
        assert res.returncode == 0 and "Traceback" not in res.stderr
        return
    assert check_json(name, cwd=tmp_path)[name] == [("IO001", message)]


def test_checked_file_dev_zero(tmp_path: Path):
    findings = check_json("/dev/zero", cwd=tmp_path)["zero"]
    assert findings == bounded(engine_findings, "/dev/zero")
    assert len(findings) == 1 and REASON["zero-link"] in the(findings, "IO001")


def test_file_walk_sniffing_skips_a_fifo(tmp_path: Path):
    """A folder walk sniffs `.jsonl` files that no glob names: a FIFO among them must not block it."""
    os.mkfifo(tmp_path / "events.jsonl")
    (tmp_path / "a.prompt").write_text(DOTPROMPT.replace("{{> p}}", "there"))
    assert list(check_json(".", cwd=tmp_path)) == ["a.prompt"]


# -- binary files: the editor and `check` agree -------------------------------------------------------------
BINARY = {
    "blob.prompt": ("---\nmodel: gpt-4o\n---\nHello\x00{{#if}}\x01\x02", "contains NUL bytes"),
    "blob.py": ("import anthropic\n" + "\x01\x02\x03\x04" * 50, "control characters"),
    "train.jsonl": ('{"messages": []}\n' + "\x00" * 10, "contains NUL bytes"),
    "ctl.prompt": ("\x10\x11\x12abc" * 40, "control characters"),
}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def editor(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params("visual-studio-code"))
    yield
    await close(lsp_client)


async def test_binary_files_agree_between_editor_and_check(editor: LanguageClient, tmp_path: Path):
    for name, (text, _why) in BINARY.items():
        (tmp_path / name).write_bytes(text.encode())
    from_check = check_json(*BINARY, cwd=tmp_path)
    for name, (text, why) in BINARY.items():
        uri = (tmp_path / name).as_uri()
        editor.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="plaintext", version=1, text=text)))
        from_editor = [(d.code, d.message) for d in await wait_diagnostics(editor, uri)]
        assert from_editor == from_check[name] == [("IO001", from_editor[0][1])], name
        assert from_editor[0][1].startswith("Not analysed: binary file (") and why in from_editor[0][1]


# -- the server exits after shutdown while a document references a FIFO --------------------------------------
@pytest.mark.timeout(60)
def test_server_exits_after_shutdown_with_a_fifo_reference(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "_q.prompt")  # indexed by the workspace scan
    docs = {"a.prompty": PROMPTY.replace("TARGET", "pipe"), "b.prompt": "---\nmodel: gpt-4o\n---\n{{> q}}\n"}
    proc = subprocess.Popen([*SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=ENV)
    try:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {},
                           "initializationOptions": {"today": "2026-11-25"}}}
        proc.stdin.write(frame(init) + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.flush()
        read_until_id(proc.stdout, 1)
        for name, text in docs.items():
            proc.stdin.write(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": (tmp_path / name).as_uri(), "languageId": "prompty", "version": 1, "text": text}}}))
        proc.stdin.flush()
        # the analysis of the prompty file finishes (a blocked read never would) and says why the FIFO is not read
        for _ in range(200):
            msg = read_message(proc.stdout)
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"].endswith("a.prompty"):
                codes = {d["code"] for d in msg["params"]["diagnostics"]}
                if "RF004" in codes:
                    break
        else:
            raise AssertionError("no RF004 for the FIFO reference")
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None}))
        proc.stdin.flush()
        read_until_id(proc.stdout, 2, limit=1000)
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit", "params": None}))
        proc.stdin.flush()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
