"""The inbound stream translators' exact wire output, branch by branch.

Chat chunk sequences that the recorded provider streams do not contain (refusals, tool calls
without `index`, a fragment of an earlier call after a later one started, a tool call with no
argument text, a name sent after the call opened, chunks after the end, a frame that is not
JSON, an error chunk, a length stop) go through `MessagesStream` and `ResponsesStream`.
Each test asserts the events an SDK relies on (Anthropic: block order, indexes, the `{}`
fallback; OpenAI Responses: item and part order, `sequence_number`), and the whole byte
output is compared with a golden transcript (tests/fixtures/transcripts/inbound/), so field
order and names on the wire are held too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infer0app.gateway.inbound.messages_stream import MessagesStream
from infer0app.gateway.inbound.responses_stream import ResponsesStream
from infer0app.gateway.sse import SSEParser, encode_json
from tests.fakes.transcripts import FIXTURES
from tests.unit.gateway.inbound.conftest import counter_ids

GOLDEN = FIXTURES / "inbound"


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c", "object": "chat.completion.chunk", "model": "up-1", "choices": choices, **extra}


def _call(index: int | None, *, id: str | None = None, name: str | None = None, args: str | None = None) -> dict:
    fn = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    call: dict[str, Any] = {"function": fn}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"], call["type"] = id, "function"
    return {"tool_calls": [call]}


USAGE = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19,
         "prompt_tokens_details": {"cached_tokens": 4}}

#: name -> the chat stream's frames (bytes), as the pipeline yields them
SCENARIOS: dict[str, list[bytes]] = {
    # refusal after text, then text again; a frame that is not JSON is skipped; usage at the end
    "text_refusal": [
        encode_json(_chunk({"role": "assistant", "content": ""})),
        encode_json(_chunk({"content": "Hel"})),
        b"data: {not json\n\n",
        encode_json(_chunk({"content": "lo"})),
        encode_json(_chunk({"refusal": "I can't."})),
        encode_json(_chunk({"content": " Bye"})),
        encode_json(_chunk({}, "stop")),
        encode_json(_chunk(None, usage=USAGE)),
        b"data: [DONE]\n\n",
    ],
    # calls without `index` (a new id is a new call; no id continues the last), a call with no
    # argument text, a fragment of the first call after the second started, a late name
    "tools_without_index": [
        encode_json(_chunk({"content": "Looking."})),
        encode_json(_chunk(_call(None, id="call_a", name="find", args='{"q":'))),
        encode_json(_chunk(_call(None, args='"x"}'))),
        encode_json(_chunk(_call(None, id="call_b", name="noargs"))),
        encode_json(_chunk(_call(2, id="call_c", args='{"n":'))),
        encode_json(_chunk(_call(2, name="late", args="1}"))),
        encode_json(_chunk({}, "tool_calls")),
        b"data: [DONE]\n\n",
        encode_json(_chunk({"content": "after the end"})),
    ],
    # the provider stops on length
    "length": [
        encode_json(_chunk({"content": "cut"})),
        encode_json(_chunk({}, "length", usage=USAGE)),
        b"data: [DONE]\n\n",
    ],
    # the provider fails mid-stream with a rate limit; nothing after the failure is sent
    "error_mid_stream": [
        encode_json(_chunk({"content": "partial"})),
        encode_json(_chunk(_call(0, id="call_z", name="f", args="{"))),
        encode_json({"error": {"message": "Slow down.", "type": "rate_limit_error", "code": "provider_rate_limited",
                               "param": None}}),
        encode_json(_chunk({"content": "late"})),
        b"data: [DONE]\n\n",
    ],
}


def _messages_wire(frames: list[bytes]) -> bytes:
    tr = MessagesStream(model="asked", new_id=counter_ids())
    out = [o for f in frames for o in tr.feed_frame(f)] + tr.finish()
    return b"".join(out)


def _responses_wire(frames: list[bytes]) -> bytes:
    tr = ResponsesStream({"input": "x", "temperature": 0.5}, model="asked", created_at=1700000000,
                         new_id=counter_ids())
    out = tr.start() + [o for f in frames for o in tr.feed_frame(f)] + tr.finish()
    return b"".join(out)


def _events(wire: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = SSEParser().feed(wire)
    return [(e.event or "", json.loads(e.data)) for e in events]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_messages_wire_matches_the_golden_transcript(name: str) -> None:
    assert _messages_wire(SCENARIOS[name]) == (GOLDEN / f"{name}.messages.sse").read_bytes()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_responses_wire_matches_the_golden_transcript(name: str) -> None:
    assert _responses_wire(SCENARIOS[name]) == (GOLDEN / f"{name}.responses.sse").read_bytes()


def test_messages_every_event_names_its_type_in_the_data() -> None:
    for frames in SCENARIOS.values():
        for event, data in _events(_messages_wire(frames)):
            assert data["type"] == event


def test_messages_refusal_is_text_and_blocks_follow_each_other() -> None:
    events = _events(_messages_wire(SCENARIOS["text_refusal"]))
    kinds = [e for e, _ in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    assert events[0][1]["message"]["model"] == "up-1"  # the model that answered, from the first chunk
    texts = "".join(d["delta"]["text"] for e, d in events if e == "content_block_delta")
    assert texts == "HelloI can't. Bye"
    assert [d["index"] for e, d in events if e == "content_block_start"] == [0]  # one text block
    assert events[-2][1]["usage"] == {"input_tokens": 8, "output_tokens": 7, "cache_read_input_tokens": 4,
                                      "cache_creation_input_tokens": 0}
    assert events[-2][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_messages_tool_calls_without_index() -> None:
    events = _events(_messages_wire(SCENARIOS["tools_without_index"]))
    starts = [(d["index"], d["content_block"]) for e, d in events if e == "content_block_start"]
    assert starts == [
        (0, {"type": "text", "text": ""}),
        (1, {"type": "tool_use", "id": "call_a", "name": "find", "input": {}}),
        (2, {"type": "tool_use", "id": "call_b", "name": "noargs", "input": {}}),
        # the name came with the call's second fragment: the start (the only place Anthropic
        # names a tool) waited for it, and the argument text with it
        (3, {"type": "tool_use", "id": "call_c", "name": "late", "input": {}}),
    ]
    args: dict[int, str] = {}
    for e, d in events:
        if e == "content_block_delta" and d["delta"]["type"] == "input_json_delta":
            args[d["index"]] = args.get(d["index"], "") + d["delta"]["partial_json"]
    assert args == {1: '{"q":"x"}', 2: "{}", 3: '{"n":1}'}  # a call with no argument text gets {}
    stops = [d["index"] for e, d in events if e == "content_block_stop"]
    assert stops == [0, 1, 2, 3]  # each block stopped once, in order
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert not any("after the end" in json.dumps(d) for _, d in events)


def test_messages_error_mid_stream_is_the_last_event() -> None:
    events = _events(_messages_wire(SCENARIOS["error_mid_stream"]))
    assert events[-1] == ("error", {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down."}})
    assert [e for e, _ in events].count("error") == 1 and "message_stop" not in [e for e, _ in events]


def test_messages_length_stop() -> None:
    events = _events(_messages_wire(SCENARIOS["length"]))
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"


def test_responses_sequence_numbers_count_from_zero() -> None:
    for frames in SCENARIOS.values():
        events = _events(_responses_wire(frames))
        assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
        assert all(d["type"] == e for e, d in events)


def test_responses_refusal_gets_its_own_part() -> None:
    events = _events(_responses_wire(SCENARIOS["text_refusal"]))
    parts = [(d["content_index"], d["part"]["type"]) for e, d in events if e == "response.content_part.added"]
    assert parts == [(0, "output_text"), (1, "refusal"), (2, "output_text")]
    final = events[-1][1]["response"]
    assert events[-1][0] == "response.completed" and final["model"] == "up-1"
    content = final["output"][0]["content"]
    assert [c.get("text", c.get("refusal")) for c in content] == ["Hello", "I can't.", " Bye"]
    assert final["usage"]["input_tokens"] == 12 and final["usage"]["output_tokens"] == 7


def test_responses_tool_calls_without_index() -> None:
    events = _events(_responses_wire(SCENARIOS["tools_without_index"]))
    final = events[-1][1]["response"]
    calls = [(i["call_id"], i["name"], i["arguments"]) for i in final["output"] if i["type"] == "function_call"]
    assert calls == [("call_a", "find", '{"q":"x"}'), ("call_b", "noargs", ""), ("call_c", "late", '{"n":1}')]
    kinds = [e for e, _ in events]
    # the message closes when the first call opens; the calls stay open until the end
    assert kinds.index("response.output_item.done") < kinds.index("response.function_call_arguments.delta")
    assert kinds.count("response.function_call_arguments.done") == 3
    assert not any("after the end" in json.dumps(d) for _, d in events)


def test_responses_length_stop_is_incomplete() -> None:
    events = _events(_responses_wire(SCENARIOS["length"]))
    assert events[-1][0] == "response.incomplete"
    response = events[-1][1]["response"]
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["status"] == "incomplete"


def test_responses_error_mid_stream_fails_the_response() -> None:
    events = _events(_responses_wire(SCENARIOS["error_mid_stream"]))
    assert [e for e, _ in events][-2:] == ["error", "response.failed"]
    error = events[-2][1]
    assert (error["code"], error["message"], error["param"]) == ("provider_rate_limited", "Slow down.", None)
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "rate_limit_exceeded", "message": "Slow down."}
