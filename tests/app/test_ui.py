"""The upload page and the offline docs as served (app/ui.py, app/static/): everything local, nothing from a CDN.

The browser behaviour is tested in tests/browser/; here, over real HTTP, that
every asset the page and the docs name is served by the service itself.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from app.ui import STATIC_DIR

URL_IN_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)|fetch\(\s*["']([^"']+)["']""")
EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _references(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in URL_IN_ASSET.finditer(text)]


def test_page_and_its_assets_are_served_by_the_service(server: object) -> None:
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<html lang="zh-CN">' in page.text  # Chinese first
        refs = _references(page.text)
        assert "/static/app.js" in refs and "/static/style.css" in refs
        for ref in refs:
            assert urlparse(ref).netloc == "", ref  # no CDN, no other host
            assert c.get(urljoin("/", ref)).status_code == 200, ref
        assert c.get("/static/app.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))


@pytest.mark.parametrize("asset", sorted(p.name for p in STATIC_DIR.iterdir()))
def test_static_files_name_no_external_host(asset: str) -> None:
    text = (STATIC_DIR / asset).read_text(encoding="utf-8")
    assert not EXTERNAL.search(text), EXTERNAL.search(text)


@pytest.mark.parametrize(("path", "assets"), [
    ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
    ("/redoc", ("redoc.standalone.js",)),
])
def test_docs_load_their_bundles_from_the_service(server: object, path: str, assets: tuple[str, ...]) -> None:
    with server.client() as c:
        page = c.get(path)
        assert page.status_code == 200
        refs = _references(page.text)
        assert not [r for r in refs if urlparse(r).netloc], refs  # Swagger UI / ReDoc from no CDN
        assert "fonts.googleapis" not in page.text and "cdn.jsdelivr" not in page.text
        assert "/openapi.json" in page.text
        for name in assets:
            ref = next(r for r in refs if r.endswith(name))
            bundle = c.get(ref)
            assert bundle.status_code == 200 and len(bundle.content) > 100_000, ref  # the real bundle
        spec = c.get("/openapi.json").json()
        assert "/v1/extract" in spec["paths"]


def test_problem_page_links_back(server: object) -> None:
    with server.client() as c:
        page = c.get("/problems/no-text-layer")
    refs = _references(page.text)
    assert "/" in refs and "/docs" in refs and "/static/style.css" in refs


def test_page_texts_exist_in_both_languages() -> None:
    """Every `data-i18n` key of the page has a Chinese and an English text in app.js."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    keys = set(re.findall(r'data-i18n="(\w+)"', html))
    assert len(keys) > 10
    zh_block = js[js.index("zh: {"): js.index("en: {")]
    en_block = js[js.index("en: {"): js.index("const REVIEW_BELOW")]
    for key in keys:
        assert re.search(rf"\b{key}:", zh_block) and re.search(rf"\b{key}:", en_block), key

