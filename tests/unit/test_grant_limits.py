"""Setting a grant's and a connection's limits in the user's units (services/grant_limits.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infer0app.services import grant_limits as gl
from infer0app.services.datadir import open_data_dir
from infer0app.services.errors import NotFound, ValidationError
from infer0app.services.limit_ledger import load_config
from tests.support.seed import seed_grant


@pytest.fixture
def env(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    yield store, seed_grant(store, vault, kind="sandbox"), seed_grant(store, vault, kind="sandbox")
    store.close()


def test_form_values_become_limits_in_dollars_and_counts():
    limits = gl.grant_limits_from({"spend_per_month_usd": "$12.50", "tokens_per_day": "1,000,000",
                                   "requests_per_minute": "", "spend_per_day_usd": None})
    assert limits == gl.GrantLimits(spend_per_month_usd=Decimal("12.50"), tokens_per_day=1_000_000)
    assert gl.connection_limits_from({"spend_per_week_usd": 50}).spend_per_week_usd == Decimal(50)


@pytest.mark.parametrize("field,value", [("spend_per_day_usd", "-1"), ("spend_per_day_usd", "five"),
                                         ("spend_per_day_usd", "0.0000001"), ("spend_per_day_usd", "1e9"),
                                         ("spend_per_day_usd", "NaN"), ("tokens_per_day", "1.5"),
                                         ("requests_per_minute", -3), ("requests_per_minute", True)])
def test_bad_values_are_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError) as caught:
        gl.grant_limits_from({field: value})
    assert caught.value.field == field


def test_a_user_sets_their_grants_limits_and_the_gate_sees_micro_dollars(env):
    store, mine, _ = env
    limits = gl.GrantLimits(spend_per_month_usd=Decimal("5"), requests_per_minute=60)
    gl.set_user_grant_limits(store, mine.user_id, mine.grant_id, limits)
    assert gl.get_grant_limits(store, mine.grant_id) == limits
    rules = {(r.metric, r.period): r.cap for r in load_config(store, mine.grant_id, mine.provider_id).rules}
    assert rules == {("spend", "month"): 5_000_000, ("requests", "minute"): 60}
    gl.set_user_grant_limits(store, mine.user_id, mine.grant_id, gl.GrantLimits())  # back to none
    assert load_config(store, mine.grant_id, mine.provider_id).unlimited


def test_nobody_sets_limits_on_someone_elses_grant_or_connection(env):
    store, mine, theirs = env
    with pytest.raises(NotFound):
        gl.set_user_grant_limits(store, mine.user_id, theirs.grant_id, gl.GrantLimits(tokens_per_day=1))
    with pytest.raises(NotFound):
        gl.set_user_connection_limits(store, mine.user_id, theirs.provider_id,
                                      gl.ConnectionLimits(spend_per_day_usd=Decimal(1)))
    assert gl.get_grant_limits(store, theirs.grant_id) == gl.GrantLimits()


def test_connection_caps_apply_to_every_grant_on_it(env):
    store, mine, _ = env
    gl.set_user_connection_limits(store, mine.user_id, mine.provider_id,
                                  gl.ConnectionLimits(spend_per_month_usd=Decimal("50")))
    assert gl.get_connection_limits(store, mine.provider_id).spend_per_month_usd == Decimal(50)
    rules = load_config(store, mine.grant_id, mine.provider_id).rules
    assert [(r.scope, r.metric, r.cap) for r in rules] == [("connection", "spend", 50_000_000)]
