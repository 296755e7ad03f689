"""The request-context middleware on a real app: redirects stay relative whatever the `Host` header says."""
from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.staticfiles import StaticFiles

from app.main import create_app
from app.middleware import relative_location
from app.settings import Settings


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://evil.example/docs/", "/docs/"),
        ("https://evil.example:8443/a/b?x=1#f", "/a/b?x=1#f"),
        ("//evil.example/path", "/path"),
        ("http://evil.example", "/"),
        ("/already/relative?q=1", "/already/relative?q=1"),
        ("relative", "relative"),
    ],
)
def test_relative_location_drops_scheme_and_authority(location: str, expected: str) -> None:
    assert relative_location(location) == expected


def test_a_directory_redirect_does_not_echo_the_host_header(tmp_path: Path) -> None:
    """Starlette's StaticFiles(html=True) answers `/assets` with a redirect built from the request URL (Host)."""
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "sub" / "index.html").write_text("<p>hi</p>", encoding="utf-8")
    app = create_app(Settings(workers=1))
    app.mount("/assets", StaticFiles(directory=site, html=True), name="assets")

    async def get() -> httpx.Response:  # no lifespan: a static mount needs no worker pool
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://evil.example") as client:
            return await client.get("/assets/sub", headers={"Host": "evil.example"})

    r = asyncio.run(get())
    assert r.status_code in (301, 302, 307, 308), r.text[:200]
    assert r.headers["location"] == "/assets/sub/"
