"""The worker's warm-up inputs: built from the package's knowledge, read by the reader of their format."""
from __future__ import annotations

import pytest

from app.worker import warm_up_files
from extractors import NotAReportError, extract
from extractors.readers import sniff


def test_warm_up_inputs_walk_every_main_reader_and_the_whole_pipeline() -> None:
    files = dict(warm_up_files())
    assert {sniff(data, name, None) for name, data in files.items()} == {"md", "docx", "html", "pdf"}
    counts = set()
    for name in ("warm-up.md", "warm-up.docx", "warm-up.html"):
        result = extract(files[name], name)
        counts.add(len(result.indicators))
        assert len(result.sections) >= 8  # a numbered heading per section of data/sections.toml
    assert len(counts) == 1 and counts.pop() > 50  # the same composed report, whichever reader reads it
    with pytest.raises(NotAReportError):  # the PDF only warms the reader: a grid of numbers is no report
        extract(files["warm-up.pdf"], "warm-up.pdf")
