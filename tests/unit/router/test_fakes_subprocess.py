"""A fake run as a subprocess (`python -m tests.fakes.<name> --port 0`), scripted over HTTP: how the LSP
end-to-end tests reuse them."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from tests.unit.router.helpers import REPO


def _post(url: str, body: object) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("module", ["openai_fake", "ollama_fake"])
def test_fake_as_subprocess_prints_port_and_takes_a_script(module):
    proc = subprocess.Popen([sys.executable, "-m", f"tests.fakes.{module}", "--port", "0", "--max-seconds", "60"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("PORT ")
        base = f"http://127.0.0.1:{int(line.split()[1])}"
        status, _ = _post(f"{base}/__fake__/script", [{"kind": "status", "status": 503}])
        assert status == 200
        path, body = ("/v1/chat/completions", {"model": "m", "messages": []}) if module == "openai_fake" else (
            "/api/chat", {"model": "m", "messages": [], "stream": False})
        status, raw = _post(base + path, body)
        assert status == 503
        status, raw = _post(base + path, body)
        assert status == 200 and raw
        with urllib.request.urlopen(f"{base}/__fake__/requests", timeout=10) as resp:
            seen = json.loads(resp.read())
        assert [r["path"] for r in seen] == [path, path]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
