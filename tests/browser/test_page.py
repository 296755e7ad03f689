"""The upload page (app/static/) and the offline docs in a real headless Chromium.

Corpus reports are uploaded through the page's file input, and what the page
shows is compared with the gold and with the service's own JSON/CSV answers,
read at test time. Each test saves a screenshot under `test-artifacts/browser/`.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import time
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from app.i18n import problem_texts

REPORTS = {
    "docx": "docx/000_32e6960542ba4ec5.docx",  # legacy form
    "pdf": "pdf/hongze_2023.pdf",  # a 2020 form PDF as published
    "html": "html/003_a1ca134a5abe9455.html",  # 2019 form portal page
}
REVIEW_BELOW = 0.9


def _open(browser: WebDriver, base: str, path: str = "/") -> None:
    browser.get(base + path)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _fresh_page(browser: WebDriver, base: str) -> None:
    """The page as a first-time visitor sees it (the language choice is kept in localStorage)."""
    _open(browser, base)
    browser.execute_script("localStorage.clear()")
    _open(browser, base)


def _upload(browser: WebDriver, file: Path) -> None:
    browser.find_element(By.ID, "file").send_keys(str(file))
    WebDriverWait(browser, 120).until(lambda d: d.execute_script(
        "const s = document.getElementById('status');"
        "return s.classList.contains('error') || (!document.getElementById('result').hidden"
        " && s.textContent.includes(arguments[0]) && !s.textContent.includes('…'))", file.name))


def _shot(browser: WebDriver, artifacts: Path, name: str, full: bool = True) -> Path:
    """A screenshot of the whole page (the window grows to the page's height for it)."""
    size = browser.get_window_size()
    if full:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(size["width"], min(max(height, 400), 12000))
    path = artifacts / f"{name}.png"
    browser.save_screenshot(str(path))
    browser.set_window_size(size["width"], size["height"])
    assert path.stat().st_size > 10_000
    return path


def _shown_number(browser: WebDriver, indicator_id: str) -> float | None:
    cell = browser.find_element(By.CSS_SELECTOR, f'td[data-id="{indicator_id}"]')
    assert cell.is_displayed(), indicator_id
    text = cell.text.split("\n")[0].strip()
    return None if text == "—" else float(text)


def _gold(corpus: Path, name: str) -> dict:
    return json.loads((corpus / "gold" / (Path(name).stem + ".json")).read_text(encoding="utf-8"))


def _api_json(base: str, file: Path) -> dict:
    r = httpx.post(base + "/v1/extract", files={"file": (file.name, file.read_bytes())}, timeout=120)
    assert r.status_code == 200, r.text[:300]
    return r.json()


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_upload_shows_the_reports_headline_values(
    browser: WebDriver, page_service: object, corpus: Path, artifacts: Path, kind: str
) -> None:
    file = corpus / REPORTS[kind]
    gold = _gold(corpus, REPORTS[kind])
    _fresh_page(browser, page_service.url)
    _upload(browser, file)
    assert "error" not in browser.find_element(By.ID, "status").get_attribute("class")
    meta = {dd.get_attribute("data-field"): dd.text for dd in browser.find_elements(By.CSS_SELECTOR, "#meta dd")}
    assert meta["agency"] == gold["agency"]
    assert meta["year"] == str(gold["report_year"])
    assert meta["format"] == kind
    # the headline values: every total the form prints, as the gold has them
    totals = {k: v for k, v in gold["indicators"].items() if k.endswith(".total") and v is not None}
    assert len(totals) >= 4
    for key, value in totals.items():
        assert _shown_number(browser, key) == value, key
    # every value cell carries its confidence, coloured by band
    for cell in browser.find_elements(By.CSS_SELECTOR, "td.v")[:40]:
        confidence = float(cell.get_attribute("data-confidence"))
        band = "high" if confidence >= REVIEW_BELOW else "mid" if confidence >= 0.6 else "low"
        assert band in cell.get_attribute("class").split()
        assert cell.text.split("\n")[-1] == f"{confidence:.2f}"
    sections = browser.find_elements(By.CSS_SELECTOR, "#sections details")
    assert {s.get_attribute("data-key") for s in sections} >= {s["key"] for s in gold["sections"]}
    findings = browser.find_elements(By.CSS_SELECTOR, "#findings li")
    assert findings and all(f.is_displayed() for f in findings)
    _shot(browser, artifacts, f"upload-{kind}")


def test_review_filter_shows_only_values_that_need_review(
    browser: WebDriver, page_service: object, corpus: Path, artifacts: Path
) -> None:
    file = corpus / REPORTS["docx"]
    doubtful = {i["id"] for i in _api_json(page_service.url, file)["indicators"] if i["confidence"] < REVIEW_BELOW}
    assert doubtful, "the report needs values below 0.9 for the filter to be tested"
    _fresh_page(browser, page_service.url)
    _upload(browser, file)
    assert str(len(doubtful)) in browser.find_element(By.ID, "review-count").text
    rows = [r for r in browser.find_elements(By.CSS_SELECTOR, "#tables tr") if "head" not in r.get_attribute("class")]
    sure_rows = [r for r in rows if "needs-review" not in r.get_attribute("class")]
    assert sure_rows and all(r.is_displayed() for r in rows)
    browser.find_element(By.ID, "review").click()
    shown = {c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, "td.v.needs-review") if c.is_displayed()}
    assert shown == doubtful
    assert not any(r.is_displayed() for r in sure_rows)
    assert all(r.is_displayed() for r in rows if "needs-review" in r.get_attribute("class"))
    _shot(browser, artifacts, "review-filter")
    browser.find_element(By.ID, "review").click()
    assert all(r.is_displayed() for r in sure_rows)


