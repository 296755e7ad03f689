"""Problems in Chinese and English (app/i18n.py, app/data/problems.toml) and their pages, over real HTTP.

The data test holds every problem code the service can answer with to a
complete text in both languages and a page; the HTTP tests check negotiation
(q-values), `Content-Language`, real refusals and the `/problems/<code>` pages.
"""
from __future__ import annotations

import html
import http.client
import json
import importlib
import pkgutil
import re
import string
from pathlib import Path
from urllib.parse import urlparse

import pytest
from app_live import UPLOAD_LIMIT
from app_testdocs import blank_pdf

import app
import extractors
from app.i18n import negotiate, parse_accept_language, problem_texts
from app.problems import CODE_BY_HTTP_STATUS, Problem, english_title, problem_type
from extractors import ExtractionError

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"}


def _all_error_classes() -> set[type[ExtractionError]]:
    """Every ExtractionError subclass of the engine and the service (all their modules imported)."""
    for package in (extractors, app):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name != "app.__main__":
                importlib.import_module(module.name)
    found: set[type[ExtractionError]] = set()
    todo = [ExtractionError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def service_codes() -> set[str]:
    return {cls.code for cls in _all_error_classes()} | set(CODE_BY_HTTP_STATUS.values())


# ---- data -----------------------------------------------------------------------------------------


def test_every_problem_code_has_both_languages() -> None:
    texts = problem_texts()
    codes = service_codes()
    assert len(codes) > 25
    assert sorted(codes - set(texts)) == []  # a code with no Chinese text and no page (a misspelt entry too)
    for code, text in texts.items():
        for field in ("title_zh", "detail_zh", "explain_zh", "todo_zh"):
            assert CJK.search(getattr(text, field)), (code, field)
        for field in ("explain_en", "todo_en"):
            assert not CJK.search(getattr(text, field).replace("政府信息公开工作年度报告", "")), (code, field)
    for code in codes:
        assert english_title(code) != code and not CJK.search(english_title(code)), code


def test_chinese_detail_placeholders_are_problem_members() -> None:
    members = set(Problem.model_fields)
    for code, text in problem_texts().items():
        names = {name for _, name, _, _ in string.Formatter().parse(text.detail_zh) if name}
        assert names <= members, (code, names - members)


def test_hints_people_can_act_on() -> None:
    """The pages a refused scan or old Word file points to say what to do about it."""
    texts = problem_texts()
    assert ".docx" in texts["legacy-word-format"].todo_en and ".docx" in texts["legacy-word-format"].todo_zh
    assert ".docx" in texts["works-document"].todo_en
    for code in ("no-text-layer", "ocr-unavailable"):
        assert "OCR" in texts[code].todo_en and "OCR" in texts[code].todo_zh
    assert "/v1/formats" in texts["unsupported-media-type"].todo_en


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh"),
        ("zh-TW,zh;q=0.8", "zh"),
        ("zh-Hant-HK", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh-CN;q=0.8", "zh"),
        ("zh;q=0.1, en", "en"),
        ("fr-FR, zh;q=0.3", "zh"),  # French is not served: the next acceptable language is
        ("de, ja", "en"),
        ("*", "en"),
        ("zh;q=0, en;q=0.1", "en"),  # q=0 means "not acceptable"
        ("ZH-cn;Q=0.7", "zh"),
        ("zh;q=abc", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_accept_language_ranges_are_ordered_by_q_then_position() -> None:
    assert parse_accept_language("a;q=0.5, b, c;q=0.5, d;q=0") == [("b", 1.0), ("a", 0.5), ("c", 0.5)]


# ---- over HTTP ------------------------------------------------------------------------------------


def test_unknown_query_parameter_is_a_400_in_the_asked_language(server: object) -> None:
    with server.client() as c:
        zh = c.get("/v1/indicators", params={"lang": "zh", "page": "2"}, headers=ZH)
        en = c.get("/v1/indicators", params={"lang": "zh"}, headers=EN)
        plain = c.get("/v1/indicators", params={"lang": "zh"})
    assert zh.status_code == en.status_code == plain.status_code == 400
    assert zh.headers["content-type"] == "application/problem+json"
    body = zh.json()
    assert body["type"] == problem_type("invalid-parameter")
    assert body["title"] == problem_texts()["invalid-parameter"].title_zh
    assert CJK.search(body["detail"]) and "lang" in body["detail_en"] and "page" in body["detail_en"]
    assert [e["loc"] for e in body["errors"]] == ["query.lang", "query.page"]
    assert zh.headers["content-language"] == "zh-CN" and "Accept-Language" in zh.headers["vary"]
    for r in (en, plain):
        assert r.headers["content-language"] == "en"
        assert r.json()["title"] == "Invalid request parameter" and "detail_en" not in r.json()
        assert "lang" in r.json()["detail"]


def test_unknown_parameter_on_extract_and_known_ones_still_work(server: object, corpus: Path) -> None:
    data = (corpus / "docx" / "000_32e6960542ba4ec5.docx").read_bytes()
    with server.client() as c:
        bad = c.post("/v1/extract", params={"min_confidnce": "0.5"}, files={"file": ("r.docx", data)})
        good = c.post("/v1/extract", params={"min_confidence": "0.5", "include": "document"}, files={"file": ("r.docx", data)})
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == "query.min_confidnce"
    assert "min_confidence" in bad.json()["detail"]  # it says what the endpoint accepts
    assert good.status_code == 200 and set(good.json()) >= {"document"} and "indicators" not in good.json()


def test_real_refusals_in_chinese(server: object, corpus: Path) -> None:
    texts = problem_texts()
    with server.client() as c:
        empty = c.post("/v1/extract", files={"file": ("r.pdf", b"")}, headers=ZH)
        not_report = c.post(
            "/v1/extract", files={"file": ("x.html", (corpus / "not_reports" / "portal_404.html").read_bytes())}, headers=ZH
        )
    assert empty.status_code == 400 and empty.json()["title"] == texts["empty-file"].title_zh
    assert not_report.status_code == 422 and not_report.json()["title"] == texts["not-a-report"].title_zh
    for r in (empty, not_report):
        assert r.headers["content-language"] == "zh-CN" and r.json()["detail_en"]


def test_too_large_in_chinese_with_its_limit(server: object) -> None:
    """Declared too large: refused from the head alone (no body sent, so no race with the server's close)."""
    host, port = urlparse(server.url).hostname, urlparse(server.url).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("POST", "/v1/extract")
    conn.putheader("Content-Length", str(UPLOAD_LIMIT + 1))
    conn.putheader("Content-Type", "application/pdf")
    conn.putheader("Accept-Language", "zh-CN")
    conn.endheaders()
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 413 and response.getheader("Content-Language") == "zh-CN"
    assert body["title"] == problem_texts()["file-too-large"].title_zh
    assert body["max_bytes"] == UPLOAD_LIMIT
    assert str(UPLOAD_LIMIT) in body["detail"] and CJK.search(body["detail"])  # the fact filled in
    assert str(UPLOAD_LIMIT) in body["detail_en"]


def test_chinese_detail_carries_the_facts(fault_server: object) -> None:
    limit = fault_server.settings.max_pages
    with fault_server.client() as c:
        r = c.post("/v1/extract", files={"file": ("r.pdf", blank_pdf(limit + 1))}, headers={"Accept-Language": "zh"})
    body = r.json()
    assert r.status_code == 422 and body["title"] == problem_texts()["too-many-pages"].title_zh
    assert body["pages"] == limit + 1 and body["max_pages"] == limit
    assert f"{limit + 1} 页" in body["detail"] and f"上限 {limit} 页" in body["detail"]
    assert f"limit is {limit}" in body["detail_en"]


def test_every_problem_type_resolves_to_a_page_on_the_service(server: object) -> None:
    """The path of each `type` URI is served by the service: the explanation and what to do, both languages."""
    with server.client() as c:
        for code, text in problem_texts().items():
            path = urlparse(problem_type(code)).path
            zh = c.get(path, headers=ZH)
            assert zh.status_code == 200, code
            assert zh.headers["content-type"].startswith("text/html")
            assert zh.headers["content-language"] == "zh-CN"
            page = html.unescape(zh.text)
            for piece in (text.title_zh, text.explain_zh, text.todo_zh, text.explain_en, text.todo_en, english_title(code)):
                assert piece in page, (code, piece)
            assert f"<title>{html.escape(text.title_zh)}</title>" in zh.text
            en = c.get(path, headers=EN)
            assert en.headers["content-language"] == "en"
            assert f"<title>{html.escape(english_title(code))}</title>" in en.text
        missing = c.get("/problems/no-such-problem", headers=ZH)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == problem_texts()["not-found"].title_zh
