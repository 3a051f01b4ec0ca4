"""Upstream faults through the real `infer0 serve`, with the official openai SDK as the client (issue 18 §3).

Each provider wire (OpenAI, Anthropic, Gemini's OpenAI endpoint, Azure) is pointed at
tests/fakes/faulty_upstream.py, which misbehaves at the byte level: refused and reset
connections, error events inside a 200, malformed JSON and SSE, a slow drip, a stream that
never ends, bodies that are not UTF-8 or 100 MB long. Every fault must end as the documented
OpenAI error (infer0app/errors/api_errors.py) or a clean stream end: never a 500, never a
hang past `--upstream-timeout` (2 s here), and the upstream connection is always closed.
"""

from __future__ import annotations

import httpx
import openai
import pytest

from infer0app.services.datadir import open_data_dir
from tests.fakes.faulty_upstream import FaultyUpstream, closed_port
from tests.support.egress import FAKES_ALLOW
from tests.support.processes import ServerProcess
from tests.support.seed import seed_grant

UPSTREAM_TIMEOUT = 2.0
#: Seconds a test waits for infer0's answer: the upstream timeout with room for a loaded CI box.
#: A hang is a failure (httpx raises), not a long wait.
CLIENT_TIMEOUT = 8.0
WIRES = {  # wire -> (provider kind, base URL path on the fake, model / deployment)
    "openai": ("openai", "/v1", "gpt-4o-mini"),
    "anthropic": ("anthropic", "", "claude-sonnet-4-5"),
    "gemini": ("gemini", "/v1beta/openai", "gemini-2.5-flash"),
    "azure": ("azure-openai", "", "chat-deploy"),
}

# What each fault must become. ("http", status, code): the call fails with that OpenAI error.
# ("mid", code): a stream that already sent content ends with an error chunk of that code.
# A 200 whose body is an error object is not a chat completion: provider_bad_response. A reset
# after part of a stream reads as the stream ending early (provider_stream_ended).
NON_STREAM = {
    "refused": ("http", 502, "provider_unreachable"),
    "reset_before_headers": ("http", 502, "provider_unreachable"),
    "reset_mid_stream": ("http", 502, "provider_unreachable"),
    "error_event": ("http", 502, "provider_bad_response"),
    "malformed_json": ("http", 502, "provider_bad_response"),
    "slow_drip": ("http", 504, "provider_timeout"),
    "never_ends": ("http", 504, "provider_timeout"),
    "non_utf8": ("http", 502, "provider_bad_response"),
    "huge_body": ("http", 502, "provider_bad_response"),
}
STREAM = {
    "refused": ("http", 502, "provider_unreachable"),
    "reset_before_headers": ("http", 502, "provider_unreachable"),
    "reset_mid_stream": ("mid", "provider_stream_ended"),
    "error_event": ("http", 502, "provider_unavailable"),
    "error_after_content": ("mid", "provider_unavailable"),
    "malformed_json": ("http", 502, "provider_bad_response"),
    "sse_no_data": ("http", 502, "provider_stream_ended"),
    "sse_partial_last_line": ("mid", "provider_bad_response"),
    "sse_5mb_line": ("http", 502, "provider_bad_response"),
    "slow_drip": ("http", 504, "provider_timeout"),
    "never_ends": ("mid", "provider_timeout"),
    "non_utf8": ("http", 502, "provider_bad_response"),
    "huge_body": ("http", 502, "provider_bad_response"),
}


class Served:
    def __init__(self, server: ServerProcess, up: FaultyUpstream, tokens: dict[str, str]):
        self.server, self.up, self.tokens = server, up, tokens

    def client(self, name: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.url + "/v1", api_key=self.tokens[name], max_retries=0,
                             timeout=httpx.Timeout(CLIENT_TIMEOUT))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("faults") / "data"
    with FaultyUpstream() as up:
        store, vault = open_data_dir(data_dir, create=True)
        tokens = {}
        try:
            for wire, (kind, path, model) in WIRES.items():
                tokens[wire] = seed_grant(store, vault, kind=kind, base_url=up.url + path, api_key="sk-fault-0000",
                                          model=model).access_token
                dead = f"http://127.0.0.1:{closed_port()}{path}"
                tokens[wire + ":refused"] = seed_grant(store, vault, kind=kind, base_url=dead,
                                                       api_key="sk-fault-0000", model=model).access_token
        finally:
            store.close()
        server = ServerProcess(data_dir, "--upstream-allow", FAKES_ALLOW,
                               "--upstream-timeout", str(UPSTREAM_TIMEOUT))
        try:
            yield Served(server, up, tokens)
        finally:
            server.stop()


def _call(served: Served, wire: str, fault: str, stream: bool) -> tuple[str, object]:
    """Run one chat call; ("http", status, code) for an error answer, ("mid", code) for a stream that
    broke after content, ("end",) for a clean end, ("ok", text) for a full answer."""
    client = served.client(wire + (":refused" if fault == "refused" else ""))
    served.up.fault = fault
    messages = [{"role": "user", "content": "hello"}]
    text = ""
    try:
        if not stream:
            answer = client.chat.completions.create(model="", messages=messages)
            return ("ok", answer.choices[0].message.content)
        with client.chat.completions.create(model="", messages=messages, stream=True) as chunks:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
        return ("end",)
    except openai.APIStatusError as exc:
        return ("http", exc.status_code, (exc.body or {}).get("code"))
    except openai.APIError as exc:  # an error chunk inside the 200 stream
        assert text, "an error chunk before any content should have been an HTTP error"
        return ("mid", (exc.body or {}).get("code"))


