"""Which endpoint a client talks to, from its constructor and arguments: the provider's own API, an Azure OpenAI
resource (whose `model=` names a deployment) or a self-hosted server (vLLM, TGI, Ollama, LM Studio, llama.cpp)
that serves its own model ids. Shared by the single-file extractors and the workspace index."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from promptls.documents.code.model import ClientRef, Location, Value

# Default ports of self-hosted inference servers: vLLM 8000, TGI/llama.cpp 8080, Ollama 11434, LM Studio 1234.
SELF_HOSTED_PORTS = frozenset({8000, 8080, 11434, 1234, 5000, 3000, 8001})
_PRIVATE_SUFFIXES = (".local", ".internal", ".lan", ".svc", ".cluster.local", ".localhost")


def is_self_hosted(base_url: str) -> bool:
    """A base URL on this machine, a private network, a bare service name (`http://vllm:8000/v1`) or a known
    inference-server port."""
    try:
        parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if not host:
        return False
    if host in ("localhost", "host.docker.internal") or host.endswith(_PRIVATE_SUFFIXES):
        return True
    try:
        ip = ipaddress.ip_address(host)
        return ip.is_private or ip.is_loopback or ip.is_unspecified or ip.is_link_local
    except ValueError:
        pass
    if "." not in host:  # a compose/k8s service name: `vllm`, `tgi`, `ollama`
        return True
    return port in SELF_HOSTED_PORTS and port not in (443, 80)


def endpoint_of(callee: str, args: dict[str, Value]) -> tuple[str | None, str | None]:
    """(endpoint kind, base URL when literal) of a client built by `callee(**args)`."""
    tail = callee.rpartition(".")[2]
    if "Azure" in tail:
        return "azure", None
    for key in ("base_url", "baseURL", "host"):
        v = args.get(key)
        if v is not None and isinstance(v.value, str) and not v.partial:
            return ("self-hosted" if is_self_hosted(v.value) else None), v.value
    return None, None


def client_ref(sdk: str, callee: str, args: dict[str, Value], name: str | None,
               location: Location | None) -> ClientRef:
    kind, url = endpoint_of(callee, args)
    return ClientRef(sdk=sdk, callee=callee, name=name, location=location, endpoint=kind, base_url=url)
