"""A real infer0 on loopback, fake providers on loopback, and the official openai SDK as the client."""

from __future__ import annotations

from dataclasses import dataclass

import openai
import pytest

from infer0app import keys
from tests.support.backend import parametrize_backend
from tests.fakes import run_fake
from tests.support.seed import Seeded, seed_grant

FAKE_OF_KIND = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "azure-openai": "azure",
                "groq": "openai", "mistral": "openai", "together": "openai", "openai-compatible": "openai"}


@dataclass
class Api:
    url: str
    app: object
    seeded: Seeded
    fake: object | None

    def client(self, token: str | None = None, **kw) -> openai.AsyncOpenAI:
        kw.setdefault("max_retries", 0)  # a test sees each answer as it is, unless it asks for retries
        return openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=token or self.seeded.access_token, **kw)


@pytest.fixture
async def api_for(server):
    """`await api_for("anthropic")`: infer0 serving a user whose grant routes to that kind."""
    stack = []

    async def make(kind: str, settings: dict | None = None, *, model: str | None = None, options: dict | None = None,
                   **fake_knobs) -> Api:
        srv = await server(**(settings or {}))
        app = srv.app
        fake = None
        base_url, api_key, options = "", None, dict(options or {})
        if kind != "sandbox":
            cm = run_fake(FAKE_OF_KIND[kind], **fake_knobs)
            fake = await cm.__aenter__()
            stack.append(cm)
            base_url = fake.root_url if kind == "azure-openai" else fake.base_url
            api_key = fake.key
        model = model or {"azure-openai": "chat-deploy"}.get(kind, "")
        seeded = seed_grant(app[keys.STORE], app[keys.VAULT], kind=kind, base_url=base_url, api_key=api_key,
                            model=model, options=options)
        return Api(str(srv.make_url("")).rstrip("/"), app, seeded, fake)

    yield make
    for cm in reversed(stack):
        await cm.__aexit__(None, None, None)


def pytest_generate_tests(metafunc):
    """Each test that reaches infer0 runs on SQLite and on PostgreSQL (tests/support/backend.py)."""
    parametrize_backend(metafunc)
