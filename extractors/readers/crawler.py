"""Crawler text: a report as a naive web crawler saves it, turned back into paragraphs and tables.

Why a reader of its own: a crawler writes a header block of its own (标题：/【标题】, 来源,
发布时间, 原文链接, 正文 lines, separator lines) and then the article text, often on one
line, with the table cells and rows run together (`本年新收政府信息公开申请数量300153006141183119`).
The later stages read `Document`s, so this module restores what the page had:

- the header block is recognised by its field names (data/crawler.toml) and dropped; its title
  becomes `Document.title`, and a body that opens with that title gets it as a paragraph of its own;
- numbered headings inside a line (一、概况2017年…) are cut out where the numeral continues the
  sequence and a known section title (data/sections.toml) follows it;
- the rest of a line is split into sentences; a stretch of sentences whose numbers are glued to
  labels (not followed by a unit or a date word) is a table region;
- a table region becomes a `Table`: a row ends at each number; labels split at the form's
  numbering (一、 （一） 1.); header words (data/labels.toml column labels, data/crawler.toml) make
  header rows; a legacy row's unit word becomes the unit cell. A digit run that runs into the
  next row's numbering (`件121.当面申请数`) is split by the numbering sequence: the next number is
  the previous one plus one (or 1 in a new list). A multi-column run of digits is kept as ONE
  value cell, as printed: which columns it holds is for the form-fitting stage to decide.

Detection is by content, never by file name (`detect`).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import ResourceLimitError
from ..model import Block, Cell, Document, Paragraph, Source, Table
from ..normalize import chinese_numeral, nfkc, to_simplified


@dataclass(frozen=True, slots=True)
class CrawlerSettings:
    """Tuning knobs of the crawler-text reader."""

    header_scan_lines: int = 15  # the crawler's header block is among the first lines
    max_field_value: int = 300  # a header field's value is short
    header_scan_chars: int = 1024  # header fields are looked for in a line's first characters only (linear time)
    max_bare_title: int = 80  # a bare first line (title) before the header fields
    run_line_chars: int = 300  # a body line this long with glued numbers is run-together text
    # rows one run-together region may split into: refused while splitting (the document's line cap,
    # ReadOptions.max_document_lines, would refuse them anyway, after every row and cell was built)
    max_rows: int = 5_000  # = the tables stage's max_rows (readers do not import stages), corpus: ~200
    min_glued_numbers: int = 4  # ... holding at least this many numbers glued to labels
    min_table_numbers: int = 2  # a sentence with this many table-like numbers is part of a table
    max_title_scan: int = 60  # characters after a numeral searched for a known section title
    # Cell.quality of value cells (the reader's certainty in the cell's extent; the digits are exact):
    end_of_text_quality: float = 0.6  # a value that ends run-together text has nothing after it to delimit it
    unsure_split_quality: float = 0.5  # a digit run whose numbering tail is not the next in the list
    unsplittable_run_quality: float = 0.5  # one cell for several value columns that no arithmetic cuts


SETTINGS = CrawlerSettings()


# ---------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class CrawlerData:
    fields: frozenset[str]
    title_fields: frozenset[str]
    body_fields: frozenset[str]
    units: tuple[str, ...]  # longest first
    header_words: tuple[str, ...]  # longest first
    section_titles: tuple[str, ...]  # normalised section-title aliases, longest first


def _key(text: str) -> str:
    return _SPACE.sub("", nfkc(text)).lower()


@lru_cache(maxsize=1)
def data() -> CrawlerData:
    """The crawler vocabulary, plus the column labels of labels.toml and the section titles of sections.toml."""
    pkg = resources.files("extractors")
    raw = tomllib.loads(pkg.joinpath("data/crawler.toml").read_text(encoding="utf-8"))
    labels = tomllib.loads(pkg.joinpath("data/labels.toml").read_text(encoding="utf-8"))
    sections = tomllib.loads(pkg.joinpath("data/sections.toml").read_text(encoding="utf-8"))
    h, t = raw["header"], raw["table"]
    fields = frozenset(_key(f) for f in h["fields"])
    title_fields = frozenset(_key(f) for f in h["title_fields"])
    body_fields = frozenset(_key(f) for f in h["body_fields"])
    if not title_fields <= fields or not body_fields <= fields:
        raise ValueError("crawler.toml: title_fields and body_fields must be listed in fields")
    words = set(t["header_words"])
    for group in ("active_column", "requests_column"):
        for item in labels.get(group, []):
            words.update(x for x in item["labels"] if len(x) >= 2)
    titles = {_title_key(a) for s in sections.get("section", []) for a in s["aliases"]}
    if not t["units"] or not words or not titles:
        raise ValueError("crawler.toml: units, header words and section titles must not be empty")
    return CrawlerData(
        fields=fields,
        title_fields=title_fields,
        body_fields=body_fields,
        units=tuple(sorted(t["units"], key=len, reverse=True)),
        header_words=tuple(sorted(words, key=len, reverse=True)),
        section_titles=tuple(sorted((x for x in titles if x), key=len, reverse=True)),
    )


_TITLE_PUNCT = re.compile(r"[\s、，,。．.:：;；“”\"'‘’《》〈〉()（）\[\]【】\-—－_/·]")


def _title_key(text: str) -> str:
    return _TITLE_PUNCT.sub("", nfkc(to_simplified(text))).replace("其它", "其他")


# ---------------------------------------------------------------- header block

_SEPARATOR = re.compile(r"^\s*[-=_*~#—－─━·.]{3,}\s*$")
_BRACKET_FIELD = re.compile(r"^\s*[【\[]\s*(?P<name>[^】\]\n]{1,12}?)\s*[】\]]\s*[:：]?\s*(?P<value>.*)$")
_COLON_FIELD = re.compile(r"(?P<name>[A-Za-z_\u4e00-\u9fff]{1,16})\s*[:：]\s*")
_LINE_FIELD = re.compile(r"\s*[A-Za-z_\u4e00-\u9fff]{1,16}\s*[:：]")
_SPACE = re.compile(r"\s+")  # every kind of whitespace, removed where a text is compared
_NON_DIGIT = re.compile(r"\D")
_CJK_START = re.compile(r"[\u4e00-\u9fff（(—]")


@dataclass(frozen=True, slots=True)
class Header:
    """What the crawler's header block said about the page, and where the report text starts."""

    title: str | None
    body_line: int  # index of the first line of the report text
    body_head: str | None  # text after a 正文：marker on its own line
    fields: int  # header fields recognised


