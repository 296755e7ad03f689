"""The extract route's body: the worker's bytes pass through untouched unless a filter asks for less."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.routes import Part, shape, response_body
from app.worker import ExtractJob, result_bytes, run_extract
from extractors import ExtractionResult, extract

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
FILES = ("pdf/000_32e6960542ba4ec5.pdf", "docx/003_a1ca134a5abe9455.docx", "html/004_ea52101856a8af1f.html", "txt/001_3b9418f33333a698.txt")


@pytest.mark.parametrize("rel", FILES)
def test_passthrough_is_the_same_json_the_reshaping_path_would_return(rel: str) -> None:
    path = CORPUS / rel
    raw = run_extract(ExtractJob(path.read_bytes(), path.name)).result_json
    body = response_body(raw, [], 0.0)
    assert body is raw  # not a copy: not parsed, not re-serialised
    assert body == shape(ExtractionResult.model_validate_json(raw), None, 0.0)  # what the service used to send
    assert response_body(raw, list(Part), 0.0) is raw  # every part asked for = no filter
    assert json.loads(body)["indicators"]


def test_a_filter_reshapes_and_the_passthrough_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    path = CORPUS / FILES[1]
    raw = result_bytes(extract(path.read_bytes(), path.name))
    everything = json.loads(raw)
    threshold = max(i["confidence"] for i in everything["indicators"])  # keeps the most confident only
    only = json.loads(response_body(raw, [Part.indicators], threshold))
    assert set(only) == set(everything) - {"document", "sections", "validation", "warnings"}
    kept = [i for i in everything["indicators"] if i["confidence"] >= threshold]
    assert 0 < len(only["indicators"]) == len(kept) < len(everything["indicators"])

    def no_parse(*_: object, **__: object) -> None:
        raise AssertionError("the passthrough parsed the worker's JSON")

    monkeypatch.setattr(ExtractionResult, "model_validate_json", no_parse)
    assert response_body(raw, [], 0.0) == raw


def test_a_plain_extract_request_skips_dependency_solving_and_answers_the_same(server: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """`LeanExtractRoute`: no query string → no FastAPI solving, same bytes; a query string or overrides → the solver."""
    import fastapi.routing

    solved: list[str] = []
    real = fastapi.routing.solve_dependencies

    async def counting(*args: object, **kwargs: object) -> object:
        solved.append(kwargs["request"].url.path)  # type: ignore[union-attr]
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    path = CORPUS / FILES[1]
    data = path.read_bytes()
    headers = {"Accept-Encoding": "identity"}
    with server.client() as c:  # type: ignore[attr-defined]
        lean = [c.post(p, content=data, headers=headers) for p in ("/v1/extract", "/extract")]
        assert solved == []
        server.app.dependency_overrides[object] = object  # type: ignore[attr-defined]  # any override: the solver runs
        try:
            full = c.post("/v1/extract", content=data, headers=headers)
        finally:
            server.app.dependency_overrides.clear()  # type: ignore[attr-defined]
        assert solved == ["/v1/extract"]
        filtered = c.post("/v1/extract", params={"include": "document"}, content=data, headers=headers)
        unknown = c.post("/v1/extract", params={"bogus": "1"}, headers=headers)  # no body: refused before any
    assert solved == ["/v1/extract"] * 3
    assert [r.status_code for r in lean] == [200, 200] and full.status_code == 200
    assert lean[0].content == lean[1].content == full.content
    assert json.loads(lean[0].content)["document"]["format"] == "docx" and json.loads(lean[0].content)["indicators"]
    assert "document" in filtered.json() and "indicators" not in filtered.json()
    assert unknown.status_code == 400 and unknown.json()["type"].endswith("/invalid-parameter")
    assert "X-Request-ID".lower() in lean[0].headers and "total;dur=" in lean[0].headers["server-timing"]
