"""The chat pipeline: params policy -> adapter -> upstream call or stream -> usage.

Public entry points live in `gateway.pipeline` (`complete`, `stream`, `list_models`);
types in `gateway.providers.base` (`Route`, `Usage`, `GatewayError`).
"""
