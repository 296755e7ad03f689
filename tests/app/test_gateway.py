"""Gateway and browser fit over real HTTP against `python -m app` in a subprocess (app/gateway.py, app/main.py).

API keys from a file and the environment, CORS by origin (and off by default),
HEAD on health endpoints, JSON access logs parsed from the process's stderr,
process metrics and route labels, gzip, and the catalogue's ETag.
"""
from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_proc import access_records, start_service
from prometheus_client.parser import text_string_to_metric_families

from app.i18n import problem_texts

ORIGIN = "https://portal.example.gov.cn"
ENV_KEY = "env-key-0123456789abcdef"
FILE_KEY = "file-key-fedcba9876543210"
DOCX = "docx/000_32e6960542ba4ec5.docx"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The service with API keys (one from the environment, one from a file) and one CORS origin."""
    tmp = tmp_path_factory.mktemp("gateway")
    keys = tmp / "keys.txt"
    keys.write_text(f"# operators' keys\n\n{FILE_KEY}\n   \n", encoding="utf-8")
    service = start_service(
        {"GOVREPORT_API_KEYS": ENV_KEY, "GOVREPORT_API_KEYS_FILE": str(keys), "GOVREPORT_CORS_ORIGINS": ORIGIN}, tmp
    )
    try:
        yield service
    finally:
        service.stop()


def _records_for(service: object, request_id: str, timeout: float = 5.0) -> list[dict]:
    """The access-log records of one request id (the line is written once the response is sent)."""
    end = time.monotonic() + timeout
    while True:
        found = [r for r in access_records(service.log()) if r.get("request_id") == request_id]
        if found or time.monotonic() > end:
            return found
        time.sleep(0.05)


# ---- API keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ENV_KEY[:-1]}, {"X-API-Key": "# operators' keys"}])
def test_protected_routes_refuse_a_missing_or_wrong_key(gated: object, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/v1/indicators"), ("POST", "/v1/extract"), ("POST", "/extract"), ("GET", "/v1/formats")):
        r = httpx.request(method, gated.url + path, headers=headers, content=b"x" if method == "POST" else None)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'
        body = r.json()
        assert body["type"].endswith("/problems/unauthorized") and body["status"] == 401
        assert "X-API-Key" in body["detail"]


def test_unauthorized_is_in_chinese_when_asked(gated: object) -> None:
    r = httpx.get(gated.url + "/v1/indicators", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert r.status_code == 401
    assert r.headers["content-language"] == "zh-CN"
    assert r.json()["title"] == problem_texts()["unauthorized"].title_zh


def test_keys_from_env_and_from_file_are_accepted(gated: object, corpus: Path) -> None:
    data = (corpus / DOCX).read_bytes()
    for key in (ENV_KEY, FILE_KEY):
        r = httpx.post(gated.url + "/v1/extract", headers={"X-API-Key": key}, files={"file": ("r.docx", data)}, timeout=120)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["document"]["format"] == "docx"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/version", "/", "/docs", "/redoc", "/openapi.json", "/problems/unauthorized", "/static/app.js"])
def test_probes_docs_and_page_stay_open_without_a_key(gated: object, path: str) -> None:
    assert httpx.get(gated.url + path).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_head_on_health_endpoints(gated: object, path: str) -> None:
    get = httpx.get(gated.url + path)
    head = httpx.head(gated.url + path)
    assert head.status_code == 200 and get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"


# ---- CORS -----------------------------------------------------------------------------------------


def test_cors_preflight_for_the_configured_origin(gated: object) -> None:
    r = httpx.options(
        gated.url + "/v1/extract",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-api-key, accept-language"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed and "accept-language" in allowed


def test_cors_refuses_another_origin(gated: object) -> None:
    r = httpx.options(
        gated.url + "/v1/extract", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in r.headers
    simple = httpx.get(gated.url + "/healthz", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_headers_on_answers_and_on_401(gated: object) -> None:
    ok = httpx.get(gated.url + "/v1/indicators", headers={"Origin": ORIGIN, "X-API-Key": ENV_KEY})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    exposed = ok.headers["access-control-expose-headers"].lower()
    assert {"x-request-id", "etag", "content-language", "location", "retry-after"} <= {h.strip() for h in exposed.split(",")}
    refused = httpx.get(gated.url + "/v1/indicators", headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN  # a browser can read why it was refused


def test_cors_is_off_by_default(server: object) -> None:
    """The general-purpose server has no `cors_origins`: no preflight succeeds, no answer allows an origin."""
    r = httpx.options(server.url + "/v1/extract", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 405
    assert not any(h.startswith("access-control-") for h in r.headers)
    assert "access-control-allow-origin" not in httpx.get(server.url + "/healthz", headers={"Origin": ORIGIN}).headers


# ---- access log -----------------------------------------------------------------------------------


def test_access_log_is_one_json_line_per_request_without_content(gated: object, corpus: Path) -> None:
    data = (corpus / DOCX).read_bytes()
    gold = json.loads((corpus / "gold" / (Path(DOCX).stem + ".json")).read_text(encoding="utf-8"))
    r = httpx.post(
        gated.url + "/v1/extract?min_confidence=0.25",
        headers={"X-API-Key": ENV_KEY, "X-Request-ID": "log-extract-1", "Accept-Encoding": "identity"},
        files={"file": ("secret-name-阳明.docx", data)},
        timeout=120,
    )
    assert r.status_code == 200
    ok = httpx.get(gated.url + "/v1/indicators", headers={"X-API-Key": ENV_KEY, "X-Request-ID": "log-catalogue-1"})
    assert ok.status_code == 200
    bad = httpx.get(gated.url + "/v1/jobs/nope?token=hunter2", headers={"X-Request-ID": "log-refused-1"})
    assert bad.status_code == 401

    (extract,) = _records_for(gated, "log-extract-1")
    assert extract["method"] == "POST" and extract["route"] == "/v1/extract" and extract["status"] == 200
    assert extract["format"] == "docx"
    assert extract["bytes"] == len(r.content) and extract["content_encoding"] is None  # identity asked: bytes as sent
    assert isinstance(extract["duration_ms"], float) and extract["duration_ms"] > 0
    (catalogue,) = _records_for(gated, "log-catalogue-1")
    assert catalogue["route"] == "/v1/indicators" and catalogue["status"] == 200 and catalogue["format"] is None
    (refused,) = _records_for(gated, "log-refused-1")
    assert refused["route"] == "/v1/jobs/{job_id}" and refused["status"] == 401

    log = gated.log()
    assert gold["agency"] not in log  # nothing read from the file
    assert "secret-name" not in log and "hunter2" not in log and "min_confidence=0.25" not in log  # no names, no query
    assert '"POST /v1/extract' not in log  # uvicorn's own access line is replaced by the JSON one


# ---- metrics --------------------------------------------------------------------------------------


def _samples(url: str) -> list:
    return [s for f in text_string_to_metric_families(httpx.get(url + "/metrics").text) for s in f.samples]


def test_process_metrics_and_route_labels_of_docs_routes(gated: object) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui-bundle.js", "/static/app.js", "/problems/not-a-report", "/no/such/path"):
        httpx.get(gated.url + path)
    samples = _samples(gated.url)
    names = {s.name for s in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"} <= names
    rss = next(s.value for s in samples if s.name == "process_resident_memory_bytes")
    assert rss > 10 * 1024 * 1024
    routes = {s.labels["route"] for s in samples if s.name == "govreport_http_requests_total"}
    assert {"/docs", "/redoc", "/openapi.json", "/docs-assets/{path}", "/static/{path}", "/problems/{code}", "unmatched"} <= routes
    assert not any("swagger-ui-bundle" in r or "app.js" in r or "not-a-report" in r or "/no/such" in r for r in routes)


# ---- gzip and ETag --------------------------------------------------------------------------------


def test_large_json_is_gzipped_small_is_not(gated: object, corpus: Path) -> None:
    key = {"X-API-Key": ENV_KEY}
    with httpx.Client(base_url=gated.url, headers=key, timeout=120) as c:
        raw = c.build_request("GET", "/v1/indicators", headers={"Accept-Encoding": "gzip", "X-Request-ID": "gz-1"})
        r = c.send(raw, stream=True)
        compressed = b"".join(r.iter_raw())
        r.close()
        assert r.headers["content-encoding"] == "gzip"
        plain = c.get("/v1/indicators", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert json.loads(gzip.decompress(compressed)) == plain.json()
        assert len(compressed) < len(plain.content) / 3
        small = c.get("/healthz", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in small.headers
        extract = c.post("/v1/extract", headers={"Accept-Encoding": "gzip"}, files={"file": ("r.docx", (corpus / DOCX).read_bytes())})
        assert extract.headers["content-encoding"] == "gzip" and extract.json()["document"]["format"] == "docx"
    (record,) = _records_for(gated, "gz-1")
    assert record["content_encoding"] == "gzip" and record["bytes"] == len(compressed)


def test_catalogue_etag_and_304(gated: object) -> None:
    key = {"X-API-Key": ENV_KEY}
    first = httpx.get(gated.url + "/v1/indicators", headers=key)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    assert "max-age=" in first.headers["cache-control"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = httpx.get(gated.url + "/v1/indicators", headers={**key, "If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b"" and again.headers["etag"] == etag
    changed = httpx.get(gated.url + "/v1/indicators", headers={**key, "If-None-Match": '"not-this-one"'})
    assert changed.status_code == 200 and changed.json() == first.json()


@pytest.mark.parametrize("content", [None, "# no key yet\n\n"])
def test_a_missing_or_empty_keys_file_stops_the_service(tmp_path: Path, content: str | None) -> None:
    """Fail closed: a secret that was not mounted must not leave the API open."""
    keys = tmp_path / "keys.txt"
    if content is not None:
        keys.write_text(content, encoding="utf-8")
    with pytest.raises(RuntimeError, match="GOVREPORT_API_KEYS_FILE") as failed:
        start_service({"GOVREPORT_API_KEYS_FILE": str(keys)}, tmp_path).stop()
    assert ("holds no key" if content is not None else "No such file") in str(failed.value)
