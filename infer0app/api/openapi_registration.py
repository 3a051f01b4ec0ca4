"""The OpenAPI description of dynamic client registration (RFC 7591), its management
(RFC 7592) and the protected-resource metadata (RFC 9728); merged into /openapi.json by
api/openapi.py. Error responses come from the OAuth error table like every other operation's."""

from __future__ import annotations

from ..errors import oauth_errors


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _ok_response(name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_URI = {"type": "string", "format": "uri"}
SCHEMAS = {
    "ClientMetadata": {
        "type": "object", "required": ["client_name", "redirect_uris"],
        "description": "RFC 7591 §2 client metadata. Unknown fields are ignored.",
        "properties": {
            "client_name": {"type": "string", "maxLength": 100},
            "redirect_uris": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string"},
                              "description": "https, http on a loopback host, or (public clients only) a "
                                             "private-use scheme with a period: com.example.app:/callback."},
            "token_endpoint_auth_method": {"type": "string", "default": "client_secret_basic",
                                           "enum": ["none", "client_secret_basic", "client_secret_post"]},
            "grant_types": {"type": "array", "items": {"enum": ["authorization_code", "refresh_token"]}},
            "response_types": {"type": "array", "items": {"const": "code"}},
            "client_uri": _URI, "logo_uri": _URI, "policy_uri": _URI, "tos_uri": _URI,
            "software_id": {"type": "string", "maxLength": 100},
            "software_version": {"type": "string", "maxLength": 100},
        },
    },
    "ClientUpdate": {"allOf": [_ref("ClientMetadata"), {
        "type": "object", "required": ["client_id"],
        "properties": {"client_id": {"type": "string"}, "client_secret": {"type": "string"}}}]},
    "ClientInformation": {"allOf": [_ref("ClientMetadata"), {
        "type": "object",
        "required": ["client_id", "client_id_issued_at", "registration_access_token", "registration_client_uri",
                     "token_endpoint_auth_method", "grant_types", "response_types"],
        "properties": {
            "client_id": {"type": "string", "pattern": "^i0_ci_"},
            "client_secret": {"type": "string", "pattern": "^i0_cs_",
                              "description": "Confidential clients, in the registration answer only."},
            "client_id_issued_at": {"type": "integer"},
            "client_secret_expires_at": {"const": 0, "description": "0: the secret does not expire."},
            "registration_access_token": {"type": "string", "pattern": "^i0_rat_"},
            "registration_client_uri": _URI}}]},
    "ProtectedResourceMetadata": {
        "type": "object", "required": ["resource", "authorization_servers"],
        "properties": {"resource": _URI, "authorization_servers": {"type": "array", "items": _URI},
                       "scopes_supported": {"type": "array", "items": {"type": "string"}},
                       "bearer_methods_supported": {"type": "array", "items": {"const": "header"}},
                       "resource_name": {"type": "string"}, "resource_documentation": _URI}},
}


def paths(error_responses) -> dict:
    """The operations; `error_responses(where)` is api/openapi.py's oauth_error_responses."""
    client_id = [{"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    token = [{"registrationAccessToken": []}]
    resource = {"get": {"summary": "Protected-resource metadata for the /v1 API (RFC 9728).", "tags": ["OAuth"],
                        "responses": {"200": _ok_response("ProtectedResourceMetadata", "Metadata.")}}}
    return {
        "/v1/oauth/register": {"post": {
            "summary": "Register a client dynamically (RFC 7591); closed when the operator says so.",
            "tags": ["OAuth"], "requestBody": _json_body("ClientMetadata"),
            "responses": {"201": _ok_response("ClientInformation", "Registered: keep client_secret and "
                                         "registration_access_token, they are shown only now."),
                          **error_responses(oauth_errors.REGISTER)}}},
        "/v1/oauth/register/{client_id}": {
            "parameters": client_id,
            "get": {"summary": "Read the client's registration (RFC 7592 §2.1).", "tags": ["OAuth"],
                    "security": token,
                    "responses": {"200": _ok_response("ClientInformation", "The registration (no client_secret)."),
                                  **error_responses(oauth_errors.CLIENT_READ)}},
            "put": {"summary": "Replace the client's metadata (RFC 7592 §2.2).", "tags": ["OAuth"],
                    "security": token, "requestBody": _json_body("ClientUpdate"),
                    "responses": {"200": _ok_response("ClientInformation", "The updated registration."),
                                  **error_responses(oauth_errors.CLIENT_UPDATE)}},
            "delete": {"summary": "Delete the client with its grants and tokens (RFC 7592 §2.3).",
                       "tags": ["OAuth"], "security": token,
                       "responses": {"204": {"description": "Deleted."},
                                     **error_responses(oauth_errors.CLIENT_DELETE)}}},
        "/.well-known/oauth-protected-resource": resource,
        "/.well-known/oauth-protected-resource/v1": resource,
    }


SECURITY_SCHEMES = {"registrationAccessToken": {
    "type": "http", "scheme": "bearer", "description": "The i0_rat_ token from the registration answer."}}