def test_language_switch(browser: WebDriver, page_service: object, corpus: Path, artifacts: Path) -> None:
    _fresh_page(browser, page_service.url)
    texts = browser.execute_script("return T")  # the page's own strings, both languages
    h1 = lambda: browser.find_element(By.TAG_NAME, "h1").text  # noqa: E731
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert h1() == texts["zh"]["title"]
    _upload(browser, corpus / REPORTS["html"])
    zh_captions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#tables caption")]
    browser.find_element(By.ID, "lang").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert h1() == texts["en"]["title"]
    assert browser.find_element(By.ID, "lang").text == texts["en"]["lang"]
    captions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#tables caption")]
    assert captions and captions != zh_captions
    assert set(captions) <= set(texts["en"]["table"].values()) | {texts["en"]["other"]}
    assert texts["en"]["agency"] in [dt.text for dt in browser.find_elements(By.CSS_SELECTOR, "#meta dt")]
    _shot(browser, artifacts, "english", full=False)
    _open(browser, page_service.url)  # the choice is remembered
    assert h1() == texts["en"]["title"]
    browser.find_element(By.ID, "lang").click()
    assert h1() == texts["zh"]["title"]


def test_refused_file_shows_the_problem_and_its_page(
    browser: WebDriver, page_service: object, corpus: Path, artifacts: Path
) -> None:
    text = problem_texts()["not-a-report"]
    _fresh_page(browser, page_service.url)
    _upload(browser, corpus / "not_reports" / "listing_page.html")
    status = browser.find_element(By.ID, "status")
    assert "error" in status.get_attribute("class")
    assert text.title_zh in status.text  # the page asked in Chinese
    assert not browser.find_element(By.ID, "result").is_displayed()
    status.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/problems/not-a-report"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert text.explain_zh in body and text.todo_zh in body
    _shot(browser, artifacts, "problem-page", full=False)


def _wait_file(folder: Path, suffix: str) -> Path:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        done = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded into {folder}: {list(folder.iterdir())}")


