"""The layers' import rules (issue 11, DESIGN §2-3): the pages' package web/ is a leaf that
nothing below it imports, and the gateway is pure of services/.

Checked on the source with `ast`, so a lazy import inside a function counts as much as one at
the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path


import infer0app

ROOT = Path(infer0app.__file__).parent


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`, e.g. "infer0app.api.chat") imports, as
    absolute dotted names; `from X import y` yields both X and X.y (y may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def imports_under(folder: str) -> dict[str, set[str]]:
    """{module name: the modules it imports} for every .py file under infer0app/<folder>."""
    out = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        is_package = rel.name == "__init__"
        name = ".".join(rel.parts[:-1] if is_package else rel.parts)
        out[name] = imported_modules(path.read_text(encoding="utf-8"), name, is_package)
    return out


def offenders(folders: tuple[str, ...], forbidden: str) -> list[str]:
    return sorted(f"{mod} imports {target}"
                  for folder in folders
                  for mod, targets in imports_under(folder).items()
                  for target in targets
                  if target == forbidden or target.startswith(forbidden + "."))


def test_the_resolver_sees_relative_and_absolute_imports() -> None:
    """Guards the rules below against passing because the walker sees nothing."""
    source = ("from ..web.middlewares import REQUEST_ID\nfrom .. import web as pages\n"
              "from aiohttp import web\nimport infer0app.services.grants\n")
    found = imported_modules(source, "infer0app.api.chat")
    assert {"infer0app.web.middlewares", "infer0app.web", "aiohttp.web", "infer0app.services.grants"} <= found
    assert "infer0app.api.web" not in found
    # a package's __init__ is its own package: "." is the package itself
    assert "infer0app.web" in imported_modules("from ..web import x", "infer0app.api", is_package=True)
    assert "infer0app.web" in imported_modules("from .web import x", "infer0app", is_package=True)
    # and the walker reads the real tree: the pages do import the OAuth server (allowed direction)
    assert any(t.startswith("infer0app.oauth") for t in imports_under("web")["infer0app.web.consent_pages"])


def test_nothing_below_the_pages_imports_web() -> None:
    """api/, oauth/, gateway/, runtime/ and http_common/ never import web/: no api → web import,
    no oauth ↔ web cycle (what they share lives in http_common/)."""
    assert offenders(("api", "oauth", "gateway", "runtime", "http_common"), "infer0app.web") == []


def test_the_gateway_does_not_import_services() -> None:
    """The gateway is pure wire-format work: what it needs from services/ is handed to it."""
    assert offenders(("gateway",), "infer0app.services") == []


def test_no_module_is_over_500_lines() -> None:
    """DESIGN.md §3.11: a module past ~500 lines is asking to be split (issue 11 makes it a rule)."""
    root = Path(__file__).resolve().parents[2]
    long = {str(p.relative_to(root)): n for folder in ("infer0app", "admin_tui", "bench")
            for p in (root / folder).rglob("*.py") if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}
