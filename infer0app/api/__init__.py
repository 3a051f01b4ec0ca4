"""JSON endpoints: /v1/* (OpenAI-shaped errors) and operational probes."""
