"""Split a report into its narrative sections (一、总体情况 … 六、其他需要报告的事项).

Why this shape: every format reaches this stage as the same `Document`, so the
splitter works on its lines only. A heading is a *paragraph* line that starts
with a top-level numeral (一、 … 十、) and a short title; table rows such as
"四、结转下年度继续办理" never are. Titles are mapped to canonical keys by fuzzy
match against the aliases in `data/sections.toml` (matching on Simplified,
NFKC, squashed text, so Traditional reports work; text is returned as printed).
Numerals must form a sequence: the chain of candidates that best fits 一, 二,
三 … wins, so a stray "四、" inside 一、 is body text. A section's body runs from
the line after its heading to the line before the next heading; tables inside
it are part of it; the attached statistics table after the last section
(附件 / …统计表) is not. Reports without numbered headings fall back to lines
that are just a known title.
"""
from __future__ import annotations

import heapq
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from rapidfuzz import fuzz

from .caching import text_cache
from .model import Document, Paragraph, Table
from .normalize import SQUASHED, chinese_numeral, nfkc, squash, to_simplified
from .result import Section
from .view import DocumentView, prepare

UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class SectionSettings:
    """Tuning knobs of the section splitter."""

    min_title_score: float = 80.0  # fuzzy score (0–100) for a numbered title to get its alias's key
    inline_title_score: float = 85.0  # a heading run into its body text needs a clearly known title
    bare_title_score: float = 90.0  # an unnumbered line is a heading only when it is (almost) a known title
    max_title_chars: int = 40  # a longer "一、…" line is running text, not a heading
    bare_title_max_chars: int = 30
    min_numbered_headings: int = 2  # fewer numbered headings than this → look for bare titles
    base_weight: float = 0.5  # chain score of one heading, plus its title score in [0, 1]
    gap_penalty: float = 1.0  # chain cost per numeral skipped (一 → 三)
    continuation_max_chars: int = 16  # a heading wrapped onto a second line: that line's maximum length
    attachment_table_rows: int = 10  # a table this long in the last section is the attached statistics table
    out_of_sequence_factor: float = 0.8  # confidence factor for a heading whose numeral skips one
    # cells of a legacy form's 单位 column; a table with this many is a form, its lone cells no headings
    form_unit_cells: frozenset[str] = frozenset({"单位", "计量单位", "条", "件", "次", "个", "人", "人次", "万元", "篇", "——", "—"})
    form_unit_min: int = 3


@dataclass(frozen=True, slots=True)
class TitleAlias:
    """One way a section title is written, already normalised for matching."""

    key: str
    alias: str
    printed: str


class _Lines(NamedTuple):
    """The document's lines in parallel lists (no record per line: a report has hundreds)."""

    texts: list[str]
    para: list[bool]  # read as running text: a paragraph's line, a row of a one-column (layout) table
    lone: list[bool]  # the only filled cell of a table row (text a converter boxed into a false table)


@dataclass(frozen=True, slots=True)
class _Candidate:
    line: int
    numeral: int | None
    number: str | None
    title: str  # as printed
    key: str
    score: float  # 0–1
    inline_body: str = ""
    extra_lines: int = 0  # wrapped title continued on this many following lines


