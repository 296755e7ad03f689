"""End to end over real HTTP: every corpus format, every problem type, the headers and the metrics."""
from __future__ import annotations

import csv
import io
import json
import random
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from app_testdocs import blank_pdf, docx_bomb, encrypted_pdf
from app_live import UPLOAD_LIMIT, LiveServer

from extractors import SCHEMA_VERSION, __version__, extract

PROBLEM = "https://govreport-extract.dev/problems/"
FORMATS = ("txt", "pdf", "docx", "html")


def _reports(corpus: Path, fmt: str) -> list[Path]:
    """The corpus reports of one format that have gold labels."""
    paths = sorted(p for p in (corpus / fmt).iterdir() if (corpus / "gold" / f"{p.stem}.json").exists())
    assert paths, f"no {fmt} reports with gold in the corpus"
    return paths


def _engine_json(data: bytes, filename: str) -> dict:
    return json.loads(extract(data, filename).model_dump_json())


def _assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == PROBLEM + code
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["instance"] == r.request.url.path
    return body


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips_through_the_service(server: LiveServer, corpus: Path, fmt: str) -> None:
    """Multipart upload of every gold report: the response is exactly the engine's result, and it is right."""
    with server.client() as client:
        for path in _reports(corpus, fmt):
            data = path.read_bytes()
            r = client.post("/v1/extract", files={"file": (path.name, data)})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/json"
            body = r.json()
            assert body == _engine_json(data, path.name)
            gold = json.loads((corpus / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"))
            assert body["schema_version"] == SCHEMA_VERSION
            assert body["extractor_version"] == __version__
            assert body["document"]["format"] == fmt
            assert body["document"]["template"]["value"] == gold["template"]
            assert body["document"]["report_year"]["value"] == gold["report_year"]


def test_markdown_variant_is_read_as_markdown(server: LiveServer, corpus: Path) -> None:
    path = corpus / "variants" / "dev07.md"
    data = path.read_bytes()
    with server.client() as client:
        r = client.post("/v1/extract", content=data, headers={"Content-Type": "text/markdown"}, params={"filename": path.name})
    assert r.status_code == 200, r.text
    assert r.json()["document"]["format"] == "md"
    assert r.json() == _engine_json(data, path.name)


def test_raw_body_with_content_disposition_and_alias_route(server: LiveServer, corpus: Path) -> None:
    """Raw PDF body named by Content-Disposition; /extract answers the same as /v1/extract."""
    path = _reports(corpus, "pdf")[0]
    data = path.read_bytes()
    headers = {"Content-Type": "application/pdf", "Content-Disposition": f'attachment; filename="{path.name}"'}
    with server.client() as client:
        v1 = client.post("/v1/extract", content=data, headers=headers)
        alias = client.post("/extract", content=data, headers=headers)
    assert v1.status_code == alias.status_code == 200
    assert v1.json() == alias.json() == _engine_json(data, path.name)
    assert v1.json()["document"]["pages"] == _engine_json(data, path.name)["document"]["pages"] > 0


def test_format_is_decided_by_the_bytes_not_the_name(server: LiveServer, corpus: Path) -> None:
    path = _reports(corpus, "docx")[0]
    with server.client() as client:
        r = client.post("/v1/extract", files={"file": ("report.pdf", path.read_bytes(), "application/pdf")})
    assert r.status_code == 200
    assert r.json()["document"]["format"] == "docx"


def test_include_and_min_confidence(server: LiveServer, corpus: Path) -> None:
    path = _reports(corpus, "txt")[0]
    data = path.read_bytes()
    with server.client() as client:
        full = client.post("/v1/extract", files={"file": (path.name, data)}).json()
        part = client.post(
            "/v1/extract", params=[("include", "indicators"), ("include", "sections")], files={"file": (path.name, data)}
        )
        threshold = sorted(i["confidence"] for i in full["indicators"])[len(full["indicators"]) // 2]
        confident = client.post(
            "/v1/extract", params={"min_confidence": threshold, "include": "indicators"}, files={"file": (path.name, data)}
        )
    assert part.status_code == 200
    assert set(part.json()) == {"schema_version", "extractor_version", "indicators", "sections"}
    assert part.json()["indicators"] == full["indicators"]
    assert part.json()["sections"] == full["sections"]
    kept = confident.json()["indicators"]
    assert kept == [i for i in full["indicators"] if i["confidence"] >= threshold]
    assert kept
    confidences = {i["confidence"] for i in full["indicators"]}
    assert len(kept) < len(full["indicators"]) or len(confidences) == 1


# ---- every problem type, with its exact status ------------------------------------------------


def _damaged_zip() -> bytes:
    return b"PK\x03\x04" + bytes(random.Random(1).randrange(256) for _ in range(2000))


ERROR_CASES = [
    # (name, request kwargs, status, code)
    ("empty raw body", dict(content=b"", headers={"Content-Type": "application/pdf"}), 400, "empty-file"),
    ("no file field", dict(files={"document": ("a.txt", b"abc")}), 400, "bad-request"),
    ("empty file field", dict(files={"file": ("a.txt", b"")}), 400, "empty-file"),
    (
        "malformed multipart",
        dict(content=b"--nope\r\ngarbage", headers={"Content-Type": "multipart/form-data; boundary=xyz"}),
        400,
        "bad-request",
    ),
    ("declared too large", dict(content=b"a" * (UPLOAD_LIMIT + 1)), 413, "file-too-large"),
    ("multipart file too large", dict(files={"file": ("a.txt", b"a" * (UPLOAD_LIMIT + 10))}), 413, "file-too-large"),
    ("random bytes named pdf", dict(files={"file": ("r.pdf", random.Random(7).randbytes(4096), "application/pdf")}), 415, "unsupported-media-type"),
    ("legacy OLE .doc", dict(files={"file": ("r.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)}), 415, "unsupported-media-type"),
    ("corrupt pdf", dict(files={"file": ("r.pdf", b"%PDF-1.7\n1 0 obj <<< broken")}), 422, "corrupt-file"),
    ("damaged zip", dict(files={"file": ("r.docx", _damaged_zip())}), 422, "corrupt-file"),
    ("encrypted pdf", dict(files={"file": ("r.pdf", encrypted_pdf())}), 422, "encrypted-file"),
    ("scanned pdf", dict(files={"file": ("r.pdf", blank_pdf(2))}), 422, "no-text-layer"),
    ("docx bomb", dict(files={"file": ("r.docx", docx_bomb())}), 422, "resource-limit"),
]


@pytest.mark.parametrize(("name", "kwargs", "status", "code"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_problem_types_and_their_metrics(
    server: LiveServer, name: str, kwargs: dict, status: int, code: str
) -> None:
    before_failures = server.metric("govreport_extraction_failures_total", problem=code)
    before_requests = server.metric(
        "govreport_http_requests_total", route="/v1/extract", method="POST", status=str(status)
    )
    with server.client() as client:
        r = client.post("/v1/extract", **kwargs)
    body = _assert_problem(r, status, code)
    if status == 413:
        assert body["max_bytes"] == UPLOAD_LIMIT
    assert server.metric("govreport_extraction_failures_total", problem=code) == before_failures + 1
    assert (
        server.metric("govreport_http_requests_total", route="/v1/extract", method="POST", status=str(status))
        == before_requests + 1
    )


def test_too_large_is_detected_while_streaming(server: LiveServer) -> None:
    """A chunked upload without Content-Length is cut off at the limit, not buffered whole."""
    def chunks():
        for _ in range(40):  # 40 × 128 KiB = 5 MiB, over twice the limit
            yield b"x" * (128 * 1024)

    with server.client() as client:
        r = client.post("/v1/extract", content=chunks(), headers={"Content-Type": "text/plain"})
    assert "content-length" not in r.request.headers
    body = _assert_problem(r, 413, "file-too-large")
    assert body["max_bytes"] == UPLOAD_LIMIT


def test_too_many_pages_uses_the_max_pages_setting(fault_server: LiveServer) -> None:
    with fault_server.client() as client:
        r = client.post("/v1/extract", files={"file": ("r.pdf", blank_pdf(fault_server.settings.max_pages + 1))})
    body = _assert_problem(r, 422, "too-many-pages")
    assert body["max_pages"] == fault_server.settings.max_pages


@pytest.mark.parametrize(
    ("params", "bad"),
    [({"min_confidence": "2"}, "query.min_confidence"), ({"include": "everything"}, "query.include.0"),
     ({"min_confidence": "high"}, "query.min_confidence")],
)
def test_bad_query_parameters_are_problems(server: LiveServer, params: dict, bad: str) -> None:
    with server.client() as client:
        r = client.post("/v1/extract", params=params, content=b"text")
    body = _assert_problem(r, 400, "invalid-parameter")
    assert [e["loc"] for e in body["errors"]] == [bad]


def test_unknown_route_and_wrong_method_are_problems(server: LiveServer) -> None:
    with server.client() as client:
        _assert_problem(client.get("/v2/nothing"), 404, "not-found")
        r = client.get("/v1/extract")
    _assert_problem(r, 405, "method-not-allowed")
    assert "POST" in r.headers["allow"]


# ---- headers ----------------------------------------------------------------------------------


def test_request_id_is_sanitized_echoed_or_generated(server: LiveServer) -> None:
    with server.client() as client:
        echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y"})
        dirty = client.get("/healthz", headers={"X-Request-ID": "a b/c<script>" + "z" * 200})
        junk = client.get("/healthz", headers={"X-Request-ID": "/// <> ///"})
        fresh = [client.get("/healthz").headers["x-request-id"] for _ in range(2)]
        problem = client.post("/v1/extract", content=b"", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "abc-123_x.y"
    assert dirty.headers["x-request-id"] == ("abcscript" + "z" * 200)[:128]
    assert len(junk.headers["x-request-id"]) == 32  # nothing usable left: a new id
    assert fresh[0] != fresh[1] and all(len(f) == 32 for f in fresh)
    assert problem.headers["x-request-id"] == problem.json()["request_id"] == "trace-42"


def test_processing_time_headers(server: LiveServer, corpus: Path) -> None:
    path = _reports(corpus, "txt")[0]
    with server.client() as client:
        r = client.post("/v1/extract", files={"file": (path.name, path.read_bytes())})
        e = client.post("/v1/extract", content=b"")
    for resp in (r, e):
        assert float(resp.headers["x-processing-time-ms"]) >= 0
        assert resp.headers["server-timing"].startswith("total;dur=")
    assert "extract;dur=" in r.headers["server-timing"] and "upload;dur=" in r.headers["server-timing"]


# ---- operational endpoints --------------------------------------------------------------------


def test_health_ready_version(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        version = client.get("/version").json()
    assert ready["status"] == "ready"
    assert ready["workers"] == ready["workers_alive"] == 2
    assert ready["memory_available_bytes"] > 0
    assert version == {
        "service": "govreport-extract",
        "extractor_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "api_version": "v1",
    }


def test_indicator_catalogue_is_the_package_data(server: LiveServer) -> None:
    text = files("extractors").joinpath("data/indicators.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    with server.client() as client:
        body = client.get("/v1/indicators").json()
    assert body["count"] == len(rows) == len(body["indicators"])
    assert body["schema_version"] == SCHEMA_VERSION
    by_id = {i["id"]: i for i in body["indicators"]}
    for row in rows:
        item = by_id[row["id"]]
        assert item["label"] == row["label_zh"]
        assert item["unit"] == (row["unit"] or None)
        assert item["sum_of"] == [p for p in row["sum_of"].split("+") if p]
        assert item["templates"] == row["template"].split("|")
    assert any(i["sum_of"] for i in body["indicators"])


def test_metrics_count_files_by_format_and_template(server: LiveServer, corpus: Path) -> None:
    path = _reports(corpus, "html")[0]
    template = json.loads((corpus / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"))["template"]
    before = server.metric("govreport_files_total", format="html", template=template)
    latency_before = server.metric("govreport_http_request_duration_seconds_count", route="/v1/extract")
    with server.client() as client:
        assert client.post("/v1/extract", files={"file": (path.name, path.read_bytes())}).status_code == 200
        text = client.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    assert server.metric("govreport_files_total", format="html", template=template) == before + 1
    assert server.metric("govreport_http_request_duration_seconds_count", route="/v1/extract") == latency_before + 1
    assert server.metric("govreport_http_requests_in_flight") >= 1  # the scrape itself is in flight
    assert server.metric("govreport_pool_workers", state="alive") == 2
