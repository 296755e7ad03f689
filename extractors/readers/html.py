"""HTML reader: a report as published on a government portal article page.

The page is mostly chrome (navigation, breadcrumbs, the 索引号/发布机构
metadata table, share bars, footer); the report is one container inside it.
We find that container the way readability tools do, adapted to Chinese text:
every paragraph-like unit scores its parent and grandparent by its length and
punctuation, class/id names such as ``TRS_Editor``, ``zoom`` or
``article-content`` push a container up, names such as ``nav`` or ``footer``
push it down, and link-heavy text is discounted. The report's own statistics
tables count as units of their container, and a numeric table left outside the
winner (a CMS that renders the attachment table in a sibling block) is kept
too. Everything outside the kept regions is ignored. One walk of the parsed tree (`_Page`)
collects everything that choice needs (text and link lengths, votes, table verdicts,
document order) along with the depth and size limits, so only the kept regions are walked
again, to emit them.

Inside the regions, block elements and ``<br>`` end a Paragraph; data tables
become `Table` blocks on the HTML table grid (colspan/rowspan resolved, empty
cells kept because column positions carry meaning, ``<br>``/blocks inside a
cell kept as "\\n"). Tables used for page layout (nested tables, a single row
or column) are read as flowing content instead.

Safety: lxml's HTML parser with ``no_network`` and no DTD loading (so only the
HTML built-in entities exist); libxml2 itself stops at nesting depth 256, which
we report as `ResourceLimitError`, as we do for oversized text and tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import CorruptFileError, ResourceLimitError, UnreadableDocumentError
from ..model import (
    Block,
    Cell,
    Document,
    Paragraph,
    Source,
    Table,
    make_cell,
    make_paragraph,
    make_source,
)
from ..normalize import safe_int
from .encoding import decode_text
from .options import ReadOptions

# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class HtmlSettings:
    """Tuning knobs and safety limits of the HTML reader."""

    sniff_bytes: int = 4096  # where to look for <meta charset>
    max_depth: int = 250  # element nesting; libxml2 refuses beyond 256 anyway
    max_elements: int = 300_000  # elements in the parsed tree
    max_table_cols: int = 1_000  # grid columns of one table
    max_table_positions: int = 2_000_000  # sum of colspans of all cells of one table
    max_colspan: int = 1_000  # HTML spec clamp
    max_replacement_ratio: float = 0.1  # share of U+FFFD/control characters after decoding => corrupt
    junk_probe_chars: int = 65_536  # how much decoded text that share is measured on
    min_unit_chars: int = 10  # shorter paragraphs do not vote for a container
    class_weight: float = 25.0  # bonus/malus of a positive/negative class or id
    sibling_ratio: float = 0.2  # a sibling scoring this share of the winner joins it
    descend_ratio: float = 0.9  # an inner container scoring this share of the winner replaces it
    max_link_density: float = 0.5  # chrome blocks inside the body are mostly links
    prune_max_chars: int = 200  # chrome inside the body is short
    stat_table_min_numbers: int = 6  # numeric cells that make a table "statistics"
    metadata_min_keys: int = 2  # 索引号/发布机构… cells that make a table page metadata
    metadata_rows: int = 6  # rows searched for those cells


DEFAULT_SETTINGS = HtmlSettings()

# --------------------------------------------------------------------------- vocabulary (data)

_DROP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "head", "title",
        "meta", "link", "button", "select", "option", "input", "textarea", "svg", "canvas", "map",
        "audio", "video", "source", "img",
    }
)
_CHROME_TAGS = frozenset({"nav", "aside", "footer"})
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
        "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "td", "th",
        "caption", "ul",
    }
)
# units that vote for their container; div-like tags vote only when they hold no blocks
_UNIT_TAGS = frozenset({"p", "pre", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "dd"})
_LEAF_UNIT_TAGS = frozenset({"div", "section", "article", "td", "th", "span", "font", "center"})
_SELF_SCORING_TAGS = frozenset({"div", "section", "article", "td", "center"})
_TAG_BONUS = {"div": 5.0, "article": 10.0, "section": 3.0, "main": 5.0, "td": 3.0, "body": -5.0, "form": -3.0}
_HEADING_STYLE = {"h1": "title", "h2": "heading", "h3": "heading", "h4": "heading", "h5": "heading", "h6": "heading"}

_POSITIVE_HINT = re.compile(
    r"trs_editor|trs_ueditor|custom_unionstyle|zoom|article|content|detail|main|text|正文|"
    r"wzcon|zwnr|zhengwen|news_?con|con_?txt|bt_?box|pages_?content",
    re.IGNORECASE,
)
_NEGATIVE_HINT = re.compile(
    r"nav|menu|foot|header|banner|crumb|position|location|share|comment|side|related|relate|"
    r"recommend|meta|info|tool|print|copyright|search|logo|qrcode|ewm|login|hidden|pager|"
    r"xxgk_?table|\bad\b|advert|links?\b|fenxiang|dqwz",
    re.IGNORECASE,
)
_METADATA_KEYS = frozenset(
    {
        "索引号", "发布机构", "发文机关", "发文日期", "成文日期", "发布日期", "主题分类", "文号",
        "发文字号", "公开方式", "有效性", "名称", "信息来源", "主题词", "公开日期", "生成日期",
        "组配分类", "体裁分类", "信息名称",
    }
)

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t\r\n\f\v]*\n[ \t\r\n\f\v]*(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\r\n\f\v\xa0]+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_PUNCT_CHARS = "，,。；;、：:"
_PUNCT = re.compile(f"[{_PUNCT_CHARS}]")
_PUNCT_SCAN_CHARS = 256  # longer texts count punctuation by str.count (a C scan per mark), shorter by _PUNCT
_NUMBER = re.compile(r"^[-+−]?\s*[\d０-９][\d０-９,，.．\s]*%?$")
_HEADING_TEXT = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|第[一二三四五六七八九十]+[章节部分])")
_CHARSET_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_LEADING_INT = re.compile(r"\s*(\d{1,6})")
_GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "hz-gb-2312"})


# --------------------------------------------------------------------------- entry point


def read(data: bytes, options: ReadOptions, settings: HtmlSettings = DEFAULT_SETTINGS) -> Document:
    """Read an HTML page into blocks of the report body; the page <title> becomes the title."""
    text = _decode(data, options, settings)
    root = _parse(text)
    body = root.find("body")
    if body is None:
        body = root
    page = _Page.survey(root, body, settings)  # also the depth and size limits of parse_html()
    title = _page_title(root)
    regions = _select_regions(body, page, settings)
    blocks = _emit(regions, page, body, settings)
    if not any((b.text.strip() if isinstance(b, Paragraph) else b.rows) for b in blocks):
        raise UnreadableDocumentError("The HTML page holds no readable text.")
    return Document(blocks=tuple(blocks), format="html", title=title)


# --------------------------------------------------------------------------- bytes -> tree


def declared_charset(data: bytes, settings: HtmlSettings = DEFAULT_SETTINGS) -> str | None:
    """The charset a page declares in <meta charset> or http-equiv Content-Type."""
    m = _CHARSET_META.search(data[: settings.sniff_bytes])
    return m.group(1).decode("ascii", "ignore").lower() if m else None


def _decode(data: bytes, options: ReadOptions, settings: HtmlSettings) -> str:
    """BOM, then the declared charset, then UTF-8/GB18030 by trial.

    A page declaring GB2312 that is valid UTF-8 is UTF-8: misconfigured CMS
    templates do this, and non-ASCII GBK text is practically never valid UTF-8.
    """
    if len(data) > options.max_text_chars * 4:
        raise ResourceLimitError("The HTML page is larger than the text limit.", limit=options.max_text_chars)
    declared = declared_charset(data, settings)
    if declared in _GB_FAMILY:
        try:
            data.decode("utf-8")
            declared = "utf-8"
        except UnicodeDecodeError:
            pass
    text = decode_text(data, declared)
    if text is None or not text.strip():
        raise UnreadableDocumentError("The HTML page decodes to no text.")
    if len(text) > options.max_text_chars:
        raise ResourceLimitError("The HTML page has more characters than the limit.", limit=options.max_text_chars)
    junk = len(_JUNK.findall(text[: settings.junk_probe_chars]))
    if junk > settings.max_replacement_ratio * min(len(text), settings.junk_probe_chars):
        raise CorruptFileError("The HTML page is not text in any supported encoding.")
    return text.replace("\x00", "")


def parse_html(text: str, settings: HtmlSettings = DEFAULT_SETTINGS) -> etree._Element:
    """Parse with a fresh, network-less parser; refuse trees past the depth/size limits."""
    root = _parse(text)
    depth = max_depth = count = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            count += 1
            max_depth = max(max_depth, depth)
        else:
            depth -= 1
    _check_size(max_depth, count, settings)
    return root


def _check_size(max_depth: int, count: int, settings: HtmlSettings) -> None:
    if max_depth > settings.max_depth:
        raise ResourceLimitError("The HTML page is nested too deeply.", depth=max_depth)
    if count > settings.max_elements:
        raise ResourceLimitError("The HTML page has too many elements.", elements=count)


def _parse(text: str) -> etree._Element:
    """The parse of parse_html() without its walk of the tree (read() measures depth and size in its own)."""
    # etree.HTMLParser is lxml.html.HTMLParser without the HtmlElement class lookup
    # (same libxml2 parser and options, a third faster for our walk); no DTD is
    # loaded, so only the HTML built-in entities exist.
    parser = etree.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, encoding="utf-8", huge_tree=False
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise UnreadableDocumentError("The HTML page cannot be parsed.") from e
    if root is None:
        raise UnreadableDocumentError("The HTML page holds no markup.")
    for err in parser.error_log:
        if err.type_name == "ERR_RESOURCE_LIMIT" or "huge" in err.message.lower():
            raise ResourceLimitError("The HTML page is nested too deeply or holds a huge text node.")
    return root


def _page_title(root: etree._Element) -> str | None:
    el = root.find("head/title")
    if el is None:
        el = root.find(".//title")
    if el is None:
        return None
    t = clean_inline(_text(el))
    return t or None


# --------------------------------------------------------------------------- text helpers


def clean_inline(s: str) -> str:
    """Collapse HTML whitespace; a source line break between CJK characters is no space."""
    if (s.isprintable() or ("\u3000" in s and s.replace("\u3000", "").isprintable())) and "  " not in s:
        # nothing to remove or collapse: invisible characters (Cf), tabs and line breaks (Cc) and
        # no-break spaces (Zs) are all unprintable, single spaces and U+3000 stay; most cells are like this
        return s.strip()
    if s.isspace():
        return ""  # what is left after collapsing is whitespace, which strip() removes
    s = _INVISIBLE.sub("", s)
    if "\n" in s:
        s = _CJK_BREAK.sub("", s)
    return _SPACES.sub(" ", s).strip()


def _tag(el: etree._Element) -> str:
    """The tag name ("" for comments/entities); libxml2's HTML parser already lowercases."""
    t = el.tag
    return t if isinstance(t, str) else ""


