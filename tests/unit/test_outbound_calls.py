"""Outbound requests go through one door (DESIGN.md §3.12, issue 12 §1): every upstream call in
infer0app passes `allow_redirects=False` (aiohttp follows redirects by default, which would let a
provider bounce the server to an address the user never saved), and the only ClientSession is
the app's shared one, built on the egress connector."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "infer0app"
HTTP_METHODS = {"request", "get", "post", "put", "delete", "patch", "head", "options"}


def _calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                yield path.relative_to(PACKAGE), node


def test_every_upstream_request_refuses_redirects():
    sites = []
    for path, node in _calls():
        owner = node.func.value
        if node.func.attr in HTTP_METHODS and isinstance(owner, ast.Name) and owner.id in ("http", "session"):
            flag = next((kw.value for kw in node.keywords if kw.arg == "allow_redirects"), None)
            sites.append((str(path), node.lineno,
                          isinstance(flag, ast.Constant) and flag.value is False))
    # send_upstream (every other call site) and complete()'s inline hot-path copy
    assert len(sites) >= 2, "the walk found too few upstream calls: did the session's name change?"
    assert [s for s in sites if not s[2]] == []


def test_the_only_client_session_is_the_shared_one():
    made = [str(path) for path, node in _calls()
            if node.func.attr == "ClientSession" and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "aiohttp"]
    assert made == ["app.py"]
