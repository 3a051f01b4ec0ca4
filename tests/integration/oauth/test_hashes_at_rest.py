"""README, "Data and security": session ids, OAuth secrets, codes and tokens are stored only as
SHA-256 hashes. Every kind is issued here through the real endpoints, then searched for in
every byte of the data dir (database, WAL, keyring): none may be there in plaintext."""

from __future__ import annotations

import pytest

from infer0app.services import apps
from infer0app.web.session import COOKIE
from tests.support.oauth import pkce_pair


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # greps the SQLite file and WAL
async def test_no_issued_secret_code_or_token_is_stored_in_plaintext(world, data_dir):
    issued: dict[str, str] = {}
    browser = await world.user("u@example.com")
    issued["session id"] = browser.cookie(COOKIE)
    client_id, secret = await world.app()
    issued["client secret"] = secret
    issued["rotated client secret"] = await world.store.run(apps.rotate_secret, client_id, actor="cli:test",
                                                            overlap=3600)
    code = await world.code(browser, client_id)
    issued["authorization code"] = code
    resp, tok = await world.exchange(code, client_id, issued["rotated client secret"])
    assert resp.status == 200, tok
    issued["access token"], issued["refresh token"] = tok["access_token"], tok["refresh_token"]
    resp, refreshed = await world.post("/v1/oauth/token", {"grant_type": "refresh_token", "client_id": client_id,
                                                           "client_secret": secret,
                                                           "refresh_token": tok["refresh_token"]})
    assert resp.status == 200, refreshed
    issued["rotated access token"], issued["rotated refresh token"] = (refreshed["access_token"],
                                                                      refreshed["refresh_token"])
    public_id, _ = await world.app(public=True, name="Public")
    resp, device = await world.post("/v1/oauth/device_authorization", {"client_id": public_id})
    assert resp.status == 200, device
    issued["device code"] = device["device_code"]
    issued["user code"] = device["user_code"].replace("-", "")
    verifier, challenge = pkce_pair()
    issued["public client's code"] = await world.code(browser, public_id, code_challenge=challenge,
                                                      code_challenge_method="S256")
    async with world.http.post(world.base + "/v1/oauth/register",
                               json={"client_name": "Dyn", "redirect_uris": ["https://dyn.example/cb"]}) as r:
        registered = await r.json()
        assert r.status == 201, registered
    issued["registered client secret"] = registered["client_secret"]
    issued["registration access token"] = registered["registration_access_token"]

    on_disk = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert len(on_disk) > 10_000  # the database and its WAL were read
    stored = [what for what, value in issued.items() if value and value.encode() in on_disk]
    assert not stored, f"stored in plaintext: {stored}"
