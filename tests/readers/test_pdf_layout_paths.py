"""The PDF layout fast paths give what the plain per-character algorithms give, on real corpus pages."""
from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from extractors.readers import pdf as pdf_reader
from extractors.readers.pdf_geometry import Char, PdfSettings, dedupe_overprint, group_lines, make_line
from extractors.readers.pdf_tables import _segments, find_unruled_tables

SETTINGS = PdfSettings()


def page_chars(corpus: Path, rel: str, index: int) -> list[Char]:
    pdf = pdfium.PdfDocument((corpus / rel).read_bytes())
    try:
        page = pdf[index]
        textpage = page.get_textpage()
        try:
            return pdf_reader._chars(textpage, page.get_cropbox()[3])
        finally:
            textpage.close()
            page.close()
    finally:
        pdf.close()


def fields(c: Char) -> tuple[object, ...]:
    return (c.text, c.x0, c.top, c.x1, c.bottom, c.cx, c.cy, c.height)


def reference_dedupe(chars: list[Char], ratio: float) -> list[Char]:
    """The fake-bold rule spelled out: drop a glyph covering most of one of the last three kept, same text."""
    out: list[Char] = []
    for c in chars:
        if not any(
            p.text == c.text
            and (w := min(p.x1, c.x1) - max(p.x0, c.x0)) > 0
            and (h := min(p.bottom, c.bottom) - max(p.top, c.top)) > 0
            and w * h >= ratio * (c.x1 - c.x0) * max(c.height, 0.1)
            for p in out[-3:]
        ):
            out.append(c)
    return out


def reference_lines(chars: list[Char]) -> list[tuple[str, float, float]]:
    """Lines grouped a character at a time (the tolerance taken from the line's first character)."""
    groups: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: c.cy):
        g = groups[-1] if groups else None
        if g is not None and abs(c.cy - g[0].cy) <= SETTINGS.line_overlap * max(g[0].height, c.height, 1.0):
            g.append(c)
        else:
            groups.append([c])
    lines = [make_line(sorted(g, key=lambda c: c.x0), SETTINGS) for g in groups]
    return sorted((ln.text, ln.top, ln.x0) for ln in lines)


def test_page_characters_have_the_fields_char_init_sets(corpus: Path) -> None:
    chars = page_chars(corpus, "pdf/hongze_2024.pdf", 0)
    assert len(chars) > 200
    assert [fields(c) for c in chars] == [fields(Char(c.text, c.x0, c.top, c.x1, c.bottom)) for c in chars]
    assert "政府信息公开" in "".join(c.text for c in chars)


def test_dedupe_matches_the_plain_rule_and_drops_a_real_line_drawn_twice(corpus: Path) -> None:
    for rel, index in (("pdf/hongze_2024.pdf", 0), ("pdf/huaian_2024.pdf", 1), ("variants/dev02.pdf", 0)):
        chars = page_chars(corpus, rel, index)
        assert dedupe_overprint(chars, SETTINGS) == reference_dedupe(chars, SETTINGS.duplicate_overlap)
    line = page_chars(corpus, "pdf/hongze_2024.pdf", 0)[:40]
    bold = [x for c in line for x in (c, Char(c.text, c.x0 + 0.3, c.top, c.x1 + 0.3, c.bottom))]
    assert dedupe_overprint(bold, SETTINGS) == line


def test_bisected_lines_are_the_one_by_one_lines(corpus: Path) -> None:
    for rel, index in (("pdf/hongze_2024.pdf", 0), ("pdf/huaian_2024.pdf", 1), ("variants/dev01.pdf", 2)):
        chars = dedupe_overprint(page_chars(corpus, rel, index), SETTINGS)
        got = sorted((ln.text, ln.top, ln.x0) for ln in group_lines(chars, SETTINGS))
        assert got == reference_lines(chars)
        assert len(got) > 5


def test_unruled_search_skips_only_lines_that_are_one_piece(corpus: Path) -> None:
    chars = dedupe_overprint(page_chars(corpus, "pdf/hongze_2024.pdf", 0), SETTINGS)
    lines = group_lines(chars, SETTINGS)
    skipped = [ln for ln in lines if ln.max_gap <= SETTINGS.unruled_gap_ratio * ln.size]
    assert skipped
    assert all(len(_segments(ln, SETTINGS.unruled_gap_ratio * ln.size)) == 1 for ln in skipped)
    tables, kept = find_unruled_tables(lines, 1, SETTINGS)
    assert len(kept) + sum(t.n_rows for t in tables) == len(lines)