def test_downloads_are_the_services_json_and_csv(
    browser: WebDriver, page_service: object, corpus: Path, downloads: Path
) -> None:
    file = corpus / REPORTS["pdf"]
    _fresh_page(browser, page_service.url)
    _upload(browser, file)
    browser.find_element(By.ID, "dl-json").click()
    browser.find_element(By.ID, "dl-csv").click()
    saved_json = json.loads(_wait_file(downloads, ".json").read_text(encoding="utf-8"))
    saved_csv = _wait_file(downloads, ".csv").read_bytes()
    answer = _api_json(page_service.url, file)
    assert saved_json["document"] == answer["document"]
    assert saved_json["indicators"] == answer["indicators"] and saved_json["sections"] == answer["sections"]
    server_csv = httpx.post(page_service.url + "/v1/extract", files={"file": (file.name, file.read_bytes())},
                            headers={"Accept": "text/csv"}, timeout=120).content
    assert saved_csv == server_csv  # the page downloads the service's own CSV
    rows = list(csv.DictReader(io.StringIO(saved_csv.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == [i["id"] for i in answer["indicators"]]


def _requests(browser: WebDriver) -> tuple[list[str], dict[str, str]]:
    """Every URL the browser asked for since the last call, and those it blocked itself (URL → reason).

    From the DevTools network log: a request the page's Content-Security-Policy stops is announced
    (`requestWillBeSent`) and then fails with a `blockedReason` without ever reaching the network.
    """
    urls: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    return list(urls.values()), {urls[i]: reason for i, reason in blocked.items() if i in urls}


@pytest.mark.parametrize(("path", "ready"), [
    ("/docs", "return document.querySelectorAll('#swagger-ui .opblock').length"),
    ("/redoc", "return document.querySelectorAll('[data-section-id^=\"operation/\"]').length"),
])
def test_docs_render_offline(browser: WebDriver, page_service: object, artifacts: Path, path: str, ready: str) -> None:
    spec = httpx.get(page_service.url + "/openapi.json").json()
    operations = sum(1 for item in spec["paths"].values() for m in item if m in {"get", "post", "delete", "put", "patch"})
    _requests(browser)  # drop what earlier tests asked for
    _open(browser, page_service.url, path)
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(ready) >= operations)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert spec["paths"]["/v1/extract"]["post"]["summary"] in text
    urls, blocked = _requests(browser)
    entries = browser.execute_script(
        "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
        ".map(e => e.name)")
    assert any(u.endswith("/openapi.json") for u in urls)
    local = (page_service.url + "/", "data:", "blob:", "about:")
    sent = [u for u in urls + entries if not u.startswith(local) and u not in blocked]
    assert sent == []  # nothing left 127.0.0.1
    assert set(blocked.values()) <= {"csp"}, blocked  # what a bundle tried (ReDoc's logo) the page's policy stopped
    _shot(browser, artifacts, "docs" if path == "/docs" else "redoc", full=False)


def test_dropping_a_file_on_the_page(browser: WebDriver, page_service: object, corpus: Path) -> None:
    """The drop zone reads a dropped file (a synthetic `drop` event carrying the report's bytes)."""
    file = corpus / REPORTS["html"]
    gold = _gold(corpus, REPORTS["html"])
    _fresh_page(browser, page_service.url)
    browser.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));"
        "const data = new DataTransfer(); data.items.add(new File([bytes], arguments[1], { type: 'text/html' }));"
        "document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));",
        base64.b64encode(file.read_bytes()).decode(), file.name,
    )
    WebDriverWait(browser, 120).until(lambda d: d.execute_script(
        "return !document.getElementById('result').hidden && document.getElementById('status').textContent.includes(arguments[0])",
        file.name))
    assert browser.find_element(By.CSS_SELECTOR, '#meta dd[data-field="agency"]').text == gold["agency"]


def test_page_with_api_keys(browser: WebDriver, keyed_service: tuple[object, str], corpus: Path) -> None:
    """Without the key the page shows the 401 problem; with it typed in, the report, its tables laid out."""
    service, key = keyed_service
    file = corpus / REPORTS["pdf"]
    _fresh_page(browser, service.url)
    _upload(browser, file)
    status = browser.find_element(By.ID, "status")
    assert "error" in status.get_attribute("class")
    assert problem_texts()["unauthorized"].title_zh in status.text
    browser.find_element(By.ID, "apikey").send_keys(key)
    browser.find_element(By.ID, "file").clear()
    _upload(browser, file)
    assert "error" not in browser.find_element(By.ID, "status").get_attribute("class")
    tables = {t.get_attribute("data-table") for t in browser.find_elements(By.CSS_SELECTOR, "#tables table")}
    assert {"active", "requests", "review_litigation"} <= tables  # the catalogue was read once the key was given
