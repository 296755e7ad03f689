"""RTF reader: escapes and code pages, \\trowd tables with merges, and corpus reports written as RTF."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors.errors import ResourceLimitError
from extractors.readers import read as read_any
from extractors.readers import sniff
from extractors.readers.options import ReadOptions
from extractors.readers.rtf import read
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()

SAMPLE = (
    rb"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fcharset134 SimSun;}{\f1\fcharset0 Arial;}}"
    rb"{\info{\title \'c4\'ea\'b1\'a8}}{\*\generator x;}"
    rb"\pard \'d2\'bb\'a1\'a2\'d7\'dc\'cc\'e5\'c7\'e9\'bf\'f6\par"
    rb"\uc1\u20027?\u25991?{\f1 caf\'e9}\par"
    rb"\trowd\clvmgf\cellx1000\cellx3000\cellx5000\pard\intbl A\cell B\cell C\cell\row"
    rb"\trowd\clvmrg\cellx1000\cellx3000\cellx5000\pard\intbl \cell 1\cell 2\cell\row"
    rb"\trowd\cellx1000\cellx5000\pard\intbl X\cell wide\cell\row"
    rb"\pard after\par}"
)


def test_text_code_pages_and_unicode() -> None:
    doc = read(SAMPLE, OPTIONS)
    assert doc.title == "年报"
    assert [p.text for p in doc.paragraphs] == ["一、总体情况", "主文café", "after"]


def test_table_merges() -> None:
    t = read(SAMPLE, OPTIONS).tables[0]
    a = t.rows[0][0]
    assert (a.text, a.rowspan) == ("A", 2)
    assert [(c.text, c.col) for c in t.rows[1]] == [("1", 1), ("2", 2)]
    assert (t.rows[2][1].text, t.rows[2][1].colspan) == ("wide", 2)


def test_rtf_is_sniffed_not_read_as_text() -> None:
    assert sniff(SAMPLE, "report.txt") == "rtf"
    assert read_any(SAMPLE, "report.txt").format == "rtf"


def test_corpus_report_as_rtf_keeps_every_cell(corpus: Path) -> None:
    docx = read_any((corpus / "variants" / "dev04.docx").read_bytes(), "dev04.docx")
    doc = read(fb.rtf_from_document(docx, docx.title or ""), OPTIONS)
    assert doc.title == docx.title
    assert [t.text() for t in doc.tables] == [t.text() for t in docx.tables]
    assert [[(c.row, c.col, c.rowspan, c.colspan) for r in t.rows for c in r] for t in doc.tables] == [
        [(c.row, c.col, c.rowspan, c.colspan) for r in t.rows for c in r] for t in docx.tables
    ]


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ResourceLimitError):
        read(b"{\\rtf1 " + b"{" * 100_000 + b"x" + b"}" * 100_000 + b"}", OPTIONS)
