"""/openapi.json for POST /v1/responses and POST /v1/messages: schemas at the level apps need
(the fields infer0 reads and answers; the full shapes are OpenAI's and Anthropic's), and the
error responses from the tables (errors/api_errors.py; on /v1/messages in Anthropic's shape,
with the type errors/anthropic_errors.py gives each code). Merged into the document by
api/openapi.py."""

from __future__ import annotations

from ..errors import api_errors
from ..errors.anthropic_errors import ANTHROPIC_TYPES


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _grouped(where: str) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in api_errors.emitted(where):
        grouped.setdefault(row.status, []).append(row)
    return dict(sorted(grouped.items()))


def anthropic_error_responses() -> dict[str, dict]:
    """The error responses of POST /v1/messages, by status: each lists the infer0 codes behind it
    and admits exactly their Anthropic types."""
    out = {}
    for status, rows in _grouped(api_errors.MESSAGES).items():
        types = sorted({ANTHROPIC_TYPES[r.code] for r in rows})
        schema = {"allOf": [_ref("AnthropicError"),
                            {"properties": {"error": {"properties": {"type": {"enum": types}}}}}]}
        text = "\n".join(f"- {r.code} → `{ANTHROPIC_TYPES[r.code]}`: {r.description}" for r in rows)
        out[str(status)] = {"description": text, "content": {"application/json": {"schema": schema}}}
    return out


SCHEMAS: dict = {
    "AnthropicError": {
        "type": "object", "required": ["type", "error"],
        "properties": {"type": {"const": "error"},
                       "error": {"type": "object", "required": ["type", "message"],
                                 "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "ResponsesRequest": {
        "type": "object", "required": ["input"],
        "properties": {
            "model": {"type": "string", "description": "Ignored unless the user lets the app choose: the "
                                                       "grant's model answers."},
            "input": {"type": ["string", "array"], "description": "A string, or message / function_call / "
                                                                  "function_call_output items."},
            "instructions": {"type": "string"}, "stream": {"type": "boolean"},
            "tools": {"type": "array", "description": "Function tools ({type, name, description, parameters}); "
                                                      "hosted tools only on OpenAI connections."},
            "tool_choice": {"type": ["string", "object"]}, "parallel_tool_calls": {"type": "boolean"},
            "text": {"type": "object", "description": "text.format: text, json_object or json_schema."},
            "max_output_tokens": {"type": "integer"}, "temperature": {"type": "number"},
            "top_p": {"type": "number"}, "reasoning": {"type": "object"}, "metadata": {"type": "object"},
            "store": {"type": "boolean", "description": "Accepted; nothing is stored (sent as false to OpenAI)."},
            "previous_response_id": {"description": "Refused (400 unsupported_parameter): stateless API."},
            "conversation": {"description": "Refused (400 unsupported_parameter): stateless API."},
            "background": {"description": "Refused when true (400 unsupported_parameter)."},
        },
    },
    "Response": {
        "type": "object", "required": ["id", "object", "status", "model", "output"],
        "properties": {"id": {"type": "string"}, "object": {"const": "response"},
                       "created_at": {"type": "number"},
                       "status": {"type": "string", "enum": ["completed", "incomplete", "failed", "in_progress"]},
                       "model": {"type": "string"}, "output": {"type": "array", "items": {"type": "object"}},
                       "usage": {"type": ["object", "null"],
                                 "properties": {"input_tokens": {"type": "integer"},
                                                "output_tokens": {"type": "integer"},
                                                "total_tokens": {"type": "integer"}}}},
    },
    "MessagesRequest": {
        "type": "object", "required": ["model", "max_tokens", "messages"],
        "properties": {
            "model": {"type": "string", "description": "Required by Anthropic's SDKs; the grant's model answers "
                                                       "unless the user lets the app choose."},
            "max_tokens": {"type": "integer", "minimum": 1},
            "messages": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["role", "content"],
                "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"type": ["string", "array"]}}}},
            "system": {"type": ["string", "array"]}, "stream": {"type": "boolean"},
            "tools": {"type": "array"}, "tool_choice": {"type": "object"},
            "stop_sequences": {"type": "array", "items": {"type": "string"}},
            "temperature": {"type": "number"}, "top_p": {"type": "number"}, "top_k": {"type": "integer"},
            "metadata": {"type": "object"},
        },
    },
    "Message": {
        "type": "object", "required": ["id", "type", "role", "content", "model", "stop_reason", "usage"],
        "properties": {"id": {"type": "string"}, "type": {"const": "message"}, "role": {"const": "assistant"},
                       "content": {"type": "array", "items": {"type": "object", "required": ["type"]}},
                       "model": {"type": "string"}, "stop_reason": {"type": ["string", "null"]},
                       "stop_sequence": {"type": ["string", "null"]},
                       "usage": {"type": "object", "required": ["input_tokens", "output_tokens"],
                                 "properties": {"input_tokens": {"type": "integer"},
                                                "output_tokens": {"type": "integer"}}}},
    },
}

_HEADERS_NOTE = (" Headers x-infer0-provider and x-infer0-model name who answered; x-infer0-dropped-params lists "
                 "parameters without effect on a translated connection; x-ratelimit-* as on chat completions.")


def paths(openai_errors) -> dict:
    """The two operations; `openai_errors(where)` is api/openapi.py's generator of OpenAI-shaped errors."""
    return {
        "/v1/responses": {"post": {
            "summary": "OpenAI Responses API, stateless: OpenAI connections pass through (store: false), "
                       "others are translated through chat completions.",
            "tags": ["API"], "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ResponsesRequest")}}},
            "responses": {
                "200": {"description": "A response object, or with stream=true its typed Server-Sent Events "
                                       "(response.created ... response.completed)." + _HEADERS_NOTE,
                        "content": {"application/json": {"schema": _ref("Response")},
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                **openai_errors(api_errors.RESPONSES)}}},
        "/v1/messages": {"post": {
            "summary": "Anthropic Messages API for apps on Anthropic's SDKs (token in x-api-key or "
                       "Authorization: Bearer; anthropic-version accepted and ignored). Anthropic connections "
                       "pass through; others are translated. Errors in Anthropic's shape.",
            "tags": ["API"], "security": [{"apiKeyHeader": []}, {"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("MessagesRequest")}}},
            "responses": {
                "200": {"description": "A message, or with stream=true Anthropic's Server-Sent Events "
                                       "(message_start ... message_stop)." + _HEADERS_NOTE,
                        "content": {"application/json": {"schema": _ref("Message")},
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                **anthropic_error_responses()}}},
    }


SECURITY_SCHEMES = {"apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key",
                                     "description": "An i0_at_ access token (Anthropic SDKs' api_key)."}}
