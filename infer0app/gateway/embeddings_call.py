"""The I/O of `POST /v1/embeddings`: one call to the user's provider through its adapter.

    result = await embed(http, route, req)     # req: embeddings_wire.parse_request(body)

Same transport as the chat pipeline (gateway/pipeline.py): the shared session, or the adapter's
in-process upstream (the sandbox); errors before an answer raise GatewayError in the /v1 table's
terms. `result` is a pipeline.ChatResult whose body is OpenAI's embeddings `list` and whose
`usage.prompt_tokens` counts the input tokens.
"""

from __future__ import annotations

import time

import aiohttp

from infer0app.gateway.errors import bad_response_error, upstream_error
from infer0app.gateway.profiles.apply import Changes
from infer0app.gateway.pipeline import DEFAULT_TIMEOUT, ChatResult, fetch_upstream
from infer0app.gateway.providers.base import Route
from infer0app.gateway.providers.embeddings_wire import EmbeddingsRequest
from infer0app.gateway.providers.registry import get_adapter


async def embed(http: aiohttp.ClientSession, route: Route, req: EmbeddingsRequest, *,
                timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> ChatResult:
    adapter = get_adapter(route.wire)
    upstream, dropped = adapter.build_embeddings_request(route, req)
    local = adapter.local
    if local is None:
        raw, status, headers = await fetch_upstream(http, route, upstream, timeout)
    else:
        answer = local.answer(upstream, created=int(time.time()))
        raw, status, headers = answer.body, answer.status, answer.headers
    if status >= 300:
        raise upstream_error(route, status, adapter.read_error(status, raw), headers)
    try:
        parsed = adapter.parse_embeddings(route, raw, encoding_format=req.encoding_format)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise bad_response_error(route) from None
    return ChatResult(200, parsed.body, parsed.usage, parsed.model, Changes(dropped=tuple(dropped)))
