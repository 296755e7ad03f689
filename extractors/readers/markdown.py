"""Markdown reader: a report as PDF-to-Markdown converters write it.

Converters keep the PDF's layout artefacts, so this reader undoes them:

* Hard-wrapped paragraphs. Lines are re-joined (CJK without a space) until a
  line falls clearly short of the document's wrap width (estimated from its own
  text lines), a blank line, or a line that opens a heading. Headings are
  ``#`` lines and numbered section lines such as ``一、总体情况`` or
  ``（一）…`` at line start; they always start their own Paragraph (a run-in
  heading like ``（一）主动公开情况。主要通过…`` keeps its sentence).
* Page numbers (``- 3 -``, ``—3—``, ``第 3 页``, a bare ``3``) are dropped
  wherever they sit, including inside a paragraph or a table — except a bare
  number line with a table row right above and right below it: converters pull
  a cell's value out onto such a line, so it is kept as a one-cell row. A paragraph
  broken only by a page number continues when its last line ran to the full
  width without closing punctuation.
* Pipe tables become `Table` blocks: cells split on unescaped ``|``, the
  ``---`` separator row dropped, ``<br>`` inside a cell kept as "\\n". A table
  interrupted by page-number lines and/or blank lines and then continued is ONE
  table (its continuation's header row is kept as an ordinary row).
* Labels the converter wrapped onto their own line between table rows (a line
  without pipes, e.g. ``2.没有现成信息需要另行制作``) are kept IN the table as a
  row of one cell at column 0, in their original position, so the table
  interpreter can join them with the label fragment in the row above or below.
* Emphasis (``**``/``__``), links, images, backslash escapes and HTML entities
  are reduced to plain text; ``<table>`` HTML blocks (some converters emit
  them) go through the HTML reader's table grid.
"""
from __future__ import annotations

import html as htmlmod
import re
import unicodedata
from dataclasses import dataclass, field

from ..errors import CorruptFileError, ResourceLimitError, UnreadableDocumentError
from ..model import Block, Cell, Document, Paragraph, Source, Table
from . import html as html_reader
from .encoding import decode_text
from .options import ReadOptions

# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class MarkdownSettings:
    """Tuning knobs and limits of the Markdown reader."""

    wrap_min_lines: int = 4  # text lines needed before a wrap width is trusted
    wrap_percentile: float = 0.9  # the wrap width is this percentile of text line widths
    wrap_full_ratio: float = 0.8  # a line at least this share of the wrap width continues
    max_page_number: int = 999  # a bare number line above this is content, not a page number
    max_heading_chars: int = 40  # longer numbered lines are run-in headings of a paragraph
    max_label_lines: int = 3  # pipe-less lines between two table rows kept as label rows
    max_table_cols: int = 500  # cells in one pipe row
    max_replacement_ratio: float = 0.1  # share of U+FFFD/control characters => not text
    blank_separated_max_short: float = 0.15  # share of paragraph-end lines NOT followed by a blank line tolerated


DEFAULT_SETTINGS = MarkdownSettings()

# --------------------------------------------------------------------------- patterns (data)

_CN_NUM = "一二三四五六七八九十百零〇"
_NUMBERED_HEADING = re.compile(
    rf"^(?:[{_CN_NUM}]+[、.．]"
    rf"|[（(][{_CN_NUM}]+[）)](?![项款条目号])"
    rf"|第[{_CN_NUM}\d]+[章节部分篇]"
    r")"
)
_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_PAGE_DASH = "-—–－─~～_·•"
_PAGE_NUMBER = re.compile(
    rf"^\s*(?P<l>[{_PAGE_DASH}]+\s*)?(?P<di>第\s*)?(?P<n>\d{{1,4}})(?P<dd>\s*页)?"
    rf"(?:\s*(?:[/／]|\s共)\s*(?:共\s*)?\d{{1,4}}\s*页?)?(?P<r>\s*[{_PAGE_DASH}]+)?\s*$"
)
_PAGE_WORD = re.compile(r"^\s*(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.IGNORECASE)
_GLUED_PAGE_END = re.compile(r"(?<!\s)\s*(?:[—－–─]\s*\d{1,3}\s*[—－–─]|\s-\s\d{1,3}\s-)\s*$")
_GLUED_PAGE_START = re.compile(r"^\s*(?:[—－–─]\s*\d{1,3}\s*[—－–─]|-\s\d{1,3}\s-\s)\s*")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)*\|?\s*$")
_KEPT_CHAR = re.compile("\x00(\\d+)\x00")  # a character set aside while markup is stripped
_HR = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST_MARKER = re.compile(r"^\s{0,3}[-*+]\s+(?=\S)")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_EMPHASIS = re.compile(r"\*\*|__")
# No bracket inside link text and no parenthesis inside an inner pair: each scan stops at the next
# bracket, so a line of 100,000 unclosed `[` costs one pass, not one pass per `[`.
_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^)(]|\([^()]*\))*\)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_CLOSED = re.compile(r"[。！？!?；;…][”’」』）)]*$")
_CJK_END = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’]$")
_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_HTML_TABLE_OPEN = re.compile(r"^\s*<table\b", re.IGNORECASE)
_HTML_TABLE_CLOSE = re.compile(r"</table\s*>", re.IGNORECASE)


