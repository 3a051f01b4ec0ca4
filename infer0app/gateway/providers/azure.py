"""Azure OpenAI: OpenAI's wire behind a per-deployment URL and an `api-key` header.

`route.base_url` is the resource endpoint (`https://<resource>.openai.azure.com`),
`route.model` the *deployment* name, `route.options["api_version"]` the data-plane API
version (default `2024-10-21`, the GA version with `stream_options`, tools, vision and
structured outputs). Chat goes to
`{base}/openai/deployments/{deployment}/chat/completions?api-version=...`; the body has no
`model` (the deployment decides). Everything else, including the pass-through stream
and Azure's extra `prompt_filter_results` chunk, is `openai_compat`.

`list_models` calls `GET {base}/openai/models?api-version=...`: it proves the key and
endpoint work and lists the models the resource can use. Azure's data plane no longer
lists *deployments*, so the dashboard should let the user type the deployment name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from infer0app.gateway.providers.base import Route, UpstreamRequest
from infer0app.gateway.providers.openai_compat import OpenAICompatAdapter, upstream_payload

DEFAULT_API_VERSION = "2024-10-21"


def resource_base(route: Route) -> str:
    base = route.base_url.rstrip("/")
    return base.removesuffix("/openai")


def api_version(route: Route) -> str:
    return str(route.options.get("api_version") or DEFAULT_API_VERSION)


class AzureAdapter(OpenAICompatAdapter):
    wire: ClassVar[str] = "azure"

    def chat_url(self, route: Route) -> str:
        deployment = quote(route.model, safe="")
        query = urlencode({"api-version": api_version(route)})
        return f"{resource_base(route)}/openai/deployments/{deployment}/chat/completions?{query}"

    def embeddings_url(self, route: Route) -> str:
        deployment = quote(route.model, safe="")
        query = urlencode({"api-version": api_version(route)})
        return f"{resource_base(route)}/openai/deployments/{deployment}/embeddings?{query}"

    def embeddings_model(self, route: Route) -> str | None:
        return None  # the deployment in the URL is the model

    def headers(self, route: Route, *, stream: bool = False) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "text/event-stream"
        if route.api_key:
            headers["api-key"] = route.api_key
        return headers

    def payload(self, route: Route, body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
        return upstream_payload(route, body, stream=stream, model=False)

    def models_request(self, route: Route) -> UpstreamRequest:
        query = urlencode({"api-version": api_version(route)})
        headers = {"api-key": route.api_key} if route.api_key else {}
        return UpstreamRequest("GET", f"{resource_base(route)}/openai/models?{query}", headers)
