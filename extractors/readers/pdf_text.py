"""Running text of a PDF: page-number removal, paragraphs from lines, document-wide reading order.

Lines become paragraphs the way a reader sees them: a line that runs to the right
margin continues into the next line unless that line is indented or opens a
numbered item. Headings (`一、总体情况`, `（二）…`) always stand alone. Tables that a
page break cut in two are re-joined here, because only the document-wide order
shows that nothing but a page number and a `（续表）` caption lies between them.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..model import Block, make_paragraph, make_source
from .pdf_geometry import Line, PdfSettings, join_pieces
from .pdf_tables import (
    RawTable,
    chars_quality,
    is_continuation_caption,
    merge_continued,
    same_outline,
    to_table,
)

_DASH = "-—–－―─"
# A whole line that is only a page number, in any of the usual print styles.
_PAGE_NUMBER_LINE = (
    re.compile(rf"^[{_DASH}]{{1,2}}\s*\d{{1,4}}\s*[{_DASH}]{{1,2}}$"),
    re.compile(r"^第\s*\d{1,4}\s*页(\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"),
    re.compile(r"^共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页$"),
    re.compile(r"^[Pp]age\s*\d{1,4}(\s*of\s*\d{1,4})?$"),
)
# Page numbers that share a visual line with text (at its start or end).
_PAGE_NUMBER_GLUED = (
    re.compile(rf"^\s*[{_DASH}]{{1,2}}\s*\d{{1,4}}\s*[{_DASH}]{{1,2}}\s+"),
    re.compile(rf"\s+[{_DASH}]{{1,2}}\s*\d{{1,4}}\s*[{_DASH}]{{1,2}}\s*$"),
    re.compile(r"^\s*第\s*\d{1,4}\s*页(\s*[,，/]?\s*共\s*\d{1,4}\s*页)?\s+"),
    re.compile(r"\s+第\s*\d{1,4}\s*页(\s*[,，/]?\s*共\s*\d{1,4}\s*页)?\s*$"),
)
# Only in the top or bottom margin is a bare number (`3`, `3/10`) a page number.
_PAGE_NUMBER_IN_MARGIN = re.compile(r"^\d{1,4}(\s*/\s*\d{1,4})?$")

_CN_NUM = "一二三四五六七八九十百"
# A line opening a section or item: it never continues the line above.
HEADING_PATTERNS = (
    re.compile(rf"^[{_CN_NUM}]+\s*[、.．]"),
    re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[）)]"),
    re.compile(rf"^第[{_CN_NUM}\d]+[章节部分]"),
)
ITEM_PATTERNS = (
    re.compile(r"^\d{1,2}\s*[、．.]\s*(?!\d)"),
    re.compile(r"^[（(]\s*\d{1,2}\s*[）)]"),
    re.compile(r"^[①-⑳]"),
    re.compile(r"^(附件|附表)"),
)
_SENTENCE_END = re.compile(r"[。；;！？!?]")
MAX_HEADING_CHARS = 40


@dataclass(slots=True)
class PageContent:
    """What one page contributed: its text lines and ruled tables, in top-down order."""

    number: int  # 1-based
    height: float
    lines: list[Line]
    tables: list[RawTable]
    items: list[Line | RawTable] = field(default_factory=list)


def strip_page_number(line: Line, height: float, settings: PdfSettings) -> str | None:
    """The line's text without page numbers; None when the line is nothing but one."""
    text = line.text.strip()
    if any(p.match(text) for p in _PAGE_NUMBER_LINE):
        return None
    margin = settings.page_margin_ratio * height
    if _PAGE_NUMBER_IN_MARGIN.match(text) and (line.bottom <= margin or line.top >= height - margin):
        return None
    for p in _PAGE_NUMBER_GLUED:
        text = p.sub("", text)
    return text.strip() or None


def is_heading(text: str) -> bool:
    """A short numbered line with no sentence inside: a section heading that stands alone."""
    t = text.strip()
    if len(t) > MAX_HEADING_CHARS or not any(p.match(t) for p in HEADING_PATTERNS):
        return False
    return not _SENTENCE_END.search(t[:-1])


def opens_item(text: str) -> bool:
    t = text.strip()
    return any(p.match(t) for p in HEADING_PATTERNS) or any(p.match(t) for p in ITEM_PATTERNS)