# --------------------------------------------------------------------------- line model


@dataclass(frozen=True, slots=True)
class _Line:
    no: int  # 0-based line number in the file
    kind: str  # blank | page | row | sep | hr | heading | text | html
    text: str
    level: int = 0  # heading level


def _classify(no: int, raw: str) -> _Line:
    s = raw.rstrip()
    if not s.strip():
        return _Line(no, "blank", "")
    if is_page_number(s):
        return _Line(no, "page", s.strip())
    stripped = s.strip()
    if "|" in stripped and _SEPARATOR.match(stripped) and "-" in stripped:
        return _Line(no, "sep", stripped)
    if stripped.startswith("|"):
        return _Line(no, "row", stripped)
    if _HR.match(s):
        return _Line(no, "hr", "")
    m = _ATX_HEADING.match(s)
    if m:
        return _Line(no, "heading", m.group(2), len(m.group(1)))
    if _HTML_TABLE_OPEN.match(s):
        return _Line(no, "html", s)
    return _Line(no, "text", s)


def is_page_number(line: str, settings: MarkdownSettings = DEFAULT_SETTINGS, decorated_only: bool = False) -> bool:
    """A line that is only a page number: decorated (``- 3 -``, ``第3页``) or a bare small number."""
    m = _PAGE_NUMBER.match(line)
    if m:
        decorated = bool(m.group("l") or m.group("r") or m.group("di") or m.group("dd"))
        return decorated or (not decorated_only and int(m.group("n")) <= settings.max_page_number)
    return bool(_PAGE_WORD.match(line))


def strip_glued_page_numbers(text: str) -> str:
    """Remove a dash-decorated page number stuck to the start or end of a text line."""
    return _GLUED_PAGE_START.sub("", _GLUED_PAGE_END.sub("", text))


_INLINE_MARKS = "\\![<*_&"  # every inline rewrite below needs one of these characters


def clean_inline(text: str, keep_breaks: bool = False) -> str:
    """Markdown inline syntax to plain text; ``<br>`` becomes "\\n" when `keep_breaks`."""
    if not any(ch in text for ch in _INLINE_MARKS):  # plain cell text (most of a table): nothing to rewrite
        text = text.replace("\xa0", " ")
        if keep_breaks and "\n" in text:
            return "\n".join(part for part in (" ".join(p.split()) for p in text.split("\n")) if part)
        return " ".join(text.split())
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: "\x00" + str(ord(m.group(1))) + "\x00", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _BR.sub("\n" if keep_breaks else " ", text)
    if "<" in text:
        text = _TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    if "&" in text:
        text = htmlmod.unescape(text)
    if "\x00" in text:
        text = _KEPT_CHAR.sub(lambda m: chr(int(m.group(1))), text)
    text = text.replace("\xa0", " ")
    if keep_breaks:
        return "\n".join(part for part in (" ".join(p.split()) for p in text.split("\n")) if part)
    return " ".join(text.split())