def _matrix(table: dict) -> list:
    return [pytest.param(wire, fault, id=f"{wire}-{fault}") for wire in WIRES for fault in table]


@pytest.mark.parametrize(("wire", "fault"), _matrix(NON_STREAM))
def test_non_stream_fault_is_the_documented_error(served: Served, wire: str, fault: str) -> None:
    assert _call(served, wire, fault, stream=False) == NON_STREAM[fault]
    assert served.up.wait_all_closed(), f"{served.up.open_connections} upstream connection(s) left open"
    assert served.server.proc.poll() is None


@pytest.mark.parametrize(("wire", "fault"), _matrix(STREAM))
def test_stream_fault_is_the_documented_error(served: Served, wire: str, fault: str) -> None:
    expected = STREAM[fault]
    if fault == "error_after_content" and wire != "anthropic":
        # An OpenAI-wire provider's own error chunk reaches the app as the provider sent it
        # (openai_compat.PassthroughTranslator): an OpenAI error object, code and all (here null).
        expected = ("mid", None)
    assert _call(served, wire, fault, stream=True) == expected
    assert served.up.wait_all_closed(), f"{served.up.open_connections} upstream connection(s) left open"
    assert served.server.proc.poll() is None


def _peak_rss_after(pid: int, run) -> int:
    """Bytes the process's peak RSS (VmHWM) grew by while `run()` ran: the peak is reset first
    (/proc/PID/clear_refs "5"), so a short spike between two samples is not missed."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    before = _status_kb(pid, "VmRSS")
    run()
    return (_status_kb(pid, "VmHWM") - before) * 1024


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


MEMORY_CASES = [("huge_body", False), ("huge_body", True), ("sse_5mb_line", True)]


@pytest.mark.parametrize(("fault", "stream"), MEMORY_CASES, ids=[f"{f}-{'stream' if s else 'body'}"
                                                                 for f, s in MEMORY_CASES])
def test_memory_stays_bounded_on_huge_answers(served: Served, fault: str, stream: bool) -> None:
    """A 100 MB body or line may not be held in memory: the server's peak RSS grows by less than
    the cap infer0 reads up to (16 MiB) plus slack for buffers, far below the 100 MB sent."""
    table = STREAM if stream else NON_STREAM
    grew = _peak_rss_after(served.server.proc.pid,
                           lambda: _assert(_call(served, "openai", fault, stream) == table[fault]))
    assert grew < 48 * 1024 * 1024, f"peak RSS grew by {grew / 1024 / 1024:.1f} MiB"
    assert served.up.wait_all_closed()


def _assert(ok: bool) -> None:
    assert ok


def test_server_survived_every_fault(served: Served) -> None:
    """After the whole matrix the server still answers, and nothing it logged was a traceback."""
    served.up.fault = "error_event"
    assert _call(served, "openai", "error_event", stream=False) == NON_STREAM["error_event"]
    logs = served.server.logs()
    assert "Error handling request" not in logs and "status=500" not in logs  # no unhandled exception
    assert served.server.proc.poll() is None


# -- /v1/messages and /v1/responses: a stream cut short and an error event -----------------------
# Each is served natively by the provider that speaks it (Anthropic's /v1/messages, OpenAI's
# /v1/responses: the provider's bytes pass through) and translated through chat completions by the
# other. Natively, the provider's own error event reaches the app as sent; either way the app's
# SDK raises an API error, without a hang, and the upstream connection is closed.
INBOUND = [pytest.param(api, wire, fault, id=f"{api}-{wire}-{fault}") for api in ("messages", "responses")
           for wire in ("openai", "anthropic") for fault in ("reset_mid_stream", "error_event", "error_after_content")]


def _inbound_stream(served: Served, api: str, wire: str) -> tuple[str, Exception | None]:
    """(text received, the SDK's exception or None) for one streamed call."""
    import anthropic

    text, error = "", None
    try:
        if api == "messages":
            client = anthropic.Anthropic(base_url=served.server.url, api_key=served.tokens[wire], max_retries=0,
                                         timeout=CLIENT_TIMEOUT)
            with client.messages.stream(model="any", max_tokens=50,
                                        messages=[{"role": "user", "content": "hello"}]) as events:
                for event in events:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        text += event.delta.text
        else:
            with served.client(wire).responses.create(model="", input="hello", stream=True) as events:
                for event in events:
                    if event.type == "response.output_text.delta":
                        text += event.delta
                    elif event.type in ("error", "response.failed"):
                        raise RuntimeError(f"{event.type}: {event}")
    except (anthropic.APIError, openai.APIError, RuntimeError) as exc:
        error = exc
    return text, error


@pytest.mark.parametrize(("api", "wire", "fault"), INBOUND)
def test_inbound_stream_fault_ends_in_an_error(served: Served, api: str, wire: str, fault: str) -> None:
    served.up.fault = fault
    text, error = _inbound_stream(served, api, wire)
    assert error is not None, "the stream ended as if complete"
    import anthropic

    hung = (openai.APITimeoutError, openai.APIConnectionError, anthropic.APITimeoutError, anthropic.APIConnectionError)
    assert not isinstance(error, hung), error
    status = getattr(error, "status_code", None)
    assert status is None or status in (200, 502), error  # an HTTP error, or an error event in the stream
    if fault != "error_event":
        assert text == "Hel", "the content sent before the fault was lost"
    assert served.up.wait_all_closed(), f"{served.up.open_connections} upstream connection(s) left open"
