"""aiohttp requests as authlib OAuth2Requests.

Authlib's core is synchronous and runs on the store's thread pool, so everything it may
look at (method, URL, headers, query, form body) is read on the event loop first and
handed over as a plain snapshot (DESIGN §3.7: read the body before calling the core).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import unquote_plus

from aiohttp import web
from multidict import CIMultiDict, MultiDict, MultiDictProxy

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request

from ..http_common.client_address import client_ip

FORM_TYPES = ("application/x-www-form-urlencoded",)


class MalformedBasicCredentials(ValueError):
    """An `Authorization` header that is not HTTP Basic UTF-8 `client_id:client_secret`: the client
    tried to authenticate with the header, so RFC 6749 §5.2 wants 401 and a Basic challenge."""


def basic_credentials(headers) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded, then
    base64 of UTF-8 `id:secret`); (None, None) without an Authorization header. Raises
    MalformedBasicCredentials when the header is Basic but undecodable (authlib's own parser would
    raise UnicodeDecodeError) or uses another scheme (Bearer, Digest...: not a client method here)."""
    header = (headers.get("Authorization") or "").strip()
    if not header:
        return None, None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise MalformedBasicCredentials("Client authentication uses HTTP Basic or client_secret in the body; "
                                        "other Authorization schemes are not supported here.")
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedBasicCredentials("The Basic credentials are not base64 of UTF-8 text.") from None
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id:
        raise MalformedBasicCredentials("The Basic credentials must be client_id:client_secret.")
    return unquote_plus(client_id), unquote_plus(secret)


@dataclass(frozen=True)
class RequestData:
    method: str
    uri: str  # on the issuer's origin: what clients see, whatever proxy is in between
    headers: Mapping[str, str]
    args: MultiDictProxy | MultiDict
    form: MultiDictProxy | MultiDict = field(default_factory=MultiDict)
    remote: str = ""


def snapshot(request: web.Request, issuer: str, form=None) -> RequestData:
    return RequestData(method=request.method, uri=issuer + request.path_qs,
                       headers=CIMultiDict(request.headers), args=request.query,
                       form=form if form is not None else MultiDict(), remote=client_ip(request))


class AiohttpOAuth2Payload(OAuth2Payload):
    """The parameters authlib reads: the query at the authorization endpoint, the body elsewhere."""

    def __init__(self, values):
        self._values = values

    @property
    def data(self):
        return self._values

    @property
    def datalist(self):
        values = defaultdict(list)
        for key in self._values.keys():
            values[key] = list(self._values.getall(key))
        return values


class AiohttpOAuth2Request(OAuth2Request):
    def __init__(self, data: RequestData, *, from_query: bool):
        # authlib refuses plain-http URLs here (InsecureTransportError) unless they are loopback.
        super().__init__(method=data.method, uri=data.uri, headers=data.headers)
        self._data = data
        self.payload = AiohttpOAuth2Payload(data.args if from_query else data.form)
        self.remote = data.remote
        self.consent = None  # set by the consent page: which connection and model the user chose
        self.oauth_error = None  # the last OAuth2Error answered, for the client-auth throttle

    @property
    def args(self):
        return self._data.args

    @property
    def form(self):
        return self._data.form