def display_width(text: str) -> int:
    """Columns a line takes in a fixed-width layout: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_STAT_LINE = re.compile(r"\S\s+(?:——|[+\-]?\d[\d,]*(?:\.\d+)?)$")
_SENTENCE_MARK = re.compile(r"[，。；！？,;]")


def join_lines(left: str, right: str) -> str:
    """Join a hard-wrapped line to the next: no space where either side is CJK."""
    if not left:
        return right
    if not right:
        return left
    if _CJK_END.search(left) or _CJK_END.match(right[0]) or left.endswith("-"):
        return left + right
    return f"{left} {right}"


# --------------------------------------------------------------------------- entry point


def read(data: bytes, options: ReadOptions, settings: MarkdownSettings = DEFAULT_SETTINGS) -> Document:
    """Read converter Markdown into Paragraphs and Tables (see the module docstring)."""
    text = _decode(data, options, settings)
    lines = [_classify(i, raw) for i, raw in enumerate(text.splitlines())]
    lines = _mark_fences(lines, text.splitlines())
    wrap = _wrap_width(lines, settings)
    blocks = _Builder(lines, wrap, _blank_separated(lines, wrap, settings), settings,
                      max_cells=options.max_document_cells).build()
    if not blocks:
        raise UnreadableDocumentError("The Markdown file holds no readable text.")
    return Document(blocks=tuple(blocks), format="md", title=_title(blocks))


def _decode(data: bytes, options: ReadOptions, settings: MarkdownSettings) -> str:
    if len(data) > options.max_text_chars * 4:
        raise ResourceLimitError("The Markdown file is larger than the text limit.", limit=options.max_text_chars)
    text = decode_text(data)
    if text is None or not text.strip():
        raise UnreadableDocumentError("The Markdown file decodes to no text.")
    if len(text) > options.max_text_chars:
        raise ResourceLimitError("The Markdown file has more characters than the limit.", limit=options.max_text_chars)
    probe = text[:65536]
    if len(_JUNK.findall(probe)) > settings.max_replacement_ratio * len(probe):
        raise CorruptFileError("The Markdown file is not text in any supported encoding.")
    return text.replace("\x00", "")


def _mark_fences(lines: list[_Line], raw: list[str]) -> list[_Line]:
    """Lines inside ``` fences are literal text, one Paragraph each (kind "code")."""
    out: list[_Line] = []
    inside = False
    for ln in lines:
        if _FENCE.match(raw[ln.no]):
            inside = not inside
            out.append(_Line(ln.no, "blank", ""))
        elif inside:
            out.append(_Line(ln.no, "code", raw[ln.no].rstrip()) if raw[ln.no].strip() else _Line(ln.no, "blank", ""))
        else:
            out.append(ln)
    return out


def _wrap_width(lines: list[_Line], settings: MarkdownSettings) -> int | None:
    """The width a converter wrapped running text at, or None when there are too few lines to tell."""
    widths = sorted(display_width(ln.text.strip()) for ln in lines if ln.kind == "text")
    if len(widths) < settings.wrap_min_lines:
        return None
    return widths[min(len(widths) - 1, int(len(widths) * settings.wrap_percentile))]


def _blank_separated(lines: list[_Line], wrap: int | None, settings: MarkdownSettings) -> bool:
    """True when blank lines separate the paragraphs: the short lines that look like a
    paragraph's last line are (almost) always followed by a blank line or a non-text
    line. Then a short or sentence-final line does not end its paragraph by itself."""
    if wrap is None:
        return False
    ends = blank_after = 0
    body = [ln for ln in lines if ln.kind != "page"]
    for k, ln in enumerate(body):
        if ln.kind != "text" or _NUMBERED_HEADING.match(ln.text.strip()):
            continue
        if display_width(ln.text.strip()) >= settings.wrap_full_ratio * wrap:
            continue
        ends += 1
        blank_after += k + 1 == len(body) or body[k + 1].kind != "text"
    return ends > 0 and blank_after >= (1.0 - settings.blank_separated_max_short) * ends


def _title(blocks: list[Block]) -> str | None:
    """Leading level-1 headings (``# 淮安市…`` ``# 2024 年…年度报告``) joined."""
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, Paragraph) and b.style == "title":
            parts.append(b.text)
        else:
            break
    title = ""
    for p in parts:
        title = join_lines(title, p)
    return title or None


# --------------------------------------------------------------------------- block building


@dataclass(slots=True)
class _Builder:
    lines: list[_Line]
    wrap: int | None
    blank_separated: bool
    settings: MarkdownSettings
    blocks: list[Block] = field(default_factory=list)
    tables: int = 0
    max_cells: int = ReadOptions().max_document_cells  # the document cap, checked while tables are built
    cells: int = 0  # table cells built so far
    # the paragraph being built
    buf: str = ""
    buf_line: int | None = None
    buf_style: str | None = None
    last_full: bool = False  # the last line added ran to the wrap width without closing punctuation
    page_since: bool = False  # a page-number line was skipped since the paragraph's last line

    def build(self) -> list[Block]:
        lines = self.lines
        i, n = 0, len(lines)
        while i < n:
            ln = lines[i]
            kind = ln.kind
            if kind == "page":
                self.page_since = True
                i += 1
            elif kind == "blank":
                i = self._gap(i)
            elif kind == "hr":
                self._flush()
                i += 1
            elif kind == "heading":
                self._flush()
                style = "title" if ln.level == 1 and all(
                    isinstance(b, Paragraph) and b.style == "title" for b in self.blocks
                ) else "heading"
                text = clean_inline(strip_glued_page_numbers(ln.text))
                if text:
                    self.blocks.append(Paragraph(text, Source(line=ln.no), style))
                i += 1
            elif kind in ("row", "sep") or (kind == "text" and self._starts_table(i)):
                self._flush()
                i = self._table(i)
            elif kind == "html":
                self._flush()
                i = self._html_table(i)
            elif kind == "code":
                self._flush()
                self.blocks.append(Paragraph(ln.text, Source(line=ln.no), "code"))
                i += 1
            else:
                self._text(ln)
                i += 1
        self._flush()
        return self.blocks

    # ---- paragraphs

    def _gap(self, i: int) -> int:
        """Blank lines (and page numbers among them) end the paragraph unless a page break split it."""
        j = i
        page = self.page_since
        while j < len(self.lines) and self.lines[j].kind in ("blank", "page"):
            page = page or self.lines[j].kind == "page"
            j += 1
        nxt = self.lines[j] if j < len(self.lines) else None
        continues = (
            page
            and self.buf
            and self.last_full
            and nxt is not None
            and nxt.kind == "text"
            and not self._opens_paragraph(nxt.text)
        )
        if not continues:
            self._flush()
        self.page_since = False
        return j

    def _opens_paragraph(self, text: str) -> bool:
        t = _QUOTE.sub("", text).lstrip()
        return bool(_NUMBERED_HEADING.match(t) or _LIST_MARKER.match(text))

    def _text(self, ln: _Line) -> None:
        raw = _QUOTE.sub("", ln.text)
        is_list = bool(_LIST_MARKER.match(raw))
        if is_list:
            raw = _LIST_MARKER.sub("", raw)
        text = clean_inline(strip_glued_page_numbers(raw))
        if not text:
            return
        opens = is_list or bool(_NUMBERED_HEADING.match(text))
        if opens or not self.buf:
            self._flush()
            self.buf, self.buf_line = text, ln.no
            self.buf_style = "list" if is_list else None
        else:
            self.buf = join_lines(self.buf, text)
        self.page_since = False
        width = display_width(text)
        closed = _CLOSED.search(text) is not None
        self.last_full = self.wrap is not None and width >= self.settings.wrap_full_ratio * self.wrap and not closed
        short_heading = opens and not is_list and len(text) <= self.settings.max_heading_chars and not closed
        if _STAT_LINE.search(text) and not _SENTENCE_MARK.search(self.buf) and "：" not in self.buf.replace("其中：", ""):
            # a statistics-table row the converter printed as a line ("1.政府公报公开政府信息数 条 0",
            # "（二）…的情况 ——"): it ends where its number (or dash) ends, however wide it is
            self.buf_style = self.buf_style if not opens else None
            self._flush()
        elif short_heading and not self.last_full:
            self.buf_style = "heading"
            self._flush()
        elif self.blank_separated:
            pass  # paragraphs end at blank lines and headings only
        elif self.wrap is not None and not self.last_full or self.wrap is None and closed:
            self._flush()

    def _flush(self) -> None:
        if self.buf:
            self.blocks.append(Paragraph(self.buf, Source(line=self.buf_line), self.buf_style))
        self.buf, self.buf_line, self.buf_style = "", None, None
        self.last_full = False

    # ---- tables

    def _starts_table(self, i: int) -> bool:
        """GFM tables may omit the outer pipes: a pipe-bearing line directly over a separator row."""
        ln = self.lines[i]
        return (
            _UNESCAPED_PIPE.search(ln.text) is not None
            and i + 1 < len(self.lines)
            and self.lines[i + 1].kind == "sep"
        )

    def _next_row_after(self, j: int, allow_blank: bool) -> int | None:
        """Index of the next table row from j, skipping page lines (and blanks if allowed)."""
        while j < len(self.lines):
            kind = self.lines[j].kind
            if kind in ("row", "sep"):
                return j
            if kind == "page" or (allow_blank and kind == "blank"):
                j += 1
                continue
            return None
        return None

    def _wedged_number(self, j: int) -> bool:
        """An undecorated number line with a table row right above and right below it."""
        if j == 0 or j + 1 >= len(self.lines) or is_page_number(self.lines[j].text, decorated_only=True):
            return False
        return self.lines[j - 1].kind in ("row", "sep") and self.lines[j + 1].kind == "row"

    def _table(self, i: int) -> int:
        """Collect one pipe table from line i, continuing across page breaks; returns the next line index."""
        rows: list[tuple[int, list[str]]] = []  # (line number, cells); a label row has one cell
        j = i
        n = len(self.lines)
        while j < n:
            ln = self.lines[j]
            if ln.kind == "sep":
                j += 1
            elif ln.kind == "row" or (ln.kind == "text" and _UNESCAPED_PIPE.search(ln.text) and rows == [] and j == i):
                cells = split_row(ln.text, self.settings)
                if not _is_page_row(cells):
                    rows.append((ln.no, cells))
                    self._count_cells(len(cells))
                j += 1
            elif ln.kind == "text" and _UNESCAPED_PIPE.search(ln.text) and rows:
                rows.append((ln.no, split_row(ln.text, self.settings)))
                self._count_cells(len(rows[-1][1]))
                j += 1
            elif ln.kind == "page" and rows and self._wedged_number(j):
                # a bare number squeezed between two rows is a value the converter pulled out of
                # its cell (the fitting stage gives it to a neighbouring row with an empty cell)
                rows.append((ln.no, [ln.text]))
                j += 1
            elif ln.kind in ("blank", "page"):
                k = self._next_row_after(j, allow_blank=True)
                if k is None:
                    break
                j = k
            elif ln.kind == "text" and rows:
                # pipe-less lines wedged between rows: labels the converter wrapped out of their cell
                k = j
                while k < n and k - j < self.settings.max_label_lines and self.lines[k].kind in ("text", "page"):
                    k += 1
                if self._next_row_after(k, allow_blank=False) is None:
                    break
                for m in range(j, k):
                    if self.lines[m].kind == "text":
                        label = clean_inline(strip_glued_page_numbers(self.lines[m].text), keep_breaks=True)
                        if label:
                            rows.append((self.lines[m].no, [label]))
                j = k
            else:
                break
        self._emit_table(rows)
        return max(j, i + 1)

    def _count_cells(self, n: int) -> None:
        """Refuse past the document's cell cap while reading, not after building every cell."""
        self.cells += n
        if self.cells > self.max_cells:
            raise ResourceLimitError(
                f"The document has more than {self.max_cells} table cells (limit max_document_cells={self.max_cells}).",
                limit="max_document_cells", cells=self.cells,
            )

    def _emit_table(self, rows: list[tuple[int, list[str]]]) -> None:
        out: list[tuple[Cell, ...]] = []
        index = self.tables
        for no, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            r = len(out)
            out.append(
                tuple(Cell(text, r, c, source=Source(table=index, row=r, col=c, line=no)) for c, text in enumerate(cells))
            )
        if not out:
            return
        self.blocks.append(Table(rows=tuple(out), index=index, source=Source(table=index, line=rows[0][0])))
        self.tables += 1

    def _html_table(self, i: int) -> int:
        """A ``<table>`` block: read to ``</table>`` and lay it out with the HTML reader's grid."""
        j = i
        chunk: list[str] = []
        while j < len(self.lines):
            chunk.append(self.lines[j].text)
            j += 1
            if _HTML_TABLE_CLOSE.search(chunk[-1]):
                break
        root = html_reader.parse_html("\n".join(chunk))
        table = next(root.iter("table"), None)
        if table is not None:
            t = html_reader.table_from_element(table, self.tables, line_offset=self.lines[i].no)
            if t is not None:
                self.blocks.append(t)
                self.tables += 1
        return j


def split_row(line: str, settings: MarkdownSettings = DEFAULT_SETTINGS) -> list[str]:
    """Cells of a pipe row: split on unescaped ``|``, outer pipes dropped, inline syntax cleaned."""
    s = line.strip()
    parts = _UNESCAPED_PIPE.split(s)
    if s.startswith("|"):
        parts = parts[1:]
    if len(parts) > 1 and _UNESCAPED_PIPE.search(s[-1:]) and not s.endswith("\\|"):
        parts = parts[:-1]
    if len(parts) > settings.max_table_cols:
        raise ResourceLimitError("A Markdown table row has more cells than the limit.", cols=len(parts))
    return [clean_inline(p, keep_breaks=True) for p in parts]


def _is_page_row(cells: list[str]) -> bool:
    """A table row that only carries a decorated page number (``| — 3 — | | |``); a bare number may be data."""
    filled = [c for c in cells if c.strip()]
    return len(filled) == 1 and is_page_number(filled[0], decorated_only=True)
