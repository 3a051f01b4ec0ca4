"""The adapter contract: every registered adapter answers every call the pipeline makes, with
the protocol's signature, and the pipeline calls nothing else (the sandbox included), so
adding a provider is a kinds row plus an adapter, never a branch in the pipeline."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infer0app.gateway import pipeline
from infer0app.gateway.providers import base
from infer0app.gateway.providers.base import Adapter, LocalUpstream, Route, StreamTranslator
from infer0app.gateway.providers.kinds import KINDS
from infer0app.gateway.providers.openai_compat import _KIND_SUPPORT
from infer0app.gateway.providers.registry import ADAPTERS
from infer0app.gateway.sse import DONE_FRAME, encode_json

GATEWAY = Path(pipeline.__file__).parent
PROTOCOL_METHODS = {name: fn for name, fn in vars(Adapter).items() if inspect.isfunction(fn) and name[0] != "_"}
PROTOCOL_MEMBERS = set(PROTOCOL_METHODS) | set(Adapter.__annotations__)
BODY = {"messages": [{"role": "user", "content": "hi there"}]}


def _params(fn) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def test_the_protocol_names_the_pipeline_calls() -> None:
    assert PROTOCOL_MEMBERS == {"wire", "local", "param_support", "build_request", "parse_response",
                                "stream_translator", "read_error", "models_request", "parse_models",
                                "build_embeddings_request", "parse_embeddings"}  # /v1/embeddings (issue 14)


@pytest.mark.parametrize("wire", sorted(ADAPTERS))
def test_every_adapter_satisfies_the_whole_protocol(wire: str) -> None:
    adapter = ADAPTERS[wire]
    assert isinstance(adapter, Adapter) and adapter.wire == wire
    for name, proto in PROTOCOL_METHODS.items():
        assert _params(getattr(adapter, name)) == _params(proto), f"{wire}.{name}"
    local = adapter.local
    assert local is None or _params(local.answer) == _params(LocalUpstream.answer)
    route = Route(kind=wire, wire=wire, base_url="https://up.test/v1", api_key="k", model="m")
    translator = adapter.stream_translator(route, BODY, include_usage=False, created=1)
    assert isinstance(translator, StreamTranslator) and not translator.started and translator.error is None


def test_every_kind_has_an_adapter_and_per_kind_data_names_real_kinds() -> None:
    assert {k.wire for k in KINDS.values()} <= set(ADAPTERS)
    assert set(_KIND_SUPPORT) <= set(KINDS)


def _pipeline_tree() -> ast.Module:
    return ast.parse((GATEWAY / "pipeline.py").read_text())


def test_pipeline_touches_adapters_only_through_the_protocol() -> None:
    tree = _pipeline_tree()
    used = {n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "adapter"}
    assert used and used <= PROTOCOL_MEMBERS
    local = {n.attr for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "local"}
    assert local == {"answer"}
    # no duck-typing probes, no wire or kind named in the pipeline
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"getattr", "hasattr", "isinstance"}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not strings & (set(ADAPTERS) | set(KINDS))


class Recording:
    """An adapter stand-in that logs each member the pipeline reads."""

    def __init__(self, inner: Adapter) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        self.calls.append(name)
        return getattr(self._inner, name)


SANDBOX = Route(kind="sandbox", wire="sandbox", base_url="", model="sandbox-echo-1")
OPENAI = Route(kind="openai", wire="openai", base_url="https://api.openai.test/v1", api_key="k", model="gpt-4o-mini")
_CHUNK = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
_OPENAI_STREAM = b"".join([
    encode_json({**_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"},
                                        "finish_reason": None}]}),
    encode_json({**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    DONE_FRAME,
])
_OPENAI_COMPLETION = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                   "finish_reason": "stop"}]}


async def _run_all(monkeypatch, http, route: Route) -> dict[str, list[str]]:
    rec = Recording(ADAPTERS[route.wire])
    monkeypatch.setattr(pipeline, "get_adapter", lambda wire: rec)
    seen: dict[str, list[str]] = {}
    result = await pipeline.complete(http, route, BODY)
    assert json.loads(result.body)["choices"][0]["message"]["content"]
    seen["complete"], rec.calls = rec.calls, []
    streamed = await pipeline.stream(http, route, {**BODY, "stream": True})
    async with streamed:
        frames = [f async for f in streamed]
    assert frames[-1] == DONE_FRAME and streamed.error is None
    seen["stream"], rec.calls = rec.calls, []
    assert await pipeline.list_models(http, route)
    seen["list_models"] = rec.calls
    return seen


async def test_the_sandbox_runs_through_the_same_calls_as_a_remote_provider(monkeypatch, http, mocked) -> None:
    mocked.post(f"{OPENAI.base_url}/chat/completions", body=json.dumps(_OPENAI_COMPLETION))
    mocked.post(f"{OPENAI.base_url}/chat/completions", body=_OPENAI_STREAM,
                headers={"Content-Type": "text/event-stream"})
    mocked.get(f"{OPENAI.base_url}/models", payload={"object": "list", "data": [{"id": "gpt-4o-mini"}]})
    remote = await _run_all(monkeypatch, http, OPENAI)
    local = await _run_all(monkeypatch, None, SANDBOX)
    assert local == remote == {
        "complete": ["param_support", "build_request", "local", "parse_response"],
        "stream": ["param_support", "build_request", "stream_translator", "local"],
        "list_models": ["models_request", "local", "parse_models"],
    }


def test_the_gateway_imports_no_service_and_services_import_no_aiohttp() -> None:
    for path in GATEWAY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                assert "services" not in target.split("."), f"{path.name} imports {target}"
    code = ("import importlib, pkgutil, sys, infer0app.services as s\n"
            "for m in pkgutil.iter_modules(s.__path__): importlib.import_module('infer0app.services.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('aiohttp', 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(base.__file__).parents[3])
    assert out.stdout.strip() == "[]"
