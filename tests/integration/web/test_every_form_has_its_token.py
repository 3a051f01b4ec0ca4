"""Every POST form a signed-in user sees carries its own CSRF token, so the browser's submit is
accepted. A form inside a Jinja macro imported without context once rendered `csrf_token=""`
(the fallback connections on Connected apps): every press of its button was a 403."""

from __future__ import annotations

from html.parser import HTMLParser

from infer0app.services import grant_views


class _Forms(HTMLParser):
    """The POST forms of a page: [(action, {field: value})], as a browser would submit them
    (text/hidden inputs, checked boxes, each select's selected or first option)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._fields = {}
            self.forms.append((a.get("action") or "", self._fields))
        elif self._fields is None or not a.get("name"):
            if tag == "option" and self._select and self._fields is not None:
                if self._select not in self._fields or "selected" in a:
                    self._fields[self._select] = a.get("value") or ""
        elif tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self._fields.setdefault(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = a["name"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


def post_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


async def test_every_post_form_on_the_signed_in_pages_carries_a_token(world):
    client_id, _, _, browser = await world.tokens("u@example.com")
    await world.connection("u@example.com", kind="openai", name="Work")
    grant = (await world.store.run(grant_views.list_grants))[0]
    pages = ["/", "/providers", f"/providers/{grant.provider_id}", f"/providers/{grant.provider_id}/limits",
             "/connections", "/usage", "/dev/apps", "/account", "/account/two-factor", "/device",
             world.authorize_path(client_id, prompt="consent")]
    seen = 0
    for page in pages:
        resp, html = await browser.get(page)
        assert resp.status == 200, page
        token = await browser.token_for(page)
        for action, fields in post_forms(html):
            seen += 1
            assert fields.get("csrf_token") == token, (page, action)
    developer = await world.user("dev2@example.com")
    own_app, _ = await world.app("dev2@example.com", name="Own")
    for page in ("/dev/apps", f"/dev/apps/{own_app}"):
        _, html = await developer.get(page)
        token = await developer.token_for(page)
        for action, fields in post_forms(html):
            seen += 1
            assert fields.get("csrf_token") == token, (page, action)
    assert seen >= 15

    # The fallback form, submitted exactly as the page renders it, is accepted.
    _, html = await browser.get("/connections")
    action, fields = next(f for f in post_forms(html) if f[0].endswith("/fallbacks"))
    resp, html = await browser.post(action, fields)
    assert resp.status == 200 and "Saved" in html
