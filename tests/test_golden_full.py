"""A speed change changes no result: the whole response of every gold-bearing input, before and after.

`tests/golden/full/` holds the complete `extract()` output (minus
`extractor_version`) of each input of `tests/golden/full_cases.py`; a mismatch
names the first differing field. Regenerate with `python -m tests.golden.regen_full`
only for an intended change of output.
"""
from __future__ import annotations

import json

import pytest

from tests.golden.full_cases import FULL, cases, full, stored_name

CASES = cases()


def _first_difference(want: object, got: object, path: str = "") -> str:
    if type(want) is not type(got):
        return f"{path or '/'}: {want!r} != {got!r}"
    if isinstance(want, dict):
        for key in sorted(set(want) | set(got)):
            if want.get(key, "<absent>") != got.get(key, "<absent>"):
                return _first_difference(want.get(key, "<absent>"), got.get(key, "<absent>"), f"{path}/{key}")
    if isinstance(want, list):
        for n, (a, b) in enumerate(zip(want, got)):
            if a != b:
                return _first_difference(a, b, f"{path}/{n}")
        if len(want) != len(got):
            return f"{path}: {len(want)} items != {len(got)}"
    return f"{path or '/'}: {want!r} != {got!r}"


def test_every_input_has_a_golden_file() -> None:
    assert len(CASES) >= 40  # the corpus renderings, variants, crawler, markitdown and formats
    stored = {p.name for p in FULL.glob("*.json")}
    assert stored == {stored_name(rel) for rel in CASES}


@pytest.mark.parametrize("rel", CASES)
def test_full_output_unchanged(rel: str) -> None:
    want = json.loads((FULL / stored_name(rel)).read_text(encoding="utf-8"))
    got = full(rel)
    assert got == want, f"{rel} output changed at {_first_difference(want, got)}; " \
        "a speed change must change no result (regenerate with `python -m tests.golden.regen_full` only if intended)"
