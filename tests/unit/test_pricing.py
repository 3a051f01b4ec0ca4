"""The price table: shipped list prices, the operator's override file, the user's own prices."""

from __future__ import annotations

import json

import pytest

from infer0app.services.pricing import Price, PriceFileError, PriceTable, price_for


def test_shipped_prices_resolve_exact_dated_and_wildcard_names():
    table = PriceTable.load()
    mini = table.lookup("openai", "gpt-4o-mini")
    assert (mini.input, mini.cached_input, mini.output) == (0.15, 0.075, 0.6)
    assert table.lookup("openai", "gpt-4o-mini-2024-07-18") == mini  # dated snapshot -> base name
    assert table.lookup("anthropic", "claude-sonnet-4-5-20250929").output == 15.0
    assert table.lookup("anthropic", "claude-3-5-haiku-latest").input == 0.8
    assert table.lookup("ollama", "llama3.2").cost_micro_usd(10_000, 5_000) == 0  # local models cost nothing


def test_unknown_model_or_kind_has_no_price():
    table = PriceTable.load()
    assert table.lookup("openai", "gpt-4o-audio-preview") is None  # a prefix is not a dated suffix
    assert table.lookup("openrouter", "openai/gpt-4o-mini") is None
    assert table.lookup("azure-openai", "my-deployment") is None


def test_cost_is_micro_dollars_rounded_up_with_cached_input_at_its_own_rate():
    price = Price(input=2.5, output=10.0, cached_input=1.25)
    # 1,000 prompt tokens of which 400 cached, 200 output: 600*2.5 + 400*1.25 + 200*10 = 4,000 micro-USD
    assert price.cost_micro_usd(1000, 200, 400) == 4000
    assert Price(input=0.15, output=0.6).cost_micro_usd(1, 0) == 1  # 0.15 rounds up to one micro-dollar
    assert Price(input=1.0, output=1.0).cost_micro_usd(100, 0, 100) == 100  # no cached rate: billed as input


def test_data_dir_file_overrides_extends_and_removes(tmp_path):
    (tmp_path / "prices.json").write_text(json.dumps({"kinds": {
        "openai": {"gpt-4o-mini": {"input": 1, "output": 2}, "gpt-4o": None},
        "mistral": {"mistral-small-latest": {"input": 0.1, "output": 0.3, "default_output_tokens": 500}},
    }}))
    table = PriceTable.load(tmp_path)
    assert table.lookup("openai", "gpt-4o-mini") == Price(input=1.0, output=2.0)
    assert table.lookup("openai", "gpt-4o") is None  # removed: unknown now
    assert table.lookup("openai", "gpt-4.1").output == 8.0  # untouched entries stay
    assert table.lookup("mistral", "mistral-small-latest").default_output_tokens == 500


@pytest.mark.parametrize("doc, complaint", [
    ("not json", "cannot read prices"),
    (json.dumps({"kinds": {"openai": {"x": {"input": 1}}}}), "missing output"),
    (json.dumps({"kinds": {"openai": {"x": {"input": -1, "output": 1}}}}), "input must be a number >= 0"),
    (json.dumps({"models": {}}), "expected"),
])
def test_a_broken_override_file_is_refused_with_its_name(tmp_path, doc, complaint):
    (tmp_path / "prices.json").write_text(doc)
    with pytest.raises(PriceFileError, match=complaint) as err:
        PriceTable.load(tmp_path)
    assert "prices.json" in str(err.value)


def test_the_users_connection_prices_come_first():
    table = PriceTable.load()
    own = {"": Price(input=0.0, output=0.0), "big-model": Price(input=3.0, output=9.0)}
    assert price_for(table, "openai-compatible", "big-model", own).output == 9.0
    assert price_for(table, "openai-compatible", "anything", own).output == 0.0  # '' = any model
    assert price_for(table, "openai", "gpt-4o-mini", {}).output == 0.6
    assert price_for(table, "openai-compatible", "anything", None) is None