def _mode(values: list[float], default: float) -> float:
    if not values:
        return default
    counts = Counter(round(v / 2) * 2 for v in values)
    return float(counts.most_common(1)[0][0])


@dataclass(slots=True)
class _Margins:
    left: float
    right: float
    body_size: float


def _margins(pages: list[PageContent]) -> _Margins:
    body = [ln for p in pages for ln in p.lines if len(ln.text) >= 8]
    sizes = sorted(ln.size for ln in body) or [12.0]
    return _Margins(
        left=_mode([ln.x0 for ln in body], 0.0),
        right=_mode([ln.x1 for ln in body], 0.0),
        body_size=sizes[len(sizes) // 2],
    )


def _continues(prev: tuple[int, Line], nxt: tuple[int, Line], m: _Margins, settings: PdfSettings) -> bool:
    """Whether line `nxt` carries on the paragraph that line `prev` ends."""
    (pp, a), (pn, b) = prev, nxt
    size = a.size
    if abs(b.size - size) > settings.size_change_ratio * size:
        return False
    if max(a.max_gap, b.max_gap) > settings.spread_gap_ratio * size:
        return False
    if a.x1 < m.right - settings.full_line_ratio * size:
        return False
    if b.x0 > m.left + settings.indent_ratio * size:
        return False
    if pn == pp and b.top - a.bottom > settings.paragraph_gap_ratio * size:
        return False
    return not opens_item(b.text)


def _merge_split_tables(pages: list[PageContent], settings: PdfSettings) -> None:
    """Join a table ending one page with the same-outline table opening the next page."""
    prev_last: RawTable | None = None
    for page in pages:
        items = page.items
        lead = 0
        while lead < len(items) and isinstance(items[lead], Line) and is_continuation_caption(items[lead].text):
            lead += 1
        first = items[lead] if lead < len(items) else None
        if (
            prev_last is not None
            and isinstance(first, RawTable)
            and same_outline(prev_last, first, settings)
        ):
            merge_continued(prev_last, first, settings)
            del items[: lead + 1]
            if not items:  # the whole page was the table's middle: it may go on further
                continue
        last = items[-1] if items else None
        prev_last = last if isinstance(last, RawTable) else None


def assemble(pages: list[PageContent], settings: PdfSettings) -> list[Block]:
    """Blocks of the whole document in reading order: paragraphs and (re-joined) tables."""
    for page in pages:
        kept: list[Line] = []
        for ln in page.lines:
            text = strip_page_number(ln, page.height, settings)
            if text is not None:
                ln.text = text
                kept.append(ln)
        page.lines = kept
        page.items = sorted([*kept, *page.tables], key=lambda it: it.top)
    _merge_split_tables(pages, settings)
    m = _margins(pages)

    blocks: list[Block] = []
    para: list[tuple[int, Line]] = []
    n_tables = 0
    seen_body = False

    def flush() -> None:
        nonlocal seen_body
        if not para:
            return
        page_no, first = para[0]
        same = [ln for p, ln in para if p == page_no]
        bbox = (
            round(min(ln.x0 for ln in same), 2),
            round(min(ln.top for ln in same), 2),
            round(max(ln.x1 for ln in same), 2),
            round(max(ln.bottom for ln in same), 2),
        )
        text = join_pieces(ln.text for _, ln in para)
        style = None
        if is_heading(text):
            style = "heading"
        elif not seen_body and page_no == 1 and first.size >= settings.title_size_ratio * m.body_size:
            style = "title"
        if style is None and len(para) > 1:
            seen_body = True
        quality = chars_quality([c for _, ln in para for c in ln.chars])
        blocks.append(make_paragraph(text, make_source(page_no, bbox, None, None, None, None), style, quality))
        para.clear()

    for page in pages:
        for item in page.items:
            if isinstance(item, RawTable):
                flush()
                blocks.append(to_table(item, n_tables))
                n_tables += 1
                continue
            cur = (page.number, item)
            if para and _continues(para[-1], cur, m, settings):
                if not is_heading(para[0][1].text):
                    para.append(cur)
                    continue
                # a heading wrapped onto a second, shorter line is still one heading
                joined = join_pieces([para[0][1].text, item.text])
                if len(para) == 1 and item.x1 < m.right - settings.full_line_ratio * item.size and is_heading(joined):
                    para.append(cur)
                    continue
            flush()
            para.append(cur)
    flush()
    return blocks
