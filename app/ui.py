"""What people open in a browser: the upload page at `/`, `/problems/<code>` pages, offline `/docs` and `/redoc`.

Everything is served from package data — the page from `app/static/`, the
Swagger UI and ReDoc bundles from the `fastapi-offline` package — so it all
works inside a closed network with no CDN.
"""
from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from .i18n import negotiate, problem_texts
from .problems import english_title, problem_base, problem_type

STATIC_DIR = Path(str(files("app").joinpath("static")))
DOCS_ASSETS_URL = "/docs-assets"
# Same-origin only: in a closed network nothing else answers, and nothing should be asked. The docs need inline
# script/style (the HTML FastAPI generates) and ReDoc a blob: worker; ReDoc's bundle also asks Redocly's CDN for a
# decorative logo, which this policy stops before any request leaves the browser.
PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def upload_page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": PAGE_CSP}
    )


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/style.css"></head>
<body class="problem-page"><main>
<p class="crumb"><a href="/">govreport-extract</a> · <a href="/docs">API</a></p>
<h1>{title_zh}<br><small>{title_en}</small></h1>
<p class="code">type: <code>{type}</code></p>
<section lang="zh-CN"><h2>说明</h2><p>{explain_zh}</p><h2>怎么办</h2><p>{todo_zh}</p></section>
<section lang="en"><h2>What it means</h2><p>{explain_en}</p><h2>What to do</h2><p>{todo_en}</p></section>
</main></body></html>
"""


@router.get("/problems/{code}")
async def problem_page(request: Request, code: str) -> HTMLResponse:
    """The page a problem `type` URI names: what the problem means and what to do, Chinese and English."""
    text = problem_texts().get(code)
    if text is None:
        raise HTTPException(404, f"No problem type {code!r}; see /docs for the list.")
    lang = negotiate(request.headers.get("accept-language"))
    esc = html.escape
    body = _PAGE.format(
        lang="zh-CN" if lang == "zh" else "en",
        title=esc(text.title_zh if lang == "zh" else english_title(code)),
        title_zh=esc(text.title_zh),
        title_en=esc(english_title(code)),
        type=esc(problem_type(code, problem_base(request))),
        explain_zh=esc(text.explain_zh),
        todo_zh=esc(text.todo_zh),
        explain_en=esc(text.explain_en),
        todo_en=esc(text.todo_en),
    )
    return HTMLResponse(
        body, headers={"Content-Language": "zh-CN" if lang == "zh" else "en", "Content-Security-Policy": PAGE_CSP}
    )


def _docs_dir() -> Path:
    import fastapi_offline  # the bundled Swagger UI / ReDoc assets

    return Path(fastapi_offline.__file__).parent / "static"


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return _docs_policy(get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="govreport-extract — API",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    ))


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return _docs_policy(get_redoc_html(
        openapi_url="/openapi.json",
        title="govreport-extract — API",
        redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    ))


def _docs_policy(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


def install(app: FastAPI) -> None:
    """Mount the page's assets and the docs bundles, and add the page routes."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=_docs_dir()), name="docs-assets")
    app.include_router(router)
