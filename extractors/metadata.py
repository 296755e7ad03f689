"""Document metadata: agency, report year, statistics period, contact details, website.

Why this shape: reports state these facts in a few stock phrasings (the title
line "XX2017年政府信息公开工作年度报告", "统计期限自…起至…止", "（地址：…，邮编：…，
电话：…）"), so each field is a short table of patterns tried in order, each
with the confidence it deserves. Matching runs on a Simplified, whitespace-free
view of the text (PDF text layers put spaces between CJK characters and wrap
lines anywhere); values are cut from the text as printed. A field the report
does not state stays null.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .model import Document
from .normalize import SQUASHED, fold_chars, squash, to_simplified
from .result import DocumentInfo, Section
from .template import TemplateGuess
from .view import DocumentView, prepare


@dataclass(frozen=True, slots=True)
class MetadataSettings:
    """Tuning knobs of the metadata stage."""

    top_lines: int = 60  # the title block is among the first lines before 一、 (web pages put menus first)
    title_max_chars: int = 60
    agency_max_chars: int = 40
    contact_window: int = 160  # characters around 地址 in which postcode/phone/email belong to the same sentence
    website_window: int = 40  # a URL counts as the portal only this close after 网站/门户/网址
    period_keyword_window: int = 16


_YEAR = r"(?:19|20)\d{2}"
_TITLE = re.compile(rf"^(?P<agency>.*?)(?P<year>{_YEAR})\s*年度?.{{0,30}}?(?:报告|年报)$")
_AFTER_YEAR = re.compile(
    rf"^{_YEAR}年度?(?P<agency>.{{2,40}}?(?:政府|办公室|办公厅|办事处|委员会|局|厅|委|院|中心|街道|镇|乡)?)"
    r"(?:政府信息公开|政务信息公开|政务公开|信息公开)"
)
_TITLE_SPLIT = re.compile(r"\s*[_|｜]\s*|\s+-\s+")
_AGENCY_EDGES = re.compile(r"^[\s“”\"《》#*]+|[\s“”\"《》:：，,。]+$")  # quotes, marks and stops around a name
_AGENCY_TAIL = re.compile(r"(?:关于|關於|的)$")
_NOT_IN_NAME = re.compile(r"\d|[。：:>]")
_PLACE_WORD = re.compile(r"[省市区县镇乡]|街道")
_SHORT_NUMBER = re.compile(r"(?<!\d)\d{1,4}(?!\d)")
_AGENCY_SUFFIX = re.compile(
    r"(?:政府|办公室|办公厅|办事处|委员会|管委会|局|厅|委|院|中心|街道|镇|乡|公司|所|站|馆|署|部|会|队|处|司|室|办)$"
)
_AGENCY_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"本(?:年度)?(?:报告|年报)由(?P<v>[^，,。；（(]{2,40}?)(?:根据|依据|按照|依照|编制|负责|制作)"), 0.7),
    (re.compile(r"(?:结合|按照)(?P<v>[^，,。；]{2,40}?)" + _YEAR + r"年度?政府信息公开工作"), 0.55),
)
_PERIOD = (
    r"(?:统计期限|统计时限|统计期间|统计时间|统计区间|期限|期间|时间|时段)"
    r"[^。；]{{0,{window}}}?"
    r"(?P<y1>\d{{4}})年(?P<m1>\d{{1,2}})月(?P<d1>\d{{1,2}})日?(?:起)?"
    r"(?:至|到|—|–|－|-|~|～)"
    r"(?:(?P<y2>\d{{4}})年)?(?P<m2>\d{{1,2}})月(?P<d2>\d{{1,2}})日"
)
_PERIOD_BARE = re.compile(
    r"自(?P<y1>\d{4})年(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日起?至(?:(?P<y2>\d{4})年)?(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日止"
)
_CONTACT_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    # an address stops where the postcode or a phone begins when no comma separates them
    "address": (re.compile(
        r"(?:通讯地址|联系地址|办公地址|地址|地点)[：:]"
        r"(?P<v>(?:(?!邮政编码|邮编|联系电话|咨询电话|办公电话|电话|传真|电子邮箱|电子信箱|邮箱)[^，,；;。）)]){3,80})"
    ),),
    "postcode": (re.compile(r"(?:邮政编码|邮编)[：:]?(?P<v>\d{6})(?!\d)"),),
    "phone": (
        re.compile(
            r"(?:联系电话|咨询电话|监督电话|办公电话|电话号码|电话|联系方式)(?:[(（][^)）]{1,6}[)）])?[：:]?"
            r"(?P<v>(?:[（(]\d{3,4}[）)]|\d{3,4}[-－—])?\d{7,8}(?:[-－转]\d{1,5})?)(?!\d)"
        ),
    ),
    "email": (
        re.compile(
            r"(?:电子邮箱|电子信箱|电子邮件|邮箱|E-?mail|email)[：:]?"
            r"(?P<v>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})",
            re.IGNORECASE,
        ),
    ),
}
# a character every match of a contact field's patterns holds: a text without it states no such field,
# and is not scanned for one (the e-mail pattern is the slowest of them, ~0.1 ms a report)
_CONTACT_NEEDS: dict[str, str] = {"email": "@"}
_WEBSITE = (
    r"(?:网站|门户|网址|网页|电子版)[^。；@]{{0,{window}}}?"
    r"(?<![@A-Za-z0-9.\-])(?P<v>(?:https?://)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}}(?:/[A-Za-z0-9_\-./?=&%#]*)?)"
)


@lru_cache(maxsize=8)
def _windowed(pattern: str, window: int) -> re.Pattern[str]:
    """A pattern whose keyword-to-value distance is a setting."""
    return re.compile(pattern.format(window=window))
_HEADING_ONE = re.compile(r"^\s*(?:第)?一(?:部分)?\s*[、.．]")


@dataclass(frozen=True, slots=True)
class _View:
    """The narrative as one whitespace-free string, its Simplified twin, and the source lines."""

    printed: str
    simple: str  # same length as `printed` (or equal to it when conversion changes lengths)


_CN_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}(?=年)")
_CN_DIGIT = str.maketrans("〇零一二三四五六七八九", "00123456789")
_SENTENCE_ENDS = ("。", "！", "？", "!", "?", "；", ";")  # what ends a sentence at a line's end


def _cn_year(m: re.Match[str]) -> str:
    return m.group(0).translate(_CN_DIGIT)


# each 年 that four Chinese digits precede (the look-behind sees them and the 年): a pattern that opens with
# a literal lets the engine jump from 年 to 年, where `_CN_YEAR` tries its class at every character (~20×)
_CN_YEAR_END = re.compile(r"年(?<=[〇零一二三四五六七八九]{4}年)")


def _cn_years(text: str) -> str:
    """`_CN_YEAR.sub(_cn_year, text)`, found from each 年 back: a match is the four characters before
    a 年, and two never overlap (a window holding an earlier 年 is not four digits)."""
    parts: list[str] = []
    pos = 0
    for m in _CN_YEAR_END.finditer(text):
        j = m.start()
        parts.append(text[pos: j - 4])
        parts.append(text[j - 4: j].translate(_CN_DIGIT))
        pos = j
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def matchable(text: str) -> str:
    """The text as the patterns see it, character for character (so spans map back to the printed text).

    Simplified (when the conversion keeps the length), full-width forms folded to ASCII, and years
    written in Chinese numerals (二〇一九年) as digits.
    """
    simple = to_simplified(text)
    if len(simple) != len(text):  # span mapping needs equal lengths; Simplified input is unaffected
        simple = text
    simple = fold_chars(simple)
    return _cn_years(simple) if "年" in simple else simple


def _matchable_lines(lines: list[str]) -> list[str]:
    """`[matchable(ln) for ln in lines]` with one conversion of their joined text.

    Exact for lines without a line break (the view's text lines): no conversion reaches across
    one, so the joined text's conversion cut at the breaks is each line's, and the length test
    stays per line.
    """
    if any("\n" in ln for ln in lines):  # pragma: no cover - the view's text lines never hold one
        return [matchable(ln) for ln in lines]
    simple = to_simplified("\n".join(lines)).split("\n")
    if len(simple) != len(lines):  # pragma: no cover - a conversion that moved a line break
        return [matchable(ln) for ln in lines]
    joined = fold_chars("\n".join(s if len(s) == len(ln) else ln for s, ln in zip(simple, lines)))
    if "年" in joined:
        joined = _cn_years(joined)
    return joined.split("\n")


# per sentence end: that character ending a line, then its break (what `squash` removes may stand
# between them; a line holds no break), and what `_view` puts instead of them
_SENTENCE_BREAKS = tuple(
    (c, re.compile(re.escape(c) + "[" + "".join(re.escape(x) for x in SQUASHED if x != "\n") + "]*\n"), c + "\x00")
    for c in _SENTENCE_ENDS
)
_MARK = "\x00"  # not whitespace: `str.split` keeps it where `_view` puts a sentence's break


def _view(lines: list[str]) -> _View:
    """Join wrapped lines (no sentence end) without a break; squash whitespace everywhere.

    Each line squashed, then a break after each that ends a sentence (`_view_by_line`). Done on
    the lines joined by breaks at once: each break after a sentence end is marked (a mark the
    text does not hold), the whole squashed (`squash` removes character by character, so that is
    squashing each line, and every other break goes), and the marks turned into breaks. One
    substitution per end character with a literal replacement: ~3× faster than one pattern
    whose replacement keeps the character it matched.
    """
    joined = "\n".join(lines) + "\n"
    if joined.count("\n") != len(lines) + (not lines) or _MARK in joined:  # a line with its own break
        return _view_by_line(lines)
    for c, pat, mark in _SENTENCE_BREAKS:
        if c in joined:
            joined = pat.sub(mark, joined)
    printed = "".join(joined.split())
    if "\u200b" in printed:
        printed = printed.replace("\u200b", "")
    if "\ufeff" in printed:
        printed = printed.replace("\ufeff", "")
    printed = printed.replace(_MARK, "\n")
    return _View(printed, matchable(printed))


def _view_by_line(lines: list[str]) -> _View:
    """`_view` line by line (its definition)."""
    parts: list[str] = []
    start = 0
    for i, ln in enumerate(lines):
        if ln.rstrip(SQUASHED).endswith(_SENTENCE_ENDS):
            parts.append(squash("".join(lines[start: i + 1])))
            parts.append("\n")
            start = i + 1
    if start < len(lines):
        parts.append(squash("".join(lines[start:])))
    printed = "".join(parts)
    return _View(printed, matchable(printed))


def _field(value: str | int | None, conf: float) -> dict[str, object]:
    return {"value": value, "confidence": float(round(conf if value is not None else 0.0, 3))}


# a crawler's or portal's field prefix left in front of the title line (标题：, 【标题】, Title:)
_FIELD_PREFIX = re.compile(r"^(?:[【\[]\s*(?:标题|题目|文章标题|名称|title)\s*[】\]]|(?:标题|题目|文章标题|名称|title)\s*[:：])\s*", re.IGNORECASE)


def _clean_agency(text: str) -> str:
    """Agency name without decoration, trailing 关于/的 ("XX办公室关于2019年…报告") or punctuation."""
    text = _FIELD_PREFIX.sub("", text.strip())
    text = _AGENCY_EDGES.sub("", text)
    return _AGENCY_TAIL.sub("", text)


def _is_title(text: str, st: MetadataSettings) -> bool:
    s = matchable(squash(text)).strip("#* ")
    return len(s) <= st.title_max_chars and "根据" not in s and not s.endswith("。") and bool(_TITLE.match(s))


# the report's title at the start of its opening sentence, the body run on after it with no break
_TITLE_PREFIX = re.compile(
    rf"^(?P<agency>[^。，,；;：:]{{2,40}}?)(?P<year>{_YEAR})\s*年度?(?:政府|政务)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)"
)
_OPENING_LINES = 3  # the opening sentence is among the first lines


def _title_block(lines: list[str], st: MetadataSettings) -> tuple[int | None, str | None]:
    """Index and text of the title line among the first lines, before 一、 (a title wrapped onto two lines is joined).

    Without a title line, the title that opens the first sentence ("XX2017年度信息公开工作年度报告本年报根据…").
    """
    top = lines[: st.top_lines]
    for i, ln in enumerate(top):
        if _HEADING_ONE.match(ln):
            break
        if _is_title(ln, st):
            return i, ln.strip("#* ")
        if i + 1 < len(top) and len(top[i + 1]) <= 12 and _is_title(ln + top[i + 1], st):
            return i, (ln.strip("#* ") + top[i + 1].strip("#* "))
    for i, ln in enumerate(top[:_OPENING_LINES]):
        printed = _FIELD_PREFIX.sub("", squash(ln).strip("#* "))
        m = _TITLE_PREFIX.match(matchable(printed))
        if m:
            return i, printed[: m.end()]
    return None, None


def _agency(lines: list[str], title_idx: int | None, title: str | None, doc_title: str | None, view: _View,
            st: MetadataSettings) -> tuple[str | None, float]:
    """Agency from the title line, the line above it, the page title, then stock sentences."""
    if title_idx is not None and title:
        printed = squash(title).strip("#* ")
        simple = matchable(printed)
        m = _TITLE.match(simple)
        if m and len(_clean_agency(m.group("agency"))) >= 2:
            a = _clean_agency(printed[: m.end("agency")])
            return a, 0.92 if _AGENCY_SUFFIX.search(to_simplified(a)) else 0.75
        for j in range(title_idx - 1, -1, -1):
            cand = _clean_agency(squash(lines[j]))
            simple = to_simplified(cand)
            if 2 <= len(cand) <= st.agency_max_chars and not _NOT_IN_NAME.search(cand):
                if _AGENCY_SUFFIX.search(simple):
                    return cand, 0.9
                break
        after = _AFTER_YEAR.match(matchable(squash(title).strip("#* ")))
        if after and _PLACE_WORD.search(after.group("agency")):  # "2019年度XX区人民政府信息公开…"
            printed = squash(title).strip("#* ")
            return _clean_agency(printed[after.start("agency"): after.end("agency")]), 0.6
    if doc_title:
        head = _TITLE_SPLIT.split(doc_title.strip())[0]
        m = _TITLE.match(matchable(squash(head)))
        if m and len(_clean_agency(m.group("agency"))) >= 2:
            return _clean_agency(squash(head)[: m.end("agency")]), 0.8
    for pat, conf in _AGENCY_PATTERNS:
        m = pat.search(view.simple)
        if m:
            return _clean_agency(view.printed[m.start("v"): m.end("v")]), conf
    return None, 0.0


def _period(view: _View, st: MetadataSettings) -> tuple[str | None, str | None, float]:
    keyed = _windowed(_PERIOD, st.period_keyword_window)
    for pat, factor in ((keyed, 1.0), (_PERIOD_BARE, 0.8)):
        found = _first_period(pat, view.simple)
        if found:
            return found[0], found[1], found[2] * factor
    return None, None, 0.0


_PERIOD_KEY = re.compile(r"统计期限|统计时限|统计期间|统计时间|统计区间")
_SCATTER_CONFIDENCE = 0.6
_SCATTER_LINES, _SCATTER_CHARS = 10, 240  # the numbers follow within a few table rows


def _scattered_period(lines: list[str], st: MetadataSettings) -> tuple[str | None, str | None, float]:
    """A period whose digits a converter put apart from 年/月/日 (PDF → Markdown tables): after the
    keyword, the 年 月 日 … 至 … markers, and the next six numbers read as two dates in order.

    Less sure than a printed date (the numbers were re-associated with their markers), so lower confidence.
    """
    simple_lines = _matchable_lines(lines)
    joined = "\n".join(simple_lines)  # the keyword holds no line break: one search finds its first line
    first = _PERIOD_KEY.search(joined)
    if first is None:
        start = len(lines)  # no line holds it
    elif joined.count("\n") == len(lines) - 1:
        start = joined.count("\n", 0, first.start())
    else:  # pragma: no cover - a line with its own break: look line by line
        start = 0
    for i in range(start, len(lines)):
        ln = lines[i]
        k = _PERIOD_KEY.search(simple_lines[i])
        if not k:
            continue
        text = " ".join([ln[k.end():], *lines[i + 1: i + 1 + _SCATTER_LINES]])[: _SCATTER_CHARS]
        simple = matchable(text)
        if "至" not in simple and "到" not in simple or not all(x in simple for x in "年月日"):
            return None, None, 0.0
        nums = [int(x) for x in _SHORT_NUMBER.findall(simple)]
        for j in range(len(nums) - 5):
            y1, m1, d1, y2, m2, d2 = nums[j: j + 6]
            if not (1990 <= y1 <= 2100 and y1 <= y2 <= y1 + 1):
                continue
            try:
                start, end = date(y1, m1, d1), date(y2, m2, d2)
            except ValueError:
                continue
            if start < end:
                return start.isoformat(), end.isoformat(), _SCATTER_CONFIDENCE
        return None, None, 0.0
    return None, None, 0.0


def _first_period(pat: re.Pattern[str], text: str) -> tuple[str, str, float] | None:
    for m in pat.finditer(text):
        try:
            y1 = int(m.group("y1"))
            y2 = int(m.group("y2") or y1)
            start = date(y1, int(m.group("m1")), int(m.group("d1")))
            end = date(y2, int(m.group("m2")), int(m.group("d2")))
        except ValueError:
            continue
        if start <= end:
            return start.isoformat(), end.isoformat(), 0.95 if m.group("y2") else 0.85
    return None


def _contact(view: _View, st: MetadataSettings) -> dict[str, tuple[str | None, float]]:
    """Contact fields, preferring those in the same sentence as the address."""
    out: dict[str, tuple[str | None, float]] = {k: (None, 0.0) for k in _CONTACT_PATTERNS}
    addr = _CONTACT_PATTERNS["address"][0].search(view.simple)
    lo, hi = (max(0, addr.start() - st.contact_window), addr.end() + st.contact_window) if addr else (0, 0)
    for key, pats in _CONTACT_PATTERNS.items():
        need = _CONTACT_NEEDS.get(key)
        if need is not None and need not in view.simple:
            continue
        for pat in pats:
            near = [m for m in pat.finditer(view.simple, lo, hi)] if addr else []
            if near:
                m = min(near, key=lambda x: abs(x.start() - addr.start()))
                out[key] = (view.printed[m.start("v"): m.end("v")], 0.93)
                break
            m = pat.search(view.simple)
            if m:
                out[key] = (view.printed[m.start("v"): m.end("v")], 0.7)
                break
    return out


def _website(view: _View, st: MetadataSettings) -> tuple[str | None, float]:
    m = _windowed(_WEBSITE, st.website_window).search(view.simple)
    if not m:
        return None, 0.0
    return view.printed[m.start("v"): m.end("v")].rstrip("./"), 0.85


def _report_year(title: str | None, period_start: str | None, doc_title: str | None,
                 view: _View) -> tuple[int | None, float]:
    for text, conf in ((title, 0.95), (doc_title, 0.85)):
        if text:
            m = _TITLE.match(matchable(squash(text)).strip("#* ").split("_")[0])
            if m:
                return int(m.group("year")), conf
    if period_start:
        return int(period_start[:4]), 0.8
    m = re.search(rf"({_YEAR})年", view.simple[:400])
    return (int(m.group(1)), 0.5) if m else (None, 0.0)


def extract(doc: Document, tpl: TemplateGuess, secs: list[Section], settings: MetadataSettings | None = None,
            view: DocumentView | None = None) -> DocumentInfo:
    """Metadata of one report: what it says about itself, each value with a confidence."""
    return DocumentInfo.model_validate(extract_data(doc, tpl, secs, settings, view))


def extract_data(doc: Document, tpl: TemplateGuess, secs: Sequence[object], settings: MetadataSettings | None = None,
                 view: DocumentView | None = None) -> dict[str, object]:
    """`extract` as the response's plain JSON data (`DocumentInfo`'s fields, in its order).

    `secs` (the sections, as models or data) is part of the stage's signature; no field reads it yet.
    """
    st = settings or MetadataSettings()
    lines = list((view or prepare(doc)).text_lines)
    view = _view(lines)
    title_idx, title = _title_block(lines, st)
    agency, agency_conf = _agency(lines, title_idx, title, doc.title, view, st)
    p_start, p_end, p_conf = _period(view, st)
    if p_start is None:
        p_start, p_end, p_conf = _scattered_period(lines, st)
    year, year_conf = _report_year(title, p_start, doc.title, view)
    contact = _contact(view, st)
    website, web_conf = _website(view, st)
    return {
        "template": {
            "value": tpl.name if tpl.name in ("legacy", "revised_2019") else "unknown",
            "confidence": float(tpl.confidence),
            "variant": tpl.variant,
        },
        "agency": _field(agency, agency_conf),
        "report_year": _field(year, year_conf),
        "period_start": _field(p_start, p_conf),
        "period_end": _field(p_end, p_conf),
        "contact": {k: _field(v, c) for k, (v, c) in contact.items()},
        "website": _field(website, web_conf),
        "format": doc.format,
        "pages": doc.pages,
        "title": title or (doc.title.strip() if doc.title else None),
    }
