"""Property-based fuzzing of every reader: mutated corpus files give a Document or an ExtractionError.

Never another exception, never a hang (per-example deadline, `fuzzing.deadline`).
CI runs a bounded number of examples per reader (about half a minute in all);
`GOVREPORT_LONG_TESTS=1` runs ten times more. A crash input is kept in
`regressions/` and replayed by `test_regressions.py` from then on.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fuzzing import mutations, run_reader, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import LONG, note_for_summary

from extractors import ExtractionError
from extractors.model import Document

# examples per reader in CI; PDFs cost the most per example
EXAMPLES = {"pdf": 200, "docx": 300, "html": 300, "txt": 300, "md": 300}
SCALE = int(os.environ.get("GOVREPORT_FUZZ_SCALE", "10" if LONG else "1"))  # a hand campaign can go further
REFUSABLE = {"pdf", "docx"}  # text readers accept nearly any bytes, so only these must see refusals


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # duplicated zip entries are a mutation
@pytest.mark.parametrize("fmt", list(EXAMPLES))
def test_reader_survives_mutated_corpus_files(corpus: Path, fmt: str) -> None:
    seed_files = seeds(corpus, fmt)
    outcomes: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES[fmt] * SCALE,
        deadline=None,  # the wall-clock bound is fuzzing.deadline, which also stops a real hang
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        database=None,
    )
    @given(data=mutations(fmt, seed_files))
    def reads_or_refuses(data: bytes) -> None:
        result = run_reader(fmt, data)
        assert isinstance(result, (Document, ExtractionError))
        key = type(result).__name__
        outcomes[key] = outcomes.get(key, 0) + 1

    reads_or_refuses()
    note_for_summary(f"fuzz {fmt}: {sum(outcomes.values())} examples → {dict(sorted(outcomes.items()))}")
    # the mutations reached both sides: some inputs still read; container formats also saw refusals
    assert outcomes.get("Document", 0) > 0, outcomes
    if fmt in REFUSABLE:
        assert sum(v for k, v in outcomes.items() if k != "Document") > 0, outcomes


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html", "txt", "md"])
def test_unmutated_seeds_read(corpus: Path, fmt: str) -> None:
    """The harness itself: every seed is a readable document (so a refusal above is caused by the mutation)."""
    for data in seeds(corpus, fmt):
        assert isinstance(run_reader(fmt, data, keep=False), Document)


def test_random_bytes_never_crash_any_reader() -> None:
    @settings(max_examples=100 * SCALE, deadline=None, database=None)
    @given(fmt=st.sampled_from(["pdf", "docx", "html", "txt", "md"]), data=st.binary(min_size=1, max_size=4096))
    def check(fmt: str, data: bytes) -> None:
        assert isinstance(run_reader(fmt, data), (Document, ExtractionError))

    check()