_STRIP_DECOR = re.compile(r"^(?:\s|#|>|\*|\[bookmark:[^\]]*\])+|\*+\s*$")
_HEADING = re.compile(
    r"^(?:第)?(?P<num>[一二三四五六七八九十]{1,3})(?:部分|章)?\s*(?:[、.．，,:：]\s*|\s+)(?P<rest>\S.*)$"
)
_TITLE_PUNCT = re.compile(r"[\s、，,。．.:：;；“”\"'‘’《》〈〉()（）\[\]【】\-—－_/·]+")
_TRAIL_PUNCT = re.compile(r"[\s。．.:：;；，,]+$")
# what `_TRAIL_PUNCT` removes, as `str.rstrip` characters: its class is closed under the line break that
# `$` may stand before, so the substitution removes exactly the text's trailing run of them
_TRAIL_CHARS = "".join(c for c in SQUASHED if c.isspace()) + "。．.:：;；，,"
_INLINE_SPLIT = re.compile(r"[。：:；;]|\s{1,}")
_NOT_TITLE_TAIL = re.compile(r"(?:[—\-－–]{1,}|\s\d[\d.,，]*|\s(?:件|条|次|人|个|万元|元|人次))\s*$")
# the last character before trailing whitespace of any text `_NOT_TITLE_TAIL` finds something in (besides a digit)
_NOT_TITLE_LAST = frozenset("—-－–.,，件条次人个元")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")
_ATTACHMENT = re.compile(r"^\s*(?:附件|附表)(?:\s*\d+)?\s*(?:[:：]|$)|^.{0,40}(?:统计表|情况表|一览表)\s*$")
# Web-page chrome after the article (portal footers): never part of the last section.
_SITE_FOOTER = re.compile(r"^\s*[【\[]?\s*(?:主办单位|承办单位|主办|承办|版权所有|网站标识码|ICP备|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP|联系我们|网站地图|打印本页|关闭窗口|建议使用)")
_DATE_LINE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$")
_AGENCY_LINE = re.compile(r"(?:政府|办公室|办公厅|办事处|委员会|局|厅|委|院|中心|街道|镇|乡)\s*$")
_CLAUSE_STOP = re.compile(r"[。；;]")
_SENTENCE_END = re.compile(r"[。！？!?]$")  # one character, then `$`: searching a text's last two is searching it
_STOP_END = re.compile(r"[。！？!?；;]$")


@text_cache(maxsize=16384)
def match_key(title: str) -> str:
    """Normalised form of a title for matching: Simplified, NFKC, no whitespace or punctuation."""
    return _TITLE_PUNCT.sub("", squash(nfkc(to_simplified(title)))).replace("其它", "其他")


@lru_cache(maxsize=1)
def load_aliases() -> tuple[TitleAlias, ...]:
    """Section title aliases from data/sections.toml, most specific (longest) first."""
    raw = resources.files("extractors").joinpath("data/sections.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    out = [
        TitleAlias(key=s["key"], alias=match_key(a), printed=a)
        for s in data.get("section", [])
        for a in s.get("aliases", [])
    ]
    return tuple(sorted(out, key=lambda a: -len(a.alias)))


@text_cache(maxsize=8192)
def classify_title(title: str, truncated_ok: bool = True) -> tuple[str, float]:
    """Canonical key of a section title and the match score (0–100); `unclassified` when nothing fits.

    With `truncated_ok`, a title that is most of an alias (a heading cut by a line wrap) scores
    by partial match too.
    """
    t = match_key(title)
    if not t:
        return UNCLASSIFIED, 0.0
    best_key, best = UNCLASSIFIED, 0.0
    for a in load_aliases():
        s = fuzz.ratio(t, a.alias)
        if truncated_ok and 0.6 * len(a.alias) <= len(t) < len(a.alias):
            s = max(s, 0.95 * fuzz.partial_ratio(t, a.alias))
        if s > best:  # strict: ties keep the longer alias seen first
            best_key, best = a.key, s
    return best_key, best


def known_prefix(text: str, max_chars: int = 60) -> int | None:
    """End (in `text`) of the longest known section title that `text` starts with, or None.

    For a heading run into its body with no punctuation between them ("一、概况2017年，…").
    """
    return _known_prefix(text[:max_chars])


@text_cache(maxsize=16384)
def _known_prefix(window: str) -> int | None:
    """`known_prefix` of a text's first characters (all it reads), memoised: headings repeat across reports."""
    pos: list[int] = []
    chars: list[str] = []
    keys = _CHAR_KEYS
    for i, ch in enumerate(window):
        k = keys.get(ch)
        if k is None:
            k = match_key(ch)
            if len(keys) < _CHAR_KEYS_MAX:
                keys[ch] = k
        for c in k:
            chars.append(c)
            pos.append(i)
    norm = "".join(chars).replace("其它", "其他")  # same length: positions still map
    m = _alias_prefix().match(norm)
    return pos[m.end() - 1] + 1 if m else None


