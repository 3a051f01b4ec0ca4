"""Throttles hold in total across two `infer0 serve` instances on one PostgreSQL (issue 15 §3):
attempts alternate between the instances, and each limit is met once over both, not once per
instance (tests/support/throttle_spread.py; the same scenarios run on `--workers 2` over SQLite
in test_throttles_workers.py)."""

from __future__ import annotations

import pytest

from tests.support import throttle_spread


@pytest.mark.parametrize("scenario", ["sign_in", "sign_up", "device_code", "client_registration",
                                      "token_client_auth"])
async def test_each_throttle_holds_in_total_over_two_instances(serve_process, second_instance, scenario):
    a = serve_process(*throttle_spread.SERVER_FLAGS)
    b = second_instance(*throttle_spread.SERVER_FLAGS)
    await getattr(throttle_spread, scenario)([a.url, b.url])
