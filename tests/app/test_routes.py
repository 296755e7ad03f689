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
