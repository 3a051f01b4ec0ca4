"""Inbound APIs other than Chat Completions, translated to and from infer0's internal shape.

infer0's pipeline speaks OpenAI Chat Completions (a request body in, a `chat.completion`
body or `chat.completion.chunk` SSE frames out). The modules here are pure translators at
its edge, for apps built on other SDKs:

* `responses` / `responses_stream`: OpenAI's Responses API (`POST /v1/responses`, stateless);
* `messages` / `messages_stream`: Anthropic's Messages API (`POST /v1/messages`).

What both share lives beside them: `common` (the translated `ChatRequest`, ids, usage and
request-parameter helpers) and `chunk_reader` (reading the pipeline's chat stream; each
stream translator adds only its own API's events).

Each request translator answers a `ChatRequest` (or raises `GatewayError(400)` naming the
parameter); each response translator reads the pipeline's output. A connection whose
provider speaks the inbound API natively (OpenAI for responses, Anthropic for messages)
need not go through them: the handler may forward the body as it is.
"""
