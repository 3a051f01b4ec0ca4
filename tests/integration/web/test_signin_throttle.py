"""Lock-outs a stranger can cause (issue 12 §3): sign-in failures are counted per (account,
address), per address and per account, and a throttled attempt is told so (429), never "wrong
password". Sign-up does not confirm that an email has an account and is throttled per address.

The server trusts 127.0.0.1 as a proxy, so X-Forwarded-For gives each party its own address."""

from __future__ import annotations

import pytest

from infer0app.services.throttle import Throttle, minutes_text
from infer0app.store.models import ThrottleFailure, ThrottleTrust
from tests.support.backend import open_data_dir
from tests.support.browser import Browser

OWNER = {"X-Forwarded-For": "198.51.100.7"}
STRANGER = {"X-Forwarded-For": "203.0.113.66"}
RIGHT = "correct horse battery"


@pytest.fixture
async def site(server):
    srv = await server(trusted_proxies="127.0.0.1")
    made = []

    def browser() -> Browser:
        made.append(Browser(str(srv.make_url("")).rstrip("/")))
        return made[-1]

    yield browser
    for b in made:
        await b.close()


async def _owner_account(site, email: str) -> None:
    b = site()
    resp, _ = await b.signup(email, headers=OWNER)
    assert resp.status == 200


async def test_stranger_failures_do_not_lock_out_the_owner(site):
    await _owner_account(site, "owner@example.com")
    stranger = site()
    for _ in range(5):
        resp, html = await stranger.login("owner@example.com", "guess guess guess", headers=STRANGER)
        assert resp.status == 400 and "did not work" in html
    resp, html = await stranger.login("owner@example.com", RIGHT, headers=STRANGER)
    assert resp.status == 429 and "Too many attempts, try again in 15 minutes" in html
    # The owner, from their own address, signs in at once.
    resp, html = await site().login("owner@example.com", RIGHT, headers=OWNER)
    assert resp.status == 200 and "owner@example.com" in html


async def test_a_throttled_attempt_is_429_with_retry_after_never_wrong_password(site):
    await _owner_account(site, "typo@example.com")
    b = site()
    for _ in range(5):
        await b.login("typo@example.com", "not it at all", headers=OWNER)
    resp, html = await b.login("typo@example.com", RIGHT, headers=OWNER)
    assert resp.status == 429 and "Too many attempts, try again in 15 minutes" in html
    assert "did not work" not in html
    assert 840 < int(resp.headers["Retry-After"]) <= 900
    assert 'name="email"' in html  # the form is there again


async def test_one_address_spraying_many_accounts_is_throttled(site):
    b = site()
    for i in range(20):
        resp, _ = await b.login(f"victim{i}@example.com", "password1234", headers=STRANGER)
        assert resp.status == 400
    resp, html = await b.login("victim99@example.com", "password1234", headers=STRANGER)
    assert resp.status == 429 and "Too many attempts" in html
    # another address is unaffected
    resp, html = await site().login("victim99@example.com", "password1234", headers=OWNER)
    assert resp.status == 400 and "did not work" in html


async def test_many_addresses_guessing_one_account_spare_the_owners_address(site):
    await _owner_account(site, "target@example.com")
    owner = site()
    resp, _ = await owner.login("target@example.com", RIGHT, headers=OWNER)  # a known-good address
    assert resp.status == 200
    for n in range(20):  # 20 addresses x 5 guesses = the per-account cap of 100
        bot = site()
        for _ in range(5):
            await bot.login("target@example.com", "botnet guess", headers={"X-Forwarded-For": f"192.0.2.{n + 1}"})
    resp, html = await site().login("target@example.com", RIGHT, headers={"X-Forwarded-For": "192.0.2.200"})
    assert resp.status == 429 and "Too many attempts" in html
    resp, html = await site().login("target@example.com", RIGHT, headers=OWNER)
    assert resp.status == 200 and "target@example.com" in html


async def test_signup_does_not_confirm_an_existing_account_and_is_throttled(site):
    await _owner_account(site, "known@example.com")
    b = site()
    resp, html = await b.signup("known@example.com", headers=STRANGER)
    assert resp.status == 400
    assert "already exists" not in html and "cannot be used to create an account" in html
    for _ in range(9):
        await b.signup("known@example.com", headers=STRANGER)
    resp, html = await b.signup("fresh@example.com", headers=STRANGER)
    assert resp.status == 429 and "Too many attempts, try again in" in html
    resp, _ = await site().signup("fresh@example.com", headers=OWNER)  # others may still sign up
    assert resp.status == 200


def test_throttle_windows_slide_and_trust_is_per_address(data_dir):
    now = [1000.0]
    t = Throttle("test", per_pair=2, per_address=3, per_account=4, window=60.0, pepper=b"k", clock=lambda: now[0])
    store, _vault = open_data_dir(data_dir)
    try:
        def retry_after(account, address):
            return t.retry_after(store, account, address)

        t.failed(store, "a", "x")
        now[0] += 10
        t.failed(store, "a", "x")
        assert retry_after("a", "x") == pytest.approx(50.0)  # the first failure leaves the window then
        assert retry_after("a", "y") == 0.0 and retry_after("b", "x") == 0.0
        t.failed(store, "b", "x")
        assert retry_after("c", "x") > 0  # address cap: 3
        t.succeeded(store, "a", "z")
        t.failed(store, "a", "w")
        t.failed(store, "a", "w")
        assert retry_after("a", "v") > 0 and retry_after("a", "z") == 0.0  # account cap 4; z is trusted
        now[0] += 61
        assert retry_after("a", "x") == 0.0 and retry_after("a", "v") == 0.0
        assert t.purge(store) == 15  # 5 failures x (pair, address, account), all past the window; the trust stays
        keys = {row.key_hash for row in ThrottleFailure.select()} | {row.key_hash for row in ThrottleTrust.select()}
        assert len(keys) == 1 and all(len(k) == 64 for k in keys)  # only HMACs: no account or address
    finally:
        store.close()


def test_minutes_text_rounds_up():
    assert minutes_text(1) == "1 minute" and minutes_text(60) == "1 minute"
    assert minutes_text(61) == "2 minutes" and minutes_text(900) == "15 minutes"
