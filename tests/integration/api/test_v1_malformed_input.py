"""A malformed-input corpus for /v1: every case is answered 4xx with OpenAI's error object,
never a 5xx, on every wire format (the request is validated once, before any adapter).

Issue 12 §4: role objects, `stream_options: true`, JSON nested 3,000 deep and lone
surrogates each ended in a 500; so did non-ASCII bearer tokens on GET /v1/models and /v1/me.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp
import pytest

USER = {"role": "user", "content": "hi"}


def chat(**fields) -> bytes:
    """A valid chat request with `fields` set (or replaced)."""
    body = {"model": "any", "messages": [USER]}
    body.update(fields)
    return json.dumps(body).encode()


def message(**fields) -> bytes:
    """A request whose one message has `fields` set (or replaced)."""
    return chat(messages=[{**USER, **fields}])


def parts(*content) -> bytes:
    return message(content=list(content))


def raw_chat(tail: str) -> bytes:
    """A request whose text ends with `tail` spliced in verbatim (for what json.dumps cannot write)."""
    return ('{"model": "any", "messages": [{"role": "user", "content": "hi"}]' + tail + "}").encode()


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    param: str | None = None  # the `param` the answer must name (None: not checked)
    content_type: str = "application/json"
    status: int = 400


DEEP = 3000
CASES = [
    # -- the body as a whole ---------------------------------------------------------------
    Case("empty body", b""),
    Case("whitespace body", b"  \n "),
    Case("array body", b"[]"),
    Case("array of the request", b'[{"messages": [{"role": "user", "content": "hi"}]}]'),
    Case("number body", b"42"),
    Case("string body", b'"hello"'),
    Case("null body", b"null"),
    Case("true body", b"true"),
    Case("truncated JSON", b'{"messages": [{"role": "user"'),
    Case("not UTF-8 (latin-1 byte)", b'{"messages": [{"role": "user", "content": "caf\xe9"}]}'),
    Case("not UTF-8 (encoded lone surrogate)", b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}'),
    Case("UTF-16 body", chat().decode().encode("utf-16")),
    Case("charset=bogus-8 on a broken body", b"{nope", content_type="application/json; charset=bogus-8"),
    Case("NaN", raw_chat(', "temperature": NaN')),
    Case("Infinity", raw_chat(', "temperature": Infinity')),
    Case("-Infinity", raw_chat(', "top_p": -Infinity')),
    Case("float overflowing to inf", raw_chat(', "temperature": 1e999')),
    Case("integer of 5,000 digits", raw_chat(', "max_tokens": ' + "9" * 5000)),
    Case("duplicate keys", raw_chat(', "model": "other"')),
    Case("JSON nested 3,000 deep", raw_chat(', "metadata": ' + "[" * DEEP + "]" * DEEP)),
    Case("objects nested 3,000 deep", raw_chat(', "metadata": ' + '{"a":' * DEEP + "1" + "}" * DEEP)),
    Case("nested 500 deep in a tool schema", chat(tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "x": json.loads("[" * 500 + "]" * 500)}}}]), "tools"),
    Case("body over 8 MiB", chat(user="x" * (8 * 1024 * 1024)), status=413),
    # -- messages -------------------------------------------------------------------------
    Case("messages missing", b'{"model": "any"}', "messages"),
    Case("messages an object", chat(messages={"role": "user", "content": "hi"}), "messages"),
    Case("messages a string", chat(messages="hi"), "messages"),
    Case("messages empty", chat(messages=[]), "messages"),
    Case("message a string", chat(messages=["hi"]), "messages[0]"),
    Case("message null", chat(messages=[USER, None]), "messages[1]"),
    Case("role an object", message(role={"name": "user"}), "messages[0].role"),
    Case("role a list", message(role=["user"]), "messages[0].role"),
    Case("role unknown", message(role="wizard"), "messages[0].role"),
    Case("content a number", message(content=7), "messages[0].content"),
    Case("content an object", message(content={"type": "text", "text": "hi"}), "messages[0].content"),
    Case("content a lone surrogate", b'{"messages": [{"role": "user", "content": "\\ud800"}]}',
         "messages[0].content"),
    Case("lone low surrogate in a part",
         b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "a\\udfffb"}]}]}',
         "messages[0].content[0].text"),
    Case("lone surrogate in a key", raw_chat(', "metadata": {"\\ud800": "x"}'), "metadata"),
    Case("part a number", parts(5), "messages[0].content[0]"),
    Case("part null", parts(None), "messages[0].content[0]"),
    Case("part without type", parts({"text": "hi"}), "messages[0].content[0].type"),
    Case("part type a list", parts({"type": ["text"], "text": "hi"}), "messages[0].content[0].type"),
    Case("text part, text a number", parts({"type": "text", "text": 5}), "messages[0].content[0].text"),
    Case("text part, text missing", parts({"type": "text"}), "messages[0].content[0].text"),
    Case("image part, image_url a number", parts({"type": "image_url", "image_url": 5}),
         "messages[0].content[0].image_url"),
    Case("image part, url an object", parts({"type": "image_url", "image_url": {"url": {}}}),
         "messages[0].content[0].image_url.url"),
    Case("name a number", message(name=5), "messages[0].name"),
    Case("tool_calls an object", chat(messages=[{"role": "assistant", "content": None, "tool_calls": {}}]),
         "messages[0].tool_calls"),
    Case("tool_call a string", chat(messages=[{"role": "assistant", "tool_calls": ["f"]}]),
         "messages[0].tool_calls[0]"),
    Case("tool_call function a string", chat(messages=[
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": "f"}]}]),
         "messages[0].tool_calls[0].function"),
    Case("tool_call arguments an object", chat(messages=[
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "f", "arguments": {"a": 1}}}]}]),
         "messages[0].tool_calls[0].function.arguments"),
    Case("tool message without tool_call_id", chat(messages=[USER, {"role": "tool", "content": "r"}]),
         "messages[1].tool_call_id"),
    Case("tool message with tool_call_id null", chat(messages=[USER, {"role": "tool", "tool_call_id": None,
                                                                      "content": "r"}]),
         "messages[1].tool_call_id"),
    Case("image part, image_url a plain string", parts({"type": "image_url", "image_url": "https://x.example/a.png"}),
         "messages[0].content[0].image_url"),
    Case("tool_call_id a number", chat(messages=[USER, {"role": "tool", "tool_call_id": 3, "content": "r"}]),
         "messages[1].tool_call_id"),
    # -- scalar parameters ----------------------------------------------------------------
    Case("model an object", chat(model={"id": "gpt"}), "model"),
    Case("model a list", chat(model=["a", "b"]), "model"),
    Case("stream a string", chat(stream="yes"), "stream"),
    Case("stream_options true", chat(stream=True, stream_options=True), "stream_options"),
    Case("stream_options true, not streaming", chat(stream_options=True), "stream_options"),
    Case("stream_options a list", chat(stream=True, stream_options=[]), "stream_options"),
    Case("include_usage a string", chat(stream=True, stream_options={"include_usage": "yes"}),
         "stream_options.include_usage"),
    Case("n a string", chat(n="2"), "n"),
    Case("n negative", chat(n=-1), "n"),
    Case("n zero", chat(n=0), "n"),
    Case("n a float", chat(n=1.5), "n"),
    Case("n true", chat(n=True), "n"),
    Case("n huge", chat(n=10**12), "n"),
    Case("max_tokens a string", chat(max_tokens="100"), "max_tokens"),
    Case("max_tokens negative", chat(max_tokens=-5), "max_tokens"),
    Case("max_tokens a float", chat(max_tokens=10.5), "max_tokens"),
    Case("max_tokens huge", chat(max_tokens=10**20), "max_tokens"),
    Case("max_tokens a list", chat(max_tokens=[1]), "max_tokens"),
    Case("max_completion_tokens an object", chat(max_completion_tokens={}), "max_completion_tokens"),
    Case("temperature a string", chat(temperature="hot"), "temperature"),
    Case("temperature out of range", chat(temperature=9), "temperature"),
    Case("top_p a list", chat(top_p=[1]), "top_p"),
    Case("presence_penalty a string", chat(presence_penalty="x"), "presence_penalty"),
    Case("seed a float", chat(seed=1.5), "seed"),
    Case("seed huge", chat(seed=10**30), "seed"),
    Case("stop a number", chat(stop=5), "stop"),
    Case("stop a list of numbers", chat(stop=[1, 2]), "stop[0]"),
    Case("stop with 5 sequences (OpenAI: up to 4)", chat(stop=list("abcde")), "stop"),
    Case("stop with 50 sequences", chat(stop=[f"s{i}" for i in range(50)]), "stop"),
    Case("user an object", chat(user={}), "user"),
    Case("logprobs a string", chat(logprobs="yes"), "logprobs"),
    Case("top_logprobs negative", chat(top_logprobs=-1), "top_logprobs"),
    Case("logit_bias a list", chat(logit_bias=[1]), "logit_bias"),
    Case("logit_bias of strings", chat(logit_bias={"50256": "ban"}), "logit_bias.50256"),
    Case("parallel_tool_calls a string", chat(parallel_tool_calls="yes"), "parallel_tool_calls"),
    Case("metadata a string", chat(metadata="x"), "metadata"),
    # -- tools and formats ------------------------------------------------------------------
    Case("tools an object", chat(tools={"type": "function"}), "tools"),
    Case("tools a string", chat(tools="f"), "tools"),
    Case("tool a number", chat(tools=[1]), "tools[0]"),
    Case("tool without function", chat(tools=[{"type": "function"}]), "tools[0].function"),
    Case("tool function a list", chat(tools=[{"type": "function", "function": []}]), "tools[0].function"),
    Case("tool name a number", chat(tools=[{"type": "function", "function": {"name": 5}}]),
         "tools[0].function.name"),
    Case("tool name empty", chat(tools=[{"type": "function", "function": {"name": ""}}]),
         "tools[0].function.name"),
    Case("tool parameters a string", chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "{}"}}]),
         "tools[0].function.parameters"),
    Case("tool type a number", chat(tools=[{"type": 1, "function": {"name": "f"}}]), "tools[0].type"),
    Case("tool_choice a number", chat(tool_choice=5), "tool_choice"),
    Case("tool_choice an unknown word", chat(tool_choice="always"), "tool_choice"),
    Case("tool_choice without function", chat(tool_choice={"type": "function"}), "tool_choice.function"),
    Case("response_format a string", chat(response_format="json"), "response_format"),
    Case("response_format type a number", chat(response_format={"type": 5}), "response_format.type"),
    Case("json_schema a string", chat(response_format={"type": "json_schema", "json_schema": "x"}),
         "response_format.json_schema"),
    Case("json_schema schema a list", chat(response_format={"type": "json_schema",
                                                            "json_schema": {"name": "s", "schema": []}}),
         "response_format.json_schema.schema"),
]
assert len({c.name for c in CASES}) == len(CASES)

#: One route per wire format: the in-process sandbox and the fakes of the paid providers.
KINDS = ["sandbox", "openai", "anthropic", "gemini", "azure-openai"]


def _is_openai_error(answer) -> bool:
    err = answer.get("error") if isinstance(answer, dict) else None
    return (isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"]
            and isinstance(err.get("type"), str) and "code" in err and "param" in err)


async def _answer(http, url, headers, body):
    async with http.post(url, data=body, headers=headers) as resp:
        text = await resp.text(errors="replace")
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text


@pytest.mark.parametrize("kind", KINDS)
async def test_malformed_chat_requests_get_4xx_openai_errors(api_for, kind):
    """Every corpus case on every wire format: the expected status, OpenAI's error object, the
    `param` named; no 5xx. (One server per wire format; failures are listed together.)"""
    api = await api_for(kind)
    url = api.url + "/v1/chat/completions"
    wrong = []
    async with aiohttp.ClientSession() as http:
        for case in CASES:
            headers = {"Authorization": f"Bearer {api.seeded.access_token}", "Content-Type": case.content_type}
            status, answer = await _answer(http, url, headers, case.body)
            if status != case.status or not _is_openai_error(answer):
                wrong.append(f"{case.name}: {status} {str(answer)[:200]}")
            elif case.param is not None and answer["error"]["param"] != case.param:
                wrong.append(f"{case.name}: param {answer['error']['param']!r}, expected {case.param!r}")
        # the server is still healthy after the corpus
        status, answer = await _answer(http, url, {"Authorization": f"Bearer {api.seeded.access_token}"}, chat())
        assert status == 200, answer
    assert len(CASES) >= 40
    assert not wrong, "\n".join(wrong)


async def test_corpus_answers_name_the_invalid_request(api_for):
    """Validation failures are `invalid_request` / `invalid_json`, never a provider code: the
    request was refused before any provider was called."""
    api = await api_for("openai")
    headers = {"Authorization": f"Bearer {api.seeded.access_token}"}
    async with aiohttp.ClientSession() as http:
        for case in CASES:
            if case.status == 400:
                status, answer = await _answer(http, api.url + "/v1/chat/completions",
                                               {**headers, "Content-Type": case.content_type}, case.body)
                assert answer["error"]["code"] in ("invalid_request", "invalid_json"), (case.name, answer)
    assert api.fake.state.requests == [], "a malformed request reached the provider"


@pytest.mark.parametrize("charset", ["bogus-8", "utf-16", "latin-1"])
async def test_charset_parameter_is_ignored_json_is_utf8(api_for, charset):
    """RFC 8259 §11: application/json has no charset parameter; a JSON body is UTF-8 whatever it says."""
    api = await api_for("sandbox")
    headers = {"Authorization": f"Bearer {api.seeded.access_token}",
               "Content-Type": f"application/json; charset={charset}"}
    async with aiohttp.ClientSession() as http:
        status, answer = await _answer(http, api.url + "/v1/chat/completions", headers,
                                       chat(messages=[{"role": "user", "content": "café ☕"}]))
    assert status == 200, answer
    assert "café ☕" in answer["choices"][0]["message"]["content"]


async def test_valid_edge_values_still_pass(api_for):
    """The validator refuses shapes, not valid requests: nulls for optional fields, paired
    surrogate escapes (an emoji), content parts, tools and formats as OpenAI documents them."""
    api = await api_for("sandbox")
    body = raw_chat(', "temperature": null, "max_tokens": null, "stop": null, "n": 1, "stream": false,'
                    ' "stream_options": null, "seed": -3, "top_p": 1, "logit_bias": {"50256": -100},'
                    ' "metadata": {"k": "v"}, "user": "\\ud83d\\ude00"')
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {api.seeded.access_token}"}
        status, answer = await _answer(http, api.url + "/v1/chat/completions", headers, body)
        assert status == 200, answer
        body = chat(messages=[{"role": "system", "content": [{"type": "text", "text": "be brief"}]},
                              {"role": "user", "content": [{"type": "text", "text": "hi \U0001F600"}], "name": "ann"},
                              {"role": "assistant", "content": None, "tool_calls": [
                                  {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                              {"role": "tool", "tool_call_id": "c1", "content": "42"}],
                    tools=[{"type": "function", "function": {"name": "f", "description": "d",
                                                             "parameters": {"type": "object", "properties": {}}}}],
                    tool_choice={"type": "function", "function": {"name": "f"}},
                    response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
                    max_completion_tokens=50, stop=["\n\n", "END", "###", "--"])  # OpenAI's most: 4
        status, answer = await _answer(http, api.url + "/v1/chat/completions", headers, body)
        assert status == 200, answer


async def test_dropped_param_names_cannot_break_the_answer_headers(api_for):
    """Unknown params are dropped and named in x-infer0-dropped-params; a name holding CR/LF (or
    any non-printable character) is escaped there, not sent raw (aiohttp refused to, and
    dropped the connection without an answer: found by schemathesis)."""
    api = await api_for("sandbox")
    body = chat(**{"bad\r\nX-Injected: 1": 1, "caf\u00e9\x7f": 2})
    async with aiohttp.ClientSession() as http:
        async with http.post(api.url + "/v1/chat/completions", data=body,
                             headers={"Authorization": f"Bearer {api.seeded.access_token}"}) as resp:
            assert resp.status == 200, await resp.text()
            assert "X-Injected" not in resp.headers
            dropped = resp.headers["x-infer0-dropped-params"]
    assert dropped == "bad\\u000d\\u000aX-Injected: 1, caf\\u00e9\\u007f"


# -- bad Authorization headers on the GET operations ------------------------------------------
async def _raw_get(url: str, path: str, authorization: bytes | None) -> tuple[int, object]:
    """A GET written byte for byte (HTTP clients refuse non-ASCII header values)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n".encode()
    if authorization is not None:
        head += b"Authorization: " + authorization + b"\r\n"
    writer.write(head + b"\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    try:
        answer = json.loads(body)
    except ValueError:
        answer = body[:200]
    return int(status_line.split()[1]), answer


BAD_AUTHORIZATION = {
    "missing": None,
    "empty": b"",
    "Bearer alone": b"Bearer",
    "Bearer and a space": b"Bearer ",
    "Basic": b"Basic dXNlcjpwYXNz",
    "Basic of invalid UTF-8": b"Basic //46/w==",
    "two words": b"Bearer i0_at_abc def",
    "non-ASCII (UTF-8)": "Bearer i0_at_caf\u00e9\u2603".encode(),
    "non-ASCII (latin-1)": b"Bearer i0_at_caf\xe9",
    "invalid UTF-8": b"Bearer i0_at_\xff\xfe\xfd",
    "10 KB token": b"Bearer i0_at_" + b"a" * 10_000,
    "10 KB non-ASCII": b"Bearer i0_at_" + "\u00e9".encode() * 5000,
    "lowercase bearer, bogus token": b"bearer i0_at_nope",
}


@pytest.mark.parametrize("path", ["/v1/models", "/v1/me", "/v1/chat/completions"])
async def test_bad_authorization_headers_get_401_openai_errors(api_for, path):
    api = await api_for("sandbox")
    wrong = []
    for name, value in BAD_AUTHORIZATION.items():
        status, answer = await _raw_get(api.url, path, value)
        expected = 405 if path == "/v1/chat/completions" else 401
        if status != expected or not _is_openai_error(answer):
            wrong.append(f"{name}: {status} {str(answer)[:200]}")
    status, _ = await _raw_get(api.url, "/v1/models", b"Bearer " + api.seeded.access_token.encode())
    assert status == 200
    assert not wrong, "\n".join(wrong)
