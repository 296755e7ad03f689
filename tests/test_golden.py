"""End-to-end golden pairs: the whole pipeline on real files against reviewed summaries."""
from __future__ import annotations

import json

import pytest

from extractors import extract
from tests.golden.cases import CASES, CORPUS, GOLDEN, summary


@pytest.mark.parametrize("rel", CASES)
def test_golden_pair(rel: str) -> None:
    path = CORPUS / rel
    expected = json.loads((GOLDEN / f"{path.name}.json").read_text(encoding="utf-8"))
    got = json.loads(json.dumps(summary(extract(path.read_bytes(), filename=path.name)), ensure_ascii=False))
    assert got == expected, "output changed: review it and run `python -m tests.golden.regen` if intended"
