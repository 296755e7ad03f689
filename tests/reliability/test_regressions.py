"""Replay every crash input the fuzzer ever kept (`regressions/<format>-<sha1>.<format>`).

Each file once made its reader raise something other than an ExtractionError
(or hang); it must now read or be refused like any other input. Crashes found
so far:

* html-*: a page declaring `<meta charset=utf-16>` without a BOM made the
  decoder raise `UnicodeError` (not `UnicodeDecodeError`), a 500 in the
  service. Fixed in `extractors/readers/encoding.py`, which now also refuses to
  run a bytes-to-bytes codec a page names (`zlib`, `bz2`, `base64`, `rot13`).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from fuzzing import REGRESSIONS, SUFFIX, run_reader

from extractors import ExtractionError, extract
from extractors.model import Document

FILES = sorted(p for p in REGRESSIONS.iterdir() if p.suffix in SUFFIX.values()) if REGRESSIONS.is_dir() else []


def test_there_are_regressions_to_replay() -> None:
    assert FILES, f"no regression files under {REGRESSIONS}"
    for path in FILES:
        assert path.name.split("-", 1)[0] in SUFFIX, f"{path.name}: name must start with its reader's format"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_regression_file_reads_or_is_refused(path: Path) -> None:
    fmt = path.name.split("-", 1)[0]
    result = run_reader(fmt, path.read_bytes(), keep=False)
    assert isinstance(result, (Document, ExtractionError))


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "zlib", "zlib_codec", "bz2", "base64", "hex", "rot13", "uu",
                                     "quopri", "undefined", "no-such-charset"])
def test_a_declared_charset_never_crashes_or_decompresses(charset: str) -> None:
    page = (f'<html><head><meta charset="{charset}"><title>政府信息公开工作年度报告</title></head>'
            "<body><p>一、总体情况</p><p>本年度主动公开政府信息。</p></body></html>").encode()
    result = extract(page, "r.html")
    assert result.document.title == "政府信息公开工作年度报告"
