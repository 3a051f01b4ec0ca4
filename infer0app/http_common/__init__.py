"""What every HTTP face of the server shares: the pages (web/), /v1 and the OAuth endpoints
(api/), and authlib's integration (oauth/).

- request_id.py: the X-Request-Id header and the per-process id sequence;
- security_headers.py: the headers every answer carries;
- client_address.py: the client's address, seen through trusted proxies only.

It sits outside web/ so that api/ and oauth/ need not import the pages' package (no api → web
import, no oauth ↔ web cycle); it imports nothing of infer0 but keys.py.
"""
