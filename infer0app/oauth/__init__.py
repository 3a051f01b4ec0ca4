"""Authlib's OAuth 2.0 server core, integrated with aiohttp (authlib ships no aiohttp integration).

Shaped like authlib's own `integrations/flask_oauth2/`:

- `requests.py`  the aiohttp request, read on the event loop, as authlib's OAuth2Request;
- `models.py`    our apps, codes and tokens seen through authlib's Client/Code/Token mixins;
- `grants.py`    authorization code (+ S256-only PKCE) and refresh token grants;
- `endpoints.py` RFC 7009 revocation and RFC 7662 introspection;
- `server.py`    the AuthorizationServer: runs the synchronous core on the store's threads;
- `bearer.py`    the resource side: `authenticate(request) -> AccessContext` for /v1.

Authlib is imported nowhere else.
"""