_CHAR_KEYS: dict[str, str] = {}  # match_key of one character, for `known_prefix`'s position map
_CHAR_KEYS_MAX = 65536


@lru_cache(maxsize=1)
def _alias_prefix() -> re.Pattern[str]:
    """Every alias as one alternation in `load_aliases` order (longest first): at the start of a text the
    first alternative that matches is the first alias the text starts with."""
    aliases = [re.escape(a.alias) for a in load_aliases() if a.alias]
    return re.compile("|".join(aliases) if aliases else "(?!)")


def _lines(doc: Document, st: SectionSettings, view: DocumentView) -> _Lines:
    """A paragraph's lines, then a table's filled rows, in document order: the view's text cut at its
    breaks (a paragraph's lines, then a table's rows joined as `table_cells` holds them) without
    the one empty line the view gives a table with no filled row."""
    segs = view.text.split("\n")
    texts: list[str] = []
    para: list[bool] = []
    lone: list[bool] = []
    tables = iter(view.table_cells)
    at = 0
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            n = b.text.count("\n") + 1
            if n == 1:
                texts.append(segs[at])
                para.append(True)
                lone.append(False)
            else:
                texts.extend(segs[at: at + n])
                para.extend([True] * n)
                lone.extend([False] * n)
            at += n
        elif isinstance(b, Table):
            rows = next(tables)  # per row, its non-blank cells' words joined by one space
            filled = [r for r in rows if r]
            if not filled:
                at += 1
                continue
            n = len(filled)
            texts.extend(segs[at: at + n])
            at += n
            width = _width(b)
            # a one-column table is page layout (a boxed preface, a report typeset in a frame): its rows read as text
            para.extend([width == 1] * n)
            # a legacy statistics form (a 单位 column: 条/件/——) has group rows named like sections
            # (三、依申请公开情况); a converter's false table (text and forms boxed together) has none
            if width > 1 and not _unit_cells_reach(rows, st):
                lone.extend([len(r) == 1 for r in filled])
            else:
                lone.extend([False] * n)
    return _Lines(texts, para, lone)


def _width(table: Table) -> int:
    """`table.n_cols` where it is 0 or 1, else 2: all `_lines` asks is whether the table has one
    column or more, and a wide table answers at its first cell reaching past column 0."""
    width = 0
    for r in table.rows:
        for c in r:
            w = c.col + c.colspan
            if w > 1:
                return 2
            if w > width:
                width = w
    return width


def _unit_cells_reach(rows: tuple[tuple[str, ...], ...], st: SectionSettings) -> bool:
    """Whether at least `form_unit_min` cells (words joined by spaces) are unit cells once unspaced."""
    need = st.form_unit_min
    if need <= 0:
        return True
    units = st.form_unit_cells
    for r in rows:
        for c in r:
            if (c.replace(" ", "") if " " in c else c) in units:
                need -= 1
                if not need:
                    return True
    return False


# `_STRIP_DECOR`'s first branch: the decoration a line starts with
_LEAD_DECOR = re.compile(r"(?:\s|#|>|\*|\[bookmark:[^\]]*\])+")


def _clean(text: str) -> str:
    """The line without its decoration, stripped.

    `_STRIP_DECOR`'s second branch needs a "*", its first only matches at the start: a text
    without "*" loses at most its leading decoration, found by a match at its start instead of a
    substitution that tries every character of a long paragraph.
    """
    if "*" in text:
        return _STRIP_DECOR.sub("", text).strip()
    m = _LEAD_DECOR.match(text)
    return (text[m.end():] if m else text).strip()


# what a line must start with for its `_clean` form to match `_HEADING`: decoration, then 第 or a numeral
_MAY_BE_HEADING = re.compile(r"^(?:\s|#|>|\*|\[bookmark:[^\]]*\])*第?[一二三四五六七八九十]")


