"""The response the pipeline builds as plain data is the contract: it validates against the models,
and its JSON bytes are the ones the models themselves serialise."""
from __future__ import annotations

import json

from extractors.pipeline import document_response, extract_json
from extractors.result import ExtractionResult, Indicator, SourceRef, dump_json
from tests.corpus_files import CORPUS, gold_files, read_doc


def test_every_corpus_response_validates_and_serialises_as_the_models_do() -> None:
    rels = gold_files()
    assert len(rels) > 30
    indicators = 0
    for rel in rels:
        resp = document_response(read_doc(rel))
        result = ExtractionResult.model_validate(resp.data, strict=True)  # no coercion needed anywhere
        assert resp.to_json() == result.to_json(), rel  # byte for byte, key order included
        assert result.model_dump() == resp.data, rel
        indicators += len(result.indicators)
    assert indicators > 1000


def test_extract_json_is_the_typed_results_serialisation() -> None:
    path = CORPUS / gold_files(("txt",))[0]
    body = extract_json(path.read_bytes(), filename=path.name)
    result = ExtractionResult.model_validate_json(body)
    assert result.indicators and result.document.report_year.value
    assert body == result.to_json()


def test_dump_json_writes_what_pydantic_writes_including_integers_beyond_64_bits() -> None:
    values = [0, 7, -3, 2**63 - 1, 2**64, 10**40, 12.0, 0.1, 1e16, 1.5e-7, -0.0, None]
    for v in values:
        model = Indicator(id="requests.new", value=v, confidence=0.5, source=SourceRef(page=1, bbox=[1.5, 2.25, 3.0, 4.0]))
        assert dump_json(model.model_dump()) == model.model_dump_json().encode(), v
    assert json.loads(dump_json({"value": 10**40}))["value"] == 10**40
