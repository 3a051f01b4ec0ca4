"""The error vocabularies infer0 speaks, one table each (DESIGN.md §3.8).

- `api_errors`: the /v1 API's OpenAI-shaped errors (`{"error": {"message", "type", "code", "param"}}`);
- `oauth_errors`: the OAuth endpoints' RFC 6749 §5.2 errors, and the RFC 6750 Bearer challenges.

The gateway, the bearer check and the /v1 handlers raise from these tables; `/openapi.json`
(api/openapi.py) and `/dev/docs` are generated from them. Plain data: no aiohttp, no imports
from the rest of infer0, so every layer may import them without cycles.
"""
