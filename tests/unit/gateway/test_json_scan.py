"""The chat path's shortcuts give the answers of the long way, whatever the input (hypothesis).

- gateway/json_scan: the C scanner called directly decodes to the value JSONDecoder.decode
  gives, and fails where it fails, with the same error; providers/base.read_json reads bytes as
  json.loads does, except that NaN / Infinity and nesting too deep are ValueErrors;
- request_shape.ScannedBody: skipping the depth / lone-surrogate walk for a body whose text
  cannot hold either never changes check_chat_request's verdict;
- secrets_util.sha256_hex: CPython's SHA-256 gives OpenSSL's digest (stored token hashes match).
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infer0app.gateway.json_scan import document_decoder
from infer0app.gateway.providers.base import GatewayError, read_json
from infer0app.gateway.request_shape import _DECODER, MAX_DEPTH, ScannedBody, check_chat_request, decode_json
from infer0app.services.secrets_util import sha256_hex

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=20)
SPACE = st.sampled_from(["", " ", "\n", "\t\r\n ", "\x0c", "\u00a0"])  # the last two are not JSON whitespace


def outcome(fn, arg):
    try:
        return "value", fn(arg)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, a hook's refusal
        return type(exc).__name__, str(exc)


def reference(raw: bytes):
    """read_json's contract in terms of json.loads."""
    def refuse(name):
        raise ValueError(f"{name} is not a JSON value")
    try:
        return json.loads(raw, parse_constant=refuse)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def same(a, b) -> bool:
    """Equal outcomes; -0.0 and 0.0 told apart (== would not)."""
    return a == b and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@FAST
@given(VALUES, SPACE, SPACE, st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_read_json_reads_what_json_loads_reads(value, before, after, ascii_only, encoding):
    raw = (before + json.dumps(value, ensure_ascii=ascii_only) + after).encode(encoding, "surrogatepass")
    assert same(outcome(read_json, raw), outcome(reference, raw))


@FAST
@given(st.binary(max_size=40) | st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass"))
       | st.sampled_from([b"NaN", b"[1, -Infinity]", b"[" * 5000 + b"]" * 5000]))
def test_read_json_fails_where_json_loads_fails(raw):
    assert same(outcome(read_json, raw), outcome(reference, raw))


@FAST
@given(VALUES, SPACE, SPACE, st.sampled_from(['{"a":1,"a":2}', "NaN", "1e999", "[1,]", '{"a" 1}', ""]))
def test_the_request_decoder_keeps_its_hooks_and_errors(value, before, after, bad):
    decode = document_decoder(_DECODER)
    for text in (before + json.dumps(value) + after, before + bad + after, json.dumps([value, bad])[:-1]):
        assert same(outcome(decode, text), outcome(_DECODER.decode, text))


def chat_bodies():
    """Chat requests whose strings may hold lone surrogates and whose extra field may nest deep."""
    content = st.text() | st.sampled_from(["\ud800", "ok \udfff", "\ud83d\ude00 pair", "\\u"])
    deep = st.integers(min_value=0, max_value=MAX_DEPTH + 3).map(lambda n: json.loads("[" * n + "]" * n) if n else 0)
    return st.builds(lambda text, extra, key: {"model": "m", "messages": [{"role": "user", "content": text}],
                                               "metadata": {key: extra}},
                     content, deep, st.sampled_from(["k", "\udc00k"]))


def verdict(body) -> str | None:
    try:
        check_chat_request(body)
    except GatewayError as exc:
        return str(exc)
    return None


@FAST
@given(chat_bodies(), st.booleans())
def test_skipping_the_walk_never_changes_the_verdict(body, ascii_only):
    raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        decoded = decode_json(raw)
    except GatewayError:  # raw UTF-8 surrogates (ensure_ascii=False) are refused before any walk
        assert not ascii_only
        return
    assert verdict(decoded) == verdict(dict(decoded))  # a plain dict is always walked
    if isinstance(decoded, ScannedBody):
        assert verdict(decoded) is None or "must be" in verdict(decoded)


def test_a_plain_body_is_scanned_and_an_escaped_or_deep_one_is_not():
    assert isinstance(decode_json(b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'), ScannedBody)
    assert type(decode_json(b'{"messages":[{"role":"user","content":"caf\\u00e9"}]}')) is dict
    assert type(decode_json(b'{"x":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")) is dict


@FAST
@given(st.text())
def test_sha256_hex_is_the_standard_digest(text):
    try:
        want = hashlib.sha256(text.encode()).hexdigest()
    except UnicodeEncodeError:
        return  # a lone surrogate cannot be a header's token: both refuse it alike
    assert sha256_hex(text) == want