def _numbered_candidate(lines: _Lines, i: int, st: SectionSettings) -> _Candidate | None:
    """A numbered heading at line i, or None."""
    texts = lines.texts
    if not _MAY_BE_HEADING.match(texts[i]):
        return None
    text = _clean(texts[i])
    m = _HEADING.match(text)
    if not m:
        return None
    numeral = chinese_numeral(m.group("num"))
    if numeral is None:
        return None
    rest = m.group("rest").strip()
    # a tail `_NOT_TITLE_TAIL` finds ends the stripped text: only a text ending in one of its characters
    # is searched (the search tries every character of a long line)
    if (rest[-1:] in _NOT_TITLE_LAST or rest[-1:].isdecimal()) and _NOT_TITLE_TAIL.search(rest):
        return None
    inline = ""
    title = rest.rstrip(_TRAIL_CHARS)  # `_TRAIL_PUNCT.sub("", rest)`
    if len(title) > st.max_title_chars or _CLAUSE_STOP.search(title):
        known = known_prefix(rest)
        if known is not None:  # a known title run into its body text
            title, inline = rest[:known].strip(), rest[known:].lstrip(" 　：:。.，,")
        else:
            cut = _INLINE_SPLIT.search(rest)
            if not cut or cut.start() == 0 or cut.start() > st.max_title_chars:
                return None
            title, inline = rest[: cut.start()].strip(), rest[cut.end():].strip()
    if not inline:
        known = known_prefix(rest)
        tail = rest[known:].lstrip(" 　：:，,") if known is not None else ""
        # "五、…诉讼情况未发生。": a known title, then a body sentence with no punctuation between
        if tail and (_SENTENCE_END.search(tail[-2:]) or len(tail) > st.continuation_max_chars) and classify_title(title)[1] < 100:
            title, inline = rest[:known].strip(), tail
    if len(match_key(title)) < 2:
        return None
    key, score = classify_title(title)
    extra = 0
    if not inline and i + 1 < len(texts) and lines.para[i + 1]:
        nxt = _clean(texts[i + 1])
        joined = known_prefix(title + nxt) if score < 100 and not _HEADING.match(nxt) else None
        if joined is not None and joined > len(title):
            # a title wrapped onto the next line, which then goes on with the body text
            head = (title + nxt)[:joined]
            k2, s2 = classify_title(head)
            if s2 > score:
                return _Candidate(i, numeral, m.group("num"), head, k2, s2 / 100.0,
                                  (title + nxt)[joined:].lstrip(" 　：:。.，,"), 1)
        if 0 < len(nxt) <= st.continuation_max_chars and not _HEADING.match(nxt) and not nxt.endswith("。"):
            k2, s2 = classify_title(title + nxt)
            if s2 >= score + 3 and s2 >= st.min_title_score:
                title, key, score, extra = title + nxt, k2, s2, 1
    if inline and score < st.inline_title_score:
        return None
    if score < st.min_title_score:
        key = UNCLASSIFIED
    return _Candidate(i, numeral, m.group("num"), title, key, score / 100.0, inline, extra)


def _best_chain(cands: list[_Candidate], st: SectionSettings) -> list[_Candidate]:
    """The subsequence whose numerals best follow 一, 二, 三 …, weighted by title scores.

    Dynamic programming over candidates; the predecessor search keeps the best earlier candidate
    per numeral (numerals are 0–99), so the work is linear in the candidates, not quadratic.
    """
    if not cands:
        return []
    n = len(cands)
    best = [0.0] * n
    prev: list[int | None] = [None] * n
    top: dict[int, int] = {}  # numeral -> index of its best candidate that may precede the current one
    pending: list[tuple[int, int]] = []  # (last line, index): a candidate precedes lines after its last
    for i, c in enumerate(cands):
        while pending and pending[0][0] < c.line:
            _, j = heapq.heappop(pending)
            k = top.get(cands[j].numeral)
            if k is None or best[j] > best[k] or best[j] == best[k] and j < k:
                top[cands[j].numeral] = j
        own = st.base_weight + c.score
        best[i] = own - st.gap_penalty * (c.numeral - 1)
        for j in sorted(j for num, j in top.items() if num < c.numeral):  # earliest wins ties
            v = best[j] + own - st.gap_penalty * (c.numeral - cands[j].numeral - 1)
            if v > best[i]:
                best[i], prev[i] = v, j
        heapq.heappush(pending, (c.line + c.extra_lines, i))
    end = max(range(n), key=lambda k: best[k])
    chain: list[_Candidate] = []
    k: int | None = end
    while k is not None:
        chain.append(cands[k])
        k = prev[k]
    return chain[::-1]


