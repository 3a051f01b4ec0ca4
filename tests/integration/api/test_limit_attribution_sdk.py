"""Who refused a call: the user's cap, or the provider. A provider's own 429 must not show on the
dashboard's cap notices as the user's cap being hit; a call the user's cap refused must. The
official openai SDK against a real infer0 and a fake OpenAI on loopback."""

from __future__ import annotations

import openai
import pytest

from infer0app import keys
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from infer0app.services.limit_status import grant_statuses
from tests.support.waits import usage_rows

HELLO = [{"role": "user", "content": "Hello there"}]


async def test_a_providers_429_is_not_counted_as_the_users_cap_refusing(api_for):
    api = await api_for("openai")
    store = api.app[keys.STORE]
    set_grant_limits(store, api.seeded.grant_id, GrantLimits(tokens_per_day=5_000), actor="cli:test")
    client = api.client(max_retries=0)

    api.fake.knobs.fail_status = 429  # the provider's own rate limit
    with pytest.raises(openai.RateLimitError) as provider_said:
        await client.chat.completions.create(model="x", messages=HELLO, max_tokens=20)
    assert provider_said.value.code != "grant_rate_limited"
    api.fake.knobs.fail_status = None
    with pytest.raises(openai.APIStatusError) as cap_said:  # the user's cap: 10,000 output tokens do not fit
        await client.chat.completions.create(model="x", messages=HELLO, max_tokens=10_000)
    assert cap_said.value.status_code == 402 and cap_said.value.code == "grant_budget_exceeded"

    rows = await usage_rows(store, api.seeded.grant_id, 2)
    assert sorted(r.status for r in rows) == [402, 429]
    status = (await store.run(grant_statuses, [(api.seeded.grant_id, api.seeded.provider_id)]))[api.seeded.grant_id]
    assert status.refused_recently == 1  # the cap's 402, not the provider's 429
    assert status.reached == ()