def _fields_of_line(line: str, d: CrawlerData, st: CrawlerSettings) -> list[tuple[str, str]] | None:
    """The (field, value) pairs of a header line, or None when the line is not one."""
    m = _BRACKET_FIELD.match(line)
    if m:
        name = _key(m.group("name"))
        if name in d.fields or len(name) <= 6:
            return [(name, m.group("value").strip())]
        return None
    if not _LINE_FIELD.match(line):  # a header line starts with its field: nothing else is scanned
        return None
    starts: list[tuple[int, int, str]] = []  # (field start, value start, field name)
    for x in _COLON_FIELD.finditer(line, 0, st.header_scan_chars):
        name = x.group("name")
        # the longest tail of the word that is a field name ("…人民政府发布日期：" → 发布日期)
        for k in range(len(name)):
            if _key(name[k:]) in d.fields:
                starts.append((x.start("name") + k, x.end(), _key(name[k:])))
                break
    if not starts or line[: starts[0][0]].strip():
        return None
    out = []
    for i, (_, vstart, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(line)
        out.append((name, line[vstart:end].strip()))
    if any(len(v) > st.max_field_value for n, v in out if n not in d.body_fields):
        return None
    return out


def parse_header(lines: list[str], st: CrawlerSettings = SETTINGS) -> Header | None:
    """The crawler's header block at the top of `lines`, or None when there is none.

    A bare first line before the fields (a crawler that prints the title without a name) is the
    title too. The block ends at a 正文 field or at the first line that is no field, separator or
    blank line.
    """
    d = data()
    title: str | None = None
    bare: str | None = None
    n = 0
    i = 0
    limit = min(len(lines), st.header_scan_lines)
    while i < limit:
        line = lines[i].strip()
        if not line or _SEPARATOR.match(line):
            i += 1
            continue
        pairs = _fields_of_line(line, d, st)
        if pairs is None:
            if n == 0 and bare is None and len(line) <= st.max_bare_title and i == 0:
                bare = line
                i += 1
                continue
            break
        n += len(pairs)
        for name, value in pairs:
            if name in d.title_fields and value and title is None:
                title = value
            if name in d.body_fields:
                head = value or None
                return Header(title or bare, i + 1, head, n)
        i += 1
    if n == 0:
        return None
    return Header(title or bare, i, None, n)


# ---------------------------------------------------------------- numbers glued to labels

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_NOT_TABLE_AFTER = "年月日号%‰％时分秒元条件次个人篇期份项家场岁倍亿万千百天周名户批起类〕]】》.．/:：-"
_GLUED = re.compile(rf"(?<![\d.,A-Za-z])({_NUM})(?=[\u4e00-\u9fff（(—]|$)")


def _table_numbers(text: str) -> tuple[int, int]:
    """(numbers glued to a following label or ending the text, numbers followed by a unit/date word)."""
    glued = other = 0
    text = nfkc(text)
    for m in re.finditer(rf"(?<![\d.,A-Za-z@]){_NUM}", text):
        nxt = text[m.end(): m.end() + 1]
        if nxt == "" or (nxt not in _NOT_TABLE_AFTER and _CJK_START.match(nxt)):
            glued += 1
        else:
            other += 1
    dashes = text.count("——")
    return glued + dashes, other


def detect(text: str, st: CrawlerSettings = SETTINGS) -> bool:
    """True when `text` is crawler text: a crawler header block, or long lines of run-together table text."""
    lines = text.split("\n")
    if any(ln.startswith("\t") for ln in lines[:2000]):
        return False  # Word's TAB-cell export
    if parse_header(lines, st) is not None:
        return True
    for ln in lines:
        if len(ln) >= st.run_line_chars and len(_GLUED.findall(ln)) >= st.min_glued_numbers:
            return True
    return False


# ---------------------------------------------------------------- headings inside a line

_CN_NUM = "一二三四五六七八九十"
_HEADING_AT = re.compile(rf"(?<![{_CN_NUM}第])(?P<num>[{_CN_NUM}]{{1,3}})\s*[、.．]\s*")


def _title_end(text: str, start: int, st: CrawlerSettings) -> int | None:
    """End (in `text`) of the known section title that starts at `start`, or None."""
    window = text[start: start + st.max_title_scan]
    keep: list[int] = []  # positions in `window` of the characters that count for matching
    norm = []
    for i, ch in enumerate(window):
        k = _title_key(ch)
        for c in k:
            norm.append(c)
            keep.append(i)
    s = "".join(norm).replace("其它", "其他")  # same length: positions still map
    for t in data().section_titles:
        if s.startswith(t):
            end = start + keep[len(t) - 1] + 1
            # a table row such as 一、主动公开情况——… is not a heading
            if text[end: end + 1] in ("—", "-", "－"):
                return None
            return end
    return None


@dataclass
class _Sequence:
    """The numbered-heading sequence seen so far (一、 二、 …)."""

    last: int = 0


def _split_headings(line: str, seq: _Sequence, st: CrawlerSettings) -> list[tuple[str, bool]]:
    """Pieces of a line: (text, is_heading). A heading continues the sequence and names a known section."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _HEADING_AT.finditer(line):
        if m.start() < pos:
            continue
        n = chinese_numeral(m.group("num"))
        if n is None or n not in (seq.last + 1, seq.last + 2):
            continue
        end = _title_end(line, m.end(), st)
        if end is None:
            continue
        if line[pos: m.start()].strip():
            out.append((line[pos: m.start()].strip(), False))
        out.append((line[m.start(): end].strip(), True))
        seq.last = n
        pos = end
    if line[pos:].strip():
        out.append((line[pos:].strip(), False))
    return out


# ---------------------------------------------------------------- table regions

_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]|[^。！？!?]+$")


def _regions(text: str, st: CrawlerSettings) -> list[tuple[str, bool]]:
    """Pieces of a heading-free text: (text, is_table). Sentences with glued numbers form tables."""
    out: list[tuple[str, bool]] = []
    for m in _SENTENCE.finditer(text):
        s = m.group(0)
        if not s.strip():
            continue
        glued, other = _table_numbers(s)
        is_table = glued >= st.min_table_numbers and glued > other or glued >= 1 and _has_header(s) >= 2
        if out and out[-1][1] == is_table:
            out[-1] = (out[-1][0] + s, is_table)
        else:
            out.append((s, is_table))
    return [(t.strip(), k) for t, k in out if t.strip()]


@lru_cache(maxsize=1)
def _header_re() -> re.Pattern[str]:
    words = "|".join(r"\s*".join(re.escape(c) for c in w) for w in data().header_words)
    return re.compile(rf"[（(]\s*(?:计量)?单位\s*[:：][^）)]{{1,8}}[）)]|{words}")


def _has_header(text: str) -> int:
    return len(_header_re().findall(text))


_CN_MARK = re.compile(rf"(?<![{_CN_NUM}第])[{_CN_NUM}]{{1,3}}、|(?<!第)[（(][{_CN_NUM}]{{1,3}}[）)]")
_TOKEN = re.compile(rf"(?P<num>{_NUM})|(?P<dash>——|—)|(?P<open>[（(]+)|(?P<close>[）)]+)")
_MARK_AFTER = re.compile(r"[.．、](?!\d)")


@dataclass(frozen=True, slots=True)
class _Row:
    label: str  # "" for a row of values only
    value: str | None  # None for a row without a value (a header, a group row)
    quality: float | None = None


@lru_cache(maxsize=1)
def _unit_end() -> re.Pattern[str]:
    us = data().units
    alts = []
    for u in us:  # a unit that begins a longer one (人 of 人次) must not be cut out of it
        longer = "".join(sorted({v[len(u)] for v in us if len(v) > len(u) and v.startswith(u)}))
        alts.append(re.escape(u) + (f"(?![{re.escape(longer)}])" if longer else ""))
    return re.compile(rf"(?<=[数量])(?:{'|'.join(alts)})(?=[\u4e00-\u9fff（(])")


def _split_numbering(run: str, last: int) -> tuple[str, int, bool]:
    """A digit run that runs into the next row's numbering: (value part, numbering, sure).

    The next number of a list is the previous one plus one, or 1 when a new list starts.
    """
    for n in (last + 1, 1):
        s = str(n)
        if run.endswith(s):
            return run[: -len(s)], n, True
    return run[:-1], int(run[-1]), False


def _label_pieces(text: str, units: bool = False) -> list[str]:
    """A label text cut at the form's Chinese numbering (一、 （一）): group rows and the row's own label.

    In a legacy table (a 单位 column), a row whose value cell was blank leaves `…数条` before the next
    label: the unit word after a count label ends that row too.
    """
    cuts = [m.start() for m in _CN_MARK.finditer(text) if m.start() > 0]
    if units:
        cuts = sorted({*cuts, *(m.end() for m in _unit_end().finditer(text) if m.end() < len(text))})
    bounds = [0, *cuts, len(text)]
    return [text[a:b].strip() for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def _rows(text: str, st: CrawlerSettings, at_end: bool = False) -> list[_Row]:
    """A run-together table region as rows: a number ends a row; numbering starts one.

    Tokens are found on the NFKC form (full-width digits and commas: ３７，８８８) where folding keeps
    the length; cells keep the text as printed. Under a 序号 header every row starts with its serial
    number, which runs into the previous row's value (`条378882` = 37888, then serial 2).
    """
    rows: list[_Row] = []
    # the label being gathered, as pieces: `label += piece` on a closure variable copied the whole label
    # each time (300,000 brackets: seconds); joined only where it is looked at
    label: list[str] = []
    depth = 0
    last_sub = 0  # last Arabic numbering in the current list (1. 2. 3.)
    pos = 0
    folded = nfkc(text)
    scan = folded if len(folded) == len(text) else text
    head = _SPACE.sub("", scan[:200])
    content_end = len(scan.rstrip())  # past it only whitespace is left
    serial: int | None = 1 if "序号" in head else None
    units = "单位" in head

    def flush_label(value: str | None, quality: float | None = None) -> None:
        pieces = _label_pieces("".join(label), units)
        if value is None:
            rows.extend(_Row(p, None) for p in pieces)
        else:
            rows.extend(_Row(p, None) for p in pieces[:-1])
            rows.append(_Row(pieces[-1] if pieces else "", value, quality))
        label.clear()
        if len(rows) > st.max_rows:
            raise ResourceLimitError(
                f"Run-together crawler text splits into more than {st.max_rows} table rows (limit max_rows={st.max_rows}).",
                limit="max_rows", rows=len(rows),
            )

    def take_serial(value: str) -> str:
        """The value without the next row's serial number glued to its end ("" when it was only that)."""
        nonlocal serial
        if serial is None:
            return value
        s = str(serial)
        digits = _NON_DIGIT.sub("", nfkc(value))
        if digits == s and not "".join(label).strip():  # the serial after a row that ended in a value or a dash
            serial += 1
            return ""
        if nfkc(value).endswith(s) and len(value) > len(s) and nfkc(value)[: -len(s)][-1:].isdigit():
            serial += 1
            return value[: -len(s)]
        return value

    for m in _TOKEN.finditer(scan):
        chunk = text[pos: m.start()]
        if _CN_MARK.search(nfkc(chunk)):
            last_sub = 0
        label.append(chunk)
        pos = m.end()
        kind = m.lastgroup
        tok = text[m.start(): m.end()]
        if kind == "open":  # a run of brackets is one token: 300,000 nested ones are one step, not 300,000
            depth += len(tok)
            label.append(tok)
            continue
        if kind == "close":
            depth = max(0, depth - len(tok))
            label.append(tok)
            continue
        if depth > 0:  # numbers inside a parenthesised note belong to the label (计1条)
            label.append(tok)
            continue
        if kind == "dash":
            flush_label(tok)
            continue
        # looked at in place: slicing the rest of the text per number was quadratic (1 MB, 50,000 numbers)
        mark = _MARK_AFTER.match(scan, m.end())
        if mark and scan[m.end() + 1: m.end() + 2] and "." not in m.group(0):
            value, n, sure = _split_numbering(m.group(0), last_sub)
            value = take_serial(tok[: len(value)]) if value else ""
            if value:
                flush_label(value, 1.0 if sure else st.unsure_split_quality)
            elif "".join(label).strip():
                flush_label(None)
            last_sub = n
            label[:] = [text[m.end() - len(str(n)): m.end() + 1]]
            pos = m.end() + 1
            continue
        value = take_serial(tok)
        if not value:
            continue
        # a value that ends run-together text has nothing after it to show where it ends (page
        # numbers or a signature may be glued to it); every other boundary is a label or numbering
        end_of_text = at_end and m.end() >= content_end
        flush_label(value, st.end_of_text_quality if end_of_text else 1.0)
    label.append(text[pos:])
    if "".join(label).strip():
        flush_label(None)
    return rows


def _header_cells(text: str) -> list[str]:
    """A header text cut into cells at known header words; text between them is a cell of its own."""
    cells: list[str] = []
    pos = 0
    for m in _header_re().finditer(text):
        if text[pos: m.start()].strip():
            cells.append(text[pos: m.start()].strip())
        cells.append(m.group(0).strip())
        pos = m.end()
    if text[pos:].strip():
        cells.append(text[pos:].strip())
    return cells


def _unit_split(label: str) -> tuple[str, str | None]:
    for u in data().units:
        if label.endswith(u) and len(label) > len(u) + 1:
            return label[: -len(u)], u
    return label, None


_NUMBERED = re.compile(rf"^(?:[{_CN_NUM}]{{1,3}}、|[（(][{_CN_NUM}]{{1,3}}[）)]|\d+[.．、]|其中)")


# header cells that name no value column (the label column, units, serial numbers, column groups)
_NOT_VALUE_HEADERS = frozenset({"信息内容", "统计指标", "指标名称", "统计项目", "单位", "计量单位", "序号", "申请人情况",
                                "法人或其他组织", "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉", "备注"})
_DIGIT_RUN = re.compile(r"^\d+$")


def _table_blocks(text: str, index: int, line: int, st: CrawlerSettings, at_end: bool = False) -> list[Block]:
    """A table region as (caption paragraphs +) one `Table`."""
    rows = _rows(text, st, at_end)
    caption: list[str] = []
    grid: list[list[tuple[str, float | None]]] = []
    unit_column = False
    value_columns = 0  # value columns the last header row named
    for r in rows:
        label = r.label
        cells: list[tuple[str, float | None]] = []
        if label and not _NUMBERED.match(label) and _has_header(label) >= (1 if r.value is None else 2):
            parts = _header_cells(label)
            m = _header_re().search(label)
            lead = label[: m.start()].strip() if m else ""
            if lead:  # text before the first header word: the table's caption / title
                parts = parts[1:]
                if not grid:
                    caption.append(lead)
                else:
                    grid.append([(lead, None)])
            tail: list[str] = []
            if r.value is not None:
                # the last text after the header words is the row's own label (…现行有效件数|规章)
                last = list(_header_re().finditer(label))[-1]
                rest = label[last.end():].strip()
                if rest:
                    tail = [rest]
                    parts = parts[:-1]
            if any(p in ("单位", "计量单位") or _SPACE.sub("", p) in ("单位", "计量单位") for p in parts):
                unit_column = True
            if len(parts) >= 2:
                value_columns = sum(1 for p in parts if _SPACE.sub("", nfkc(p)) not in _NOT_VALUE_HEADERS
                                    and not p.startswith(("（", "(")))
            if parts:
                grid.append([(p, None) for p in parts])
            label = tail[0] if tail else ""
            if r.value is None:
                continue
        if r.value is None:
            unit = None
            if unit_column:  # a group row, or a row whose value was blank: its unit is a cell of its own too
                base, u = _unit_split(label)
                if u and (_NUMBERED.match(label) or base.endswith(("数", "量"))):
                    label, unit = base, u
            grid.append([(label, None), *([(unit, None)] if unit else [])])
            continue
        if label:
            unit = None
            if unit_column:
                label, unit = _unit_split(label)
            cells.append((label, None))
            if unit:
                cells.append((unit, None))
        q = r.quality
        if value_columns >= 2 and (unit_column or not _DIGIT_RUN.match(nfkc(r.value))):
            # one cell under a header of several value columns, which no arithmetic can cut: a legacy
            # 本年度|累计 pair, or a run holding a decimal point or a comma (采购项目数量|采购总金额)
            q = min(q or 1.0, st.unsplittable_run_quality)
        cells.append((r.value, q))
        grid.append(cells)
    blocks: list[Block] = [Paragraph(text=c, source=Source(line=line)) for c in caption]
    if grid:
        table_rows = tuple(
            tuple(
                Cell(text=t, row=ri, col=ci, source=Source(table=index, row=ri, col=ci, line=line), quality=q)
                for ci, (t, q) in enumerate(cells)
            )
            for ri, cells in enumerate(grid)
        )
        blocks.append(Table(rows=table_rows, index=index, source=Source(table=index, line=line)))
    return blocks


# ---------------------------------------------------------------- the reader


def read_text(text: str, st: CrawlerSettings = SETTINGS) -> Document:
    """Crawler text (already decoded) → Document: header dropped, headings, paragraphs and tables restored."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = parse_header(lines, st)
    title = header.title if header else None
    body: list[tuple[int, str]] = []
    start = header.body_line if header else 0
    if header and header.body_head:
        body.append((start - 1, header.body_head))
    body.extend((i, lines[i]) for i in range(start, len(lines)) if lines[i].strip())
    blocks: list[Block] = []
    seq = _Sequence()
    n_tables = 0
    for k, (ln, raw) in enumerate(body):
        line = raw.strip()
        if _SEPARATOR.match(line):
            continue
        if k == 0 and title:
            t = _SPACE.sub("", title)
            if _SPACE.sub("", line).startswith(t) and len(line) > len(title):
                cut = _prefix_end(line, t)
                blocks.append(Paragraph(text=line[:cut].strip(), source=Source(line=ln), style="title"))
                line = line[cut:].strip()
        run_together = k == len(body) - 1 and len(line) >= st.run_line_chars
        pieces = _split_headings(line, seq, st)
        for pi, (piece, is_heading) in enumerate(pieces):
            if is_heading:
                blocks.append(Paragraph(text=piece, source=Source(line=ln), style="heading"))
                continue
            parts = _regions(piece, st)
            for qi, (part, is_table) in enumerate(parts):
                if is_table:
                    at_end = run_together and pi == len(pieces) - 1 and qi == len(parts) - 1
                    new = _table_blocks(part, n_tables, ln, st, at_end)
                    n_tables += sum(1 for b in new if isinstance(b, Table))
                    blocks.extend(new)
                else:
                    blocks.append(Paragraph(text=part, source=Source(line=ln)))
    warnings = ("crawler_text: a crawler's header block was removed",) if header else ()
    return Document(blocks=tuple(blocks), format="txt", title=title, warnings=warnings)


def _prefix_end(line: str, squashed: str) -> int:
    """Index in `line` just after the characters that spell `squashed` (spaces skipped)."""
    seen = 0
    for i, ch in enumerate(line):
        if ch.isspace():
            continue
        seen += 1
        if seen == len(squashed):
            return i + 1
    return len(line)
