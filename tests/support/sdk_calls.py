"""One call through the official openai SDK against a real infer0 server, answering the HTTP
status the app saw (200, or the APIStatusError's status): for tests that only ask whether a
token still works on an instance."""

from __future__ import annotations

import openai


async def chat_status(url: str, token: str) -> int:
    """POST /v1/chat/completions on `url` (the server's base URL) with bearer `token`; no retries."""
    async with openai.AsyncOpenAI(base_url=url + "/v1", api_key=token, max_retries=0) as client:
        try:
            await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}],
                                                 max_tokens=5)
            return 200
        except openai.APIStatusError as exc:
            return exc.status_code
