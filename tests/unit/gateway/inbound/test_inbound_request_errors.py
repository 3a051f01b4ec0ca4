"""The request translators' answers to malformed parameters they share in kind (sampling
numbers, token caps, tools, system and tool-result text), each in its own API's wording:
the message text is what the app's developer reads, `param` what an SDK exposes."""

from __future__ import annotations

import pytest

from infer0app.gateway.inbound import messages, responses
from infer0app.gateway.providers.base import GatewayError

MSG = {"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
RESP = {"input": "hi"}


@pytest.mark.parametrize(("extra", "param", "message"), [
    ({"temperature": "hot"}, "temperature", "temperature: a number is required."),
    ({"top_p": True}, "top_p", "top_p: a number is required."),
    ({"max_tokens": True}, "max_tokens", "max_tokens: an integer from 1 to 2147483647 is required."),
    ({"max_tokens": 1.5}, "max_tokens", "max_tokens: an integer from 1 to 2147483647 is required."),
    ({"tools": {"name": "f"}}, "tools", "tools: an array is required."),
    ({"stop_sequences": "END"}, "stop_sequences", "stop_sequences: an array of strings is required."),
    ({"system": [{"type": "image"}]}, "system.0", "system.0: only text blocks are allowed in `system`."),
    ({"system": 3}, "system", "system: a string or an array of text blocks is required."),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                                 "content": [{"type": "image"}]}]}]},
     "messages.0.content.0.content", "messages.0.content.0.content.0: only text can be passed on as a tool result."),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": 3}]}]},
     "messages.0.content.0.content",
     "messages.0.content.0.content: a string or an array of text blocks is required."),
    # found by probing from outside: these were accepted and ignored (or mis-read)
    ({"stream": "yes"}, "stream", "`stream` must be true or false."),
    ({"stream": 1}, "stream", "`stream` must be true or false."),
    ({"metadata": "x"}, "metadata", "metadata: an object whose user_id is a string is required."),
    ({"metadata": {"user_id": {}}}, "metadata", "metadata: an object whose user_id is a string is required."),
    # found by probing: these reached the chat validator, whose errors named the translated request's
    # fields (`tools[0].function.parameters`, `messages[2].tool_calls[0].id`, `messages[1].content`:
    # shifted by the system message), which the app never sent
    ({"max_tokens": 2**31}, "max_tokens", "max_tokens: an integer from 1 to 2147483647 is required."),
    ({"tools": [{"name": "f", "input_schema": "x"}]}, "tools.0.input_schema",
     "tools.0.input_schema: an object is required."),
    ({"tools": [{"name": "", "input_schema": {}}]}, "tools.0.name", "tools.0.name: a non-empty string is required."),
    ({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "", "name": "f", "input": {}}]}]},
     "messages.0.content.0.id", "messages.0.content.0.id: a non-empty string is required."),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "", "content": "r"}]}]},
     "messages.0.content.0.tool_use_id", "messages.0.content.0.tool_use_id: a non-empty string is required."),
    ({"tool_choice": {"type": "tool", "name": ""}, "tools": [{"name": "f", "input_schema": {}}]}, "tool_choice",
     "tool_choice: type must be auto, any, tool (with a name) or none."),
    ({"system": "s", "messages": [{"role": "user", "content": "\ud800"}]}, "messages[0].content",
     "`messages[0].content` holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape): not a Unicode "
     "character, so no provider can be sent it."),
])
def test_messages_request_errors(extra: dict, param: str, message: str) -> None:
    with pytest.raises(GatewayError) as caught:
        messages.to_chat({**MSG, **extra})
    assert (caught.value.status, caught.value.param, caught.value.message) == (400, param, message)


@pytest.mark.parametrize(("extra", "param", "message"), [
    ({"temperature": "hot"}, "temperature", "`temperature` must be a number."),
    ({"top_p": False}, "top_p", "`top_p` must be a number."),
    ({"max_output_tokens": True}, "max_output_tokens", "`max_output_tokens` must be an integer from 1 to 2147483647."),
    ({"tools": {"type": "function"}}, "tools", "`tools` must be an array."),
    ({"tools": [{"type": "function"}]}, "tools[0].name", "tools[0].name is required."),
    ({"metadata": ["a"]}, "metadata", "`metadata` must be an object of string values."),
    # found by probing from outside: a 500 (an unhashable role), or accepted and ignored / mis-read
    ({"input": [{"role": {"x": 1}, "content": "hi"}]}, "input[0].role",
     "input[0].role must be one of: assistant, developer, system, user."),
    ({"input": [{"role": ["user"], "content": "hi"}]}, "input[0].role",
     "input[0].role must be one of: assistant, developer, system, user."),
    ({"stream": "yes"}, "stream", "`stream` must be true or false."),
    ({"store": "no"}, "store", "`store` must be true or false."),
    ({"user": {}}, "user", "`user` must be a string."),
    ({"metadata": {"a": {"b": 1}}}, "metadata", "`metadata` must be an object of string values."),
    ({"tools": [{"type": "function", "name": "f"}], "parallel_tool_calls": "no"}, "parallel_tool_calls",
     "`parallel_tool_calls` must be true or false."),
    # found by probing: named after the translated chat request before (`max_tokens`,
    # `tools[0].function.parameters`, `messages[0].content`), or a 500 (an unhashable tool name)
    ({"max_output_tokens": 2**31}, "max_output_tokens", "`max_output_tokens` must be an integer from 1 to 2147483647."),
    ({"tools": [{"type": "function", "name": "f", "parameters": "x"}]}, "tools[0].parameters",
     "tools[0].parameters must be an object."),
    ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "\ud800"}]}]}, "input[0].content[0].text",
     "`input[0].content[0].text` holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape): not a "
     "Unicode character, so no provider can be sent it."),
    ({"tools": [{"type": "function", "name": "f"}],
      "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": {}}]}},
     "tool_choice.tools", "tool_choice.tools may only name function tools."),
])
def test_responses_request_errors(extra: dict, param: str, message: str) -> None:
    with pytest.raises(GatewayError) as caught:
        responses.to_chat({**RESP, **extra})
    assert (caught.value.status, caught.value.param, caught.value.message) == (400, param, message)


@pytest.mark.parametrize("translate, body", [(messages.to_chat, MSG), (responses.to_chat, RESP)])
def test_sampling_stream_and_dropped_parameters(translate, body: dict) -> None:
    chat = translate({**body, "temperature": 1, "top_p": 0.5, "stream": True, "zzz_unknown": 1, "aaa_unknown": None})
    assert (chat.body["temperature"], chat.body["top_p"]) == (1, 0.5)
    assert chat.body["stream"] is True and chat.body["stream_options"] == {"include_usage": True}
    assert chat.stream is True
    assert chat.dropped == ("zzz_unknown",)  # listed, sorted; a null one is not
    plain = translate({**body, "stream": False})
    assert plain.stream is False and "stream" not in plain.body and "stream_options" not in plain.body
