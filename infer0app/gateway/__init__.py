"""The chat pipeline: params policy -> adapter -> upstream call or stream -> usage.

Public entry points live in `gateway.pipeline` (`complete`, `stream`, `list_models`);
types in `gateway.providers.base` (`Route`, `Usage`, `GatewayError`, the `Adapter` protocol).

Adding a provider: a row in `providers/kinds.py`; a new wire format also needs an adapter
module satisfying `providers.base.Adapter`, registered in `providers/registry.py`. The
pipeline does not change (tests/unit/gateway/test_gw_adapter_contract.py checks both).
"""