def _text(el: etree._Element) -> str:
    """All text under `el` ("".join(el.itertext()), serialised in C at half the cost)."""
    if not len(el):
        return el.text or ""  # what the serialiser gives for a childless element, without its setup
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def _punct_count(text: str) -> int:
    """len(_PUNCT.findall(text)): one C scan per mark beats the regex on long texts (a table's)."""
    if len(text) < _PUNCT_SCAN_CHARS:
        return len(_PUNCT.findall(text))
    return sum(map(text.count, _PUNCT_CHARS))


def _hint(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


def _class_weight(el: etree._Element, settings: HtmlSettings) -> float:
    h = _hint(el)
    if not h.strip():
        return 0.0
    w = 0.0
    if _POSITIVE_HINT.search(h):
        w += settings.class_weight
    if _NEGATIVE_HINT.search(h):
        w -= settings.class_weight
    return w


def _has_block_child(el: etree._Element) -> bool:
    return any(_tag(c) in _BLOCK_TAGS for c in el)


# tags _is_chrome() never asks the text statistics of; the survey keeps none for them unless voted for
# (and counts a childless one's text without a call: none of them may be dropped, an <a> or an <h1>)
_NEVER_CHROME_TAGS = frozenset({"p", "td", "th", "li", "span", "font", "strong", "b"})
assert not _NEVER_CHROME_TAGS & (_DROP_TAGS | {"a", "h1"})


@dataclass(slots=True)
class _Page:
    """What one walk of the parsed page learns, so no later step walks the tree again.

    Per element of the body that a later step asks about (voted-for containers, tables, elements
    that could be chrome): its text length and link-text length (script/style text is not text,
    surrounding whitespace does not count), and for voted-for containers, tables and <h1>s the
    document-order numbers of the subtree (`span`: first, last), which answer "is it inside" and
    "which comes first" without another walk. Also the readability votes (each unit scores its
    parent fully and its grandparent by half), the layout verdict of every table met, the <h1>s
    of the body in document order, and the page's element count and nesting depth (the limits
    of parse_html()). One pass keeps body detection linear in the page size however deep the
    markup is.
    """

    chars: dict[etree._Element, int] = field(default_factory=dict)
    links: dict[etree._Element, int] = field(default_factory=dict)
    span: dict[etree._Element, tuple[int, int]] = field(default_factory=dict)
    scores: dict[etree._Element, float] = field(default_factory=dict)
    layout: dict[etree._Element, bool] = field(default_factory=dict)
    grids: dict[etree._Element, list[list[etree._Element]]] = field(default_factory=dict)
    h1: list[etree._Element] = field(default_factory=list)

    @classmethod
    def survey(cls, root: etree._Element, body: etree._Element, settings: HtmlSettings) -> _Page:
        """Walk the page once; refuse it past the depth/size limits (as parse_html() does)."""
        pg = cls()
        chars, links, span, scores, h1 = pg.chars, pg.links, pg.span, pg.scores, pg.h1
        min_chars = settings.min_unit_chars
        drop, units, leaf_units, blocks = _DROP_TAGS, _UNIT_TAGS, _LEAF_UNIT_TAGS, _BLOCK_TAGS
        self_scoring, unasked = _SELF_SCORING_TAGS, _NEVER_CHROME_TAGS
        row_tags = ("tr", "tbody", "thead", "tfoot")
        layout = pg.layout_of
        n = 0  # elements met: the document-order number of the current one
        deepest = 0
        linked = 0  # link text met so far: an element's link text is how much its subtree adds

        def outside(el: etree._Element, depth: int) -> None:
            """Outside the body only the size limits count."""
            nonlocal n, deepest
            n += 1
            first = n
            if depth > deepest:
                deepest = depth
            for c in el:
                if c is body:
                    inside(c, depth + 1, False)
                else:
                    outside(c, depth + 1)
            span[el] = (first, n)

        def plain(el: etree._Element, depth: int) -> int:
            """Text length of `el`, which casts no vote (inside a unit or a dropped subtree)."""
            nonlocal n, deepest, linked
            n += 1
            first = n
            if depth > deepest:
                deepest = depth
            tag = el.tag
            if tag == "h1":
                h1.append(el)  # in document order
            before = linked
            text = el.text
            size = len(text.strip()) if text else 0
            below = depth + 1
            for c in el:
                if c.tag in unasked and not len(c):
                    # a childless <td>, <span>, <p>…: what plain(c) would do, without its frame (no
                    # statistics are kept for these tags, and none of them is an <a>, <h1> or dropped)
                    n += 1
                    if below > deepest:
                        deepest = below
                    inner = c.text
                    if inner:
                        size += len(inner.strip())
                else:
                    size += plain(c, below)
                tail = c.tail
                if tail:
                    size += len(tail.strip())
            if tag in drop or not isinstance(tag, str):
                linked = before
                size = 0
            elif tag == "a":
                linked = before + size
            if tag not in unasked:
                chars[el] = size
                links[el] = linked - before
                if tag == "table" or tag == "h1":
                    span[el] = (first, n)
            return size

        def inside(el: etree._Element, depth: int, votes: bool) -> int:
            """`plain()` for an element that may be a unit (`votes`) or whose children may be."""
            nonlocal n, deepest, linked
            tag = el.tag
            if not isinstance(tag, str) or tag in drop:
                return plain(el, depth)
            if votes:
                if tag == "table":
                    unit = not layout(el)
                else:
                    unit = tag in units or (tag in leaf_units and not any(c.tag in blocks for c in el))
                if unit:
                    first = n + 1
                    before = linked
                    size = plain(el, depth)
                    if size < min_chars:
                        return size
                    s = 1.0 + min(_punct_count(_text(el)), 30) + min(size / 100.0, 3.0)
                    if tag == "table":
                        s += 3.0
                    if tag in self_scoring:
                        # a text-only box (paragraphs as <br>-separated lines) can itself be the body
                        scores[el] = scores.get(el, 0.0) + s
                        chars[el], links[el], span[el] = size, linked - before, (first, n)
                    parent = el.getparent()
                    if parent is not None:
                        if _tag(parent) in row_tags:
                            parent = next(parent.iterancestors("table"), parent)
                        scores[parent] = scores.get(parent, 0.0) + s
                        grand = parent.getparent()
                        if grand is not None:
                            scores[grand] = scores.get(grand, 0.0) + s / 2.0
                    return size
            n += 1
            first = n
            if depth > deepest:
                deepest = depth
            if tag == "h1":
                h1.append(el)
            before = linked
            text = el.text
            size = len(text.strip()) if text else 0
            for c in el:
                size += inside(c, depth + 1, True)
                tail = c.tail
                if tail:
                    size += len(tail.strip())
            if tag == "a":
                linked = before + size
            # every voting container is kept: its votes come from below, so only now is it known
            chars[el] = size
            links[el] = linked - before
            span[el] = (first, n)
            return size

        if body is root:
            inside(root, 1, False)
        else:
            outside(root, 1)
        _check_size(deepest, n, settings)
        return pg

    def layout_of(self, table: etree._Element) -> bool:
        """`_is_layout_table`, decided once per table."""
        v = self.layout.get(table)
        if v is None:
            v = self.layout[table] = _is_layout_table(table, self)
        return v

    def grid(self, table: etree._Element) -> list[list[etree._Element]]:
        """`_grid(table)`, listed once per table: the layout, metadata and statistics tests and the
        emission all read the same rows of cells."""
        g = self.grids.get(table)
        if g is None:
            g = self.grids[table] = _grid(table)
        return g

    def text_len(self, el: etree._Element) -> int:
        return self.chars.get(el, 0)

    def link_density(self, el: etree._Element) -> float:
        total = self.chars.get(el, 0)
        return min(1.0, self.links.get(el, 0) / total) if total else 0.0

    def within(self, el: etree._Element, spans: list[tuple[int, int]]) -> bool:
        """Whether `el` is one of, or inside one of, the subtrees of `spans`."""
        first = self.span[el][0]
        return any(a <= first <= b for a, b in spans)


def _table_rows(table: etree._Element) -> list[etree._Element]:
    """The table's own rows in source order (not those of nested tables)."""
    rows = []
    for child in table.iterchildren("tr", "thead", "tbody", "tfoot"):
        if child.tag == "tr":
            rows.append(child)
        else:
            rows.extend(child.iterchildren("tr"))
    return rows


def _grid(table: etree._Element) -> list[list[etree._Element]]:
    """The cells of each of the table's own rows, in source order."""
    return [list(tr.iterchildren("td", "th")) for tr in _table_rows(table)]


def _is_layout_table(table: etree._Element, page: _Page | None = None) -> bool:
    """Tables that arrange the page rather than hold data.

    Nested tables, a single column, or a single row of a few boxes holding
    blocks or long text (sidebar | article); a one-row table of numbers is data.
    """
    if any(True for _ in table.iterdescendants("table")):
        return True
    grid = page.grid(table) if page is not None else _grid(table)
    if not grid or all(len(cells) <= 1 for cells in grid):
        return True
    if len(grid) > 1:
        return False
    cells = grid[0]
    return len(cells) <= 3 and any(_has_block_child(c) or len(_text(c)) > 200 for c in cells)


def _cell_texts(grid: list[list[etree._Element]]) -> list[str]:
    return [clean_inline(_text(c)) for cells in grid for c in cells]


def _is_metadata_table(table: etree._Element, settings: HtmlSettings, page: _Page | None = None) -> bool:
    """Page metadata (索引号 | … | 发布机构 | …): key cells from a fixed vocabulary, in the first rows."""
    keys = set()
    for cells in (page.grid(table) if page is not None else _grid(table))[: settings.metadata_rows]:
        for td in cells:
            t = _text(td)
            if t.isprintable() and " " not in t:
                keys.add(t.rstrip("：:"))  # no _SPACES character and no U+3000 (both are unprintable)
            else:
                keys.add(_SPACES.sub("", t).replace("\u3000", "").rstrip("：:"))
    return len(keys & _METADATA_KEYS) >= settings.metadata_min_keys


def _is_stat_table(table: etree._Element, settings: HtmlSettings, page: _Page) -> bool:
    texts = _cell_texts(page.grid(table))
    numbers = sum(1 for t in texts if t and _NUMBER.match(t))
    return numbers >= settings.stat_table_min_numbers and not _is_metadata_table(table, settings, page)


# --------------------------------------------------------------------------- body detection


def _select_regions(body: etree._Element, page: _Page, settings: HtmlSettings) -> list[etree._Element]:
    """The elements whose content is the report, in document order."""
    scores, span = page.scores, page.span
    best: etree._Element | None = None
    best_score = float("-inf")
    for el, s in scores.items():
        final = (s + _class_weight(el, settings) + _TAG_BONUS.get(_tag(el), 0.0)) * (1.0 - page.link_density(el))
        scores[el] = final
        if final > best_score:
            best, best_score = el, final
    if best is None:
        best = body
    else:
        # prefer the innermost container that carries nearly all of the winner's score: the last
        # one in document order among the winner's descendants
        floor = settings.descend_ratio * best_score
        if floor > 0:
            first, last = span[best]
            inner = [el for el, s in scores.items() if s >= floor and first < span[el][0] <= last]
            if inner:
                best = max(inner, key=lambda el: span[el][0])
    regions = [best]
    parent = best.getparent()
    if parent is not None and best is not body:
        threshold = max(10.0, best_score * settings.sibling_ratio)
        for sib in parent:
            if sib is best or not isinstance(sib.tag, str):
                continue
            if scores.get(sib, float("-inf")) >= threshold and _class_weight(sib, settings) >= 0:
                regions.append(sib)
    # statistics tables outside the chosen regions (rendered in a sibling block by some CMSs)
    inside = [span[r] for r in regions]
    for table in body.iter("table"):
        if page.within(table, inside) or page.layout_of(table) or not _is_stat_table(table, settings, page):
            continue
        if _in_chrome(table, body, settings) or page.link_density(table) > settings.max_link_density:
            continue
        if any(page.within(a, inside) for a in table.iterancestors("table")):
            continue
        regions.append(table)
        inside.append(span[table])
    regions.sort(key=lambda e: span[e][0])
    return [r for r in regions if not any(a in regions for a in r.iterancestors())]


def _in_chrome(el: etree._Element, stop: etree._Element, settings: HtmlSettings) -> bool:
    for a in el.iterancestors():
        if a is stop:
            return False
        if _tag(a) in _CHROME_TAGS or (_class_weight(a, settings) < 0 and not _POSITIVE_HINT.search(_hint(a))):
            return True
    return False


def _is_chrome(el: etree._Element, stats: _Page, settings: HtmlSettings) -> bool:
    """Share bars, print tools, page metadata and nav lists that sit inside the body container."""
    tag = _tag(el)
    if tag in _CHROME_TAGS:
        return True
    if tag == "table":
        return _is_metadata_table(el, settings, stats)
    if tag in ("p", "td", "th", "li", "span", "font", "strong", "b"):
        return False
    if stats.text_len(el) > settings.prune_max_chars:
        return False
    chrome = _class_weight(el, settings) < 0 or (
        tag in ("div", "ul", "ol", "section") and stats.link_density(el) > settings.max_link_density
    )
    return chrome and not any(True for _ in el.iter("table"))


# --------------------------------------------------------------------------- emission


@dataclass(slots=True)
class _Flow:
    """Accumulates running text into Paragraphs and collects Tables, in order."""

    settings: HtmlSettings
    blocks: list[Block] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    line: int | None = None
    style: str | None = None
    tables: int = 0

    def add(self, text: str | None, el: etree._Element) -> None:
        if text:
            if self.line is None and text.strip():
                self.line = (el.sourceline - 1) if el.sourceline else None
            self.parts.append(text)

    def flush(self) -> None:
        text = clean_inline("".join(self.parts))
        if text:
            style = self.style
            if style is None and len(text) <= 40 and _HEADING_TEXT.match(text) and not text.endswith("。"):
                style = "heading"
            self.blocks.append(make_paragraph(text, make_source(None, None, None, None, None, self.line), style))
        self.parts.clear()
        self.line = None
        self.style = None


def _emit(regions: list[etree._Element], page: _Page, body: etree._Element, settings: HtmlSettings) -> list[Block]:
    flow = _Flow(settings)
    title = _outside_title(regions, page, body, settings)
    for region in regions:
        flow.flush()
        if _tag(region) == "table" and not page.layout_of(region):
            _emit_table(region, flow, page)
        else:
            flow.add(region.text, region)
            for child in region:
                _walk(child, region, flow, page)
        flow.flush()
    blocks = flow.blocks
    if title is not None:
        head = "".join(b.text for b in blocks[:4] if isinstance(b, Paragraph))
        if title.text.replace(" ", "") not in head.replace(" ", ""):
            blocks.insert(0, title)
    return blocks


def _walk(el: etree._Element, parent: etree._Element, flow: _Flow, page: _Page) -> None:
    """Emit `el` (a descendant of a region) and its tail; chrome inside the region is skipped."""
    tag = _tag(el)
    if tag and tag not in _DROP_TAGS and not _is_chrome(el, page, flow.settings):
        if tag == "br":
            flow.flush()
        elif tag == "table" and not page.layout_of(el):
            flow.flush()
            _emit_table(el, flow, page)
        elif tag in _BLOCK_TAGS:
            flow.flush()
            flow.style = _HEADING_STYLE.get(tag)
            flow.add(el.text, el)
            for child in el:
                _walk(child, el, flow, page)
            flow.flush()
        else:
            flow.add(el.text, el)
            for child in el:
                _walk(child, el, flow, page)
    flow.add(el.tail, parent)


def _outside_title(
    regions: list[etree._Element], page: _Page, body: etree._Element, settings: HtmlSettings
) -> Paragraph | None:
    """The last <h1> before the body: portals print the article title above the content box."""
    if not regions:
        return None
    first = regions[0]
    start = page.span[first][0]
    last: etree._Element | None = None
    for el in reversed([h for h in page.h1 if page.span[h][0] < start]):
        if not _in_chrome(el, body, settings):
            last = el
            break
    if last is None or any(a is first for a in last.iterancestors()):
        return None
    text = clean_inline(_text(last))
    if len(text) < 6:
        return None
    return Paragraph(text, Source(line=(last.sourceline - 1) if last.sourceline else None), "title")


# --------------------------------------------------------------------------- tables


def _emit_table(table: etree._Element, flow: _Flow, page: _Page) -> None:
    caption = table.find("caption")
    if caption is not None:
        flow.add(_text(caption), caption)
        flow.flush()
    t = table_from_element(table, flow.tables, flow.settings, grid=page.grid(table))
    if t is not None:
        flow.blocks.append(t)
        flow.tables += 1


def table_from_element(
    table: etree._Element,
    index: int,
    settings: HtmlSettings = DEFAULT_SETTINGS,
    line_offset: int = 0,
    grid: list[list[etree._Element]] | None = None,
) -> Table | None:
    """Lay a <table> on its grid (HTML table model): spans resolved, empty cells kept.

    `grid` is the table's `_grid()` when the caller has already listed it.
    """
    rows = _grid(table) if grid is None else grid
    n = len(rows)
    max_colspan, max_cols, max_positions = settings.max_colspan, settings.max_table_cols, settings.max_table_positions
    busy: list[int] = []  # per column: first row index no longer covered by a rowspan
    positions = 0
    out: list[tuple[Cell, ...]] = []
    nb = 0  # len(busy)
    cover = 0  # max(busy): a row at or past it has no cell pushed right by a rowspan
    for r, row in enumerate(rows):
        cells: list[Cell] = []
        c = 0
        pushed = cover > r
        for td in row:
            if pushed:
                while c < nb and busy[c] > r:
                    c += 1
            names = td.keys()  # attribute names: most cells have no span
            if "colspan" in names or "rowspan" in names:
                cs = 1 if "colspan" not in names else min(max(_int_attr(td, "colspan", 1), 1), max_colspan)
                if "rowspan" not in names:
                    rs = 1  # r < n, so the clamp to n - r keeps it
                else:
                    rs = _int_attr(td, "rowspan", 1)
                    rs = n - r if rs == 0 else min(max(rs, 1), n - r)
                end = c + cs
                if end > max_cols:
                    raise ResourceLimitError("An HTML table is wider than the limit.", cols=end)
                positions += cs
                if positions > max_positions:
                    raise ResourceLimitError("An HTML table has more cells than the limit.")
                if nb < end:
                    busy.extend([0] * (end - nb))
                    nb = end
                free = r + rs
                if free > cover:
                    cover = free
                for k in range(c, end):
                    if busy[k] < free:
                        busy[k] = free
            else:
                # a 1x1 cell: it covers only its own place, which no later cell asks about (a later
                # cell of its row sits further right, a later row is past r + 1), so `busy` is left as is
                rs = cs = 1
                end = c + 1
                if end > max_cols:
                    raise ResourceLimitError("An HTML table is wider than the limit.", cols=end)
                positions += 1
                if positions > max_positions:
                    raise ResourceLimitError("An HTML table has more cells than the limit.")
            if len(td):
                text = cell_text(td)
            else:
                text = td.text
                if not text:
                    text = ""
                elif text.isprintable() and "  " not in text:
                    text = text.strip()  # what clean_inline() does with such a text, without the call
                else:
                    text = clean_inline(text)
            sl = td.sourceline
            # the model's fast factories: the same records at under half the cost of the constructors
            cells.append(make_cell(text, r, c, rs, cs, make_source(None, None, index, r, c, (sl - 1 + line_offset) if sl else None)))
            c = end
        out.append(tuple(cells))
    if not any(out):
        return None
    line = (table.sourceline - 1 + line_offset) if table.sourceline else None
    return Table(rows=tuple(out), index=index, source=Source(table=index, line=line))


def _int_attr(el: etree._Element, name: str, default: int) -> int:
    v = el.get(name)
    if v is None:
        return default
    n = safe_int(v)  # not str.isdigit() + int(): superscript and circled digits pass the one, fail the other
    if n is None:
        m = _LEADING_INT.match(v)  # "3px", "2;": the leading number, as browsers read it
        n = safe_int(m.group(1)) if m else None
    return default if n is None else n


def cell_text(td: etree._Element) -> str:
    """Cell text with its own line breaks (<br>, blocks) as "\\n"; empty lines dropped."""
    if not len(td):
        text = td.text
        return clean_inline(text) if text else ""
    lines: list[str] = []
    parts: list[str] = []

    def brk() -> None:
        lines.append(clean_inline("".join(parts)))
        parts.clear()

    def walk(el: etree._Element) -> None:
        tag = _tag(el)
        if tag and tag not in _DROP_TAGS:
            if tag == "br":
                brk()
            else:
                block = tag in _BLOCK_TAGS
                if block:
                    brk()
                if el.text:
                    parts.append(el.text)
                for child in el:
                    walk(child)
                if block:
                    brk()
        if el.tail:
            parts.append(el.tail)

    if td.text:
        parts.append(td.text)
    for child in td:
        walk(child)
    brk()
    return "\n".join(line for line in lines if line)