def _bare_candidates(lines: _Lines, st: SectionSettings) -> list[_Candidate]:
    out = []
    for i, (t, para) in enumerate(zip(lines.texts, lines.para)):
        if not para:
            continue
        raw = _clean(t)
        text = raw.rstrip(_TRAIL_CHARS)  # `_TRAIL_PUNCT.sub("", raw)`
        # the pattern ends in one character then `$` (the end or before a final break): the last two decide
        if not text or len(text) > st.bare_title_max_chars or _STOP_END.search(raw[-2:]):
            continue
        key, score = classify_title(text, truncated_ok=False)
        if score >= st.bare_title_score:
            out.append(_Candidate(i, None, None, text, key, score / 100.0))
    return out


def _body(lines: _Lines, start: int, end: int, last: bool, st: SectionSettings) -> list[str]:
    """Body lines between two headings, without page-number lines; the last section stops before attachments."""
    texts = lines.texts
    if not last:
        return [s for t in texts[start:end] if (s := t.strip()) and not _PAGE_NUMBER.match(t)]
    body: list[str] = []
    run_rows = 0
    para = lines.para
    for i in range(start, end):
        t = texts[i]
        if para[i]:
            run_rows = 0
            cleaned = _clean(t)
            if _ATTACHMENT.match(cleaned) or _SITE_FOOTER.match(to_simplified(cleaned)):
                break
        else:
            run_rows += 1
            if run_rows >= st.attachment_table_rows:
                # a long table after the last section's text is the attached statistics table
                body = body[: len(body) - run_rows + 1]
                break
        if not t.strip() or _PAGE_NUMBER.match(t):
            continue
        body.append(t.strip())
    while body and _DATE_LINE.match(body[-1]):
        body.pop()
        if body and len(body[-1]) <= 25 and "。" not in body[-1] and _AGENCY_LINE.search(to_simplified(body[-1])):
            body.pop()
    return body


def split(doc: Document, settings: SectionSettings | None = None, view: DocumentView | None = None) -> list[Section]:
    """The report's top-level narrative sections, in document order."""
    return [Section.model_validate(s) for s in split_data(doc, settings, view)]


def split_data(doc: Document, settings: SectionSettings | None = None,
               view: DocumentView | None = None) -> list[dict[str, object]]:
    """`split` as the response's plain JSON data (`Section`'s fields, in its order)."""
    st = settings or SectionSettings()
    lines = _lines(doc, st, view or prepare(doc))
    cands = [
        c for i, (para, lone) in enumerate(zip(lines.para, lines.lone))
        if (para or lone) and (c := _numbered_candidate(lines, i, st))
        # a lone cell of a table row is a heading only when its title is a known one (a converter
        # boxed running text into a table); a form's group row (四、结转下年度继续办理) never is
        and (para or c.key != UNCLASSIFIED and not c.inline_body)
    ]
    chain = _best_chain(cands, st)
    numbered = True
    if sum(1 for c in chain if c.key != UNCLASSIFIED) < st.min_numbered_headings:
        bare = _bare_candidates(lines, st)
        if len(bare) > len(chain):
            chain, numbered = bare, False
    if not chain:
        return []
    out: list[dict[str, object]] = []
    for k, c in enumerate(chain):
        last = k == len(chain) - 1
        end = chain[k + 1].line if not last else len(lines.texts)
        body = _body(lines, c.line + 1 + c.extra_lines, end, last, st)
        if c.inline_body:
            body.insert(0, c.inline_body)
        conf = c.score
        if not numbered:
            conf *= 0.85
        elif k > 0 and c.numeral != chain[k - 1].numeral + 1 or k == 0 and c.numeral != 1:
            conf *= st.out_of_sequence_factor
        if c.inline_body:
            conf *= 0.9
        out.append({
            "key": c.key,
            "heading": c.title,
            "text": "\n".join(body),
            "confidence": float(round(max(0.0, min(1.0, conf)), 3)),
            "number": c.number,
        })
    return out
