"""DOCX reader: the body of `word/document.xml` as paragraphs and merged-cell-resolved tables.

Why raw lxml instead of python-docx: building python-docx's object model and
asking every `cell.text` costs 25–60 ms per report; one safe lxml parse plus one
element walk costs a few milliseconds and lets us resolve `gridSpan`, `vMerge`,
`gridBefore`/`gridAfter` ourselves. A table is read by one tag-filtered `iter()` (the
filter runs in C; each such call has a set-up cost per tag, so one call per table rather
than two per cell), with a per-cell fallback wherever the markup is not the plain
table → row → cell nesting Word writes.

Why the zip checks come first: DOCX files come from the internet. The container
is inspected (entry count, declared sizes, per-entry compression ratio) before
any part is decompressed, parts are read with a hard byte bound that does not
trust the declared size, and XML is parsed without entity expansion, DTD
loading or network access.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from ..errors import CorruptFileError, EncryptedFileError, ResourceLimitError
from ..model import Document, Paragraph, Table, make_cell, make_paragraph, make_source
from ..normalize import safe_int
from .options import ReadOptions

# What zipfile raises for a damaged container or member (NotImplementedError: a compression method it does
# not have). An encrypted member (RuntimeError, "password required") is told apart by each caller.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


@dataclass(frozen=True, slots=True)
class DocxSettings:
    """Tuning knobs of the DOCX reader that are not safety limits of ReadOptions."""

    default_document_part: str = "word/document.xml"  # used when _rels/.rels names none
    default_core_part: str = "docProps/core.xml"
    # one XML part, decompressed (also capped by options): lxml's tree takes ~14x a real part's XML and ~20x
    # a flood of tiny elements, so 8 MiB (a real report's: 20-160 KB) stays well under a 512 MiB worker
    # (a 1 MB DOCX of 35 MiB XML exhausted one; 16 MiB of tiny elements peaked at 400 MiB)
    max_part_bytes: int = 8 * 1024 * 1024
    max_side_part_bytes: int = 8 * 1024 * 1024  # rels, core.xml, styles.xml
    ratio_floor_bytes: int = 64 * 1024  # entries smaller than this are too small to be a bomb
    unwrap_single_cell_tables: bool = True  # a 1x1 layout "frame" table is read as its content
    skip_hidden_text: bool = True  # runs marked <w:vanish/> are invisible in Word and PDF
    bold_heading_max_chars: int = 40  # a short body paragraph set all in bold is hinted "heading"
    # caps (past them: ResourceLimitError naming the cap); Word's own limits are far below each
    max_grid_span: int = 1024  # columns one cell may span or a row may skip (Word: 63 columns)
    max_table_positions: int = 2_000_000  # grid positions (sum of spans) of one table
    max_style_depth: int = 64  # length of a basedOn chain of styles
    max_list_start: int = 32767  # a list's start value (Word's own maximum)
    max_level_text_chars: int = 64  # a list level's lvlText pattern


SETTINGS = DocxSettings()

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"

_W_TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_OFFICE_DOCUMENT = ("/officeDocument",)  # relationship Type endings (transitional and strict)
_REL_CORE = ("/core-properties", "/metadata/core-properties")


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        dtd_validation=False,
    )


# ---------------------------------------------------------------------------
# Container checks and bounded reads
# ---------------------------------------------------------------------------


def _declared_entry_count(data: bytes) -> int:
    """Entry count from the end-of-central-directory record, read before zipfile builds its index."""
    if data[-22:-18] == _EOCD:  # no archive comment: the record is the last 22 bytes
        pos = len(data) - 22
    else:  # same fallback search as zipfile: the last signature within the comment range
        pos = data.rfind(_EOCD, max(0, len(data) - (65535 + 22)))
    if pos < 0 or pos + 22 > len(data):
        raise CorruptFileError("The file is not a complete ZIP container (no end-of-directory record).")
    count = struct.unpack_from("<H", data, pos + 10)[0]
    loc = pos - 20
    if count == 0xFFFF and loc >= 0 and data[loc : loc + 4] == _EOCD64_LOCATOR:
        off = struct.unpack_from("<Q", data, loc + 8)[0]
        if off + 40 <= len(data) and data[off : off + 4] == _EOCD64:
            count = struct.unpack_from("<Q", data, off + 32)[0]
    return count


def _check_container(infos: list[zipfile.ZipInfo], options: ReadOptions, settings: DocxSettings) -> None:
    """Refuse zip bombs from the central directory alone, before anything is decompressed."""
    if len(infos) > options.max_zip_entries:
        raise ResourceLimitError(
            f"The DOCX has {len(infos)} ZIP entries (limit {options.max_zip_entries}).",
            entries=len(infos),
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= settings.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > options.max_compression_ratio:
                raise ResourceLimitError(
                    f"A DOCX part expands {ratio:.0f}x when decompressed "
                    f"(limit {options.max_compression_ratio:.0f}x).",
                    ratio=round(ratio),
                )
    if total > options.max_uncompressed_bytes:
        raise ResourceLimitError(
            f"The DOCX parts add up to {total} bytes decompressed (limit {options.max_uncompressed_bytes}).",
            uncompressed_bytes=total,
        )


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Decompress one part, stopping as soon as it passes `limit` bytes whatever its header claims."""
    if info.flag_bits & 0x1:
        raise EncryptedFileError("The DOCX container is encrypted.")
    chunks: list[bytes] = []
    total = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise ResourceLimitError(
                        f"A DOCX part is larger than {limit} bytes decompressed (limit max_part_bytes).",
                        limit="max_part_bytes", max_bytes=limit,
                    )
                chunks.append(chunk)
    except ZIP_ERRORS as e:
        raise CorruptFileError("A DOCX part is damaged and cannot be decompressed.") from e
    except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
        raise EncryptedFileError("The DOCX container is encrypted.") from e
    return b"".join(chunks)


def _parse_xml(raw: bytes, what: str) -> etree._Element:
    """Parse one OOXML part safely; OOXML never carries a DTD, so one is refused outright."""
    try:
        root = etree.fromstring(raw, _xml_parser())
    except etree.XMLSyntaxError as e:
        msg = str(e).lower()
        if "entity" in msg and ("amplification" in msg or "loop" in msg or "depth" in msg):
            raise ResourceLimitError(f"The DOCX {what} uses recursive entities.") from e
        if "huge" in msg or "depth" in msg:
            raise ResourceLimitError(f"The DOCX {what} nests deeper than the parser allows.") from e
        raise CorruptFileError(f"The DOCX {what} is not well-formed XML.") from e
    except ValueError as e:
        raise CorruptFileError(f"The DOCX {what} is not well-formed XML.") from e
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ResourceLimitError(f"The DOCX {what} declares a DTD, which OOXML forbids (entity expansion risk).")
    return root


def _resolve_target(target: str) -> str:
    return target.lstrip("/")


def _package_parts(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], settings: DocxSettings
) -> tuple[str, str]:
    """Names of the main document part and the core-properties part, from _rels/.rels when it says."""
    doc, core = settings.default_document_part, settings.default_core_part
    rels = names.get("_rels/.rels")
    if rels is None:
        return doc, core
    try:
        root = _parse_xml(_read_part(zf, rels, settings.max_side_part_bytes), "package relationships")
    except (CorruptFileError, ResourceLimitError):
        return doc, core  # the default part names still work for a sloppy producer
    for rel in root.iter(f"{{{_REL_NS}}}Relationship", "Relationship"):
        rtype, target = rel.get("Type", ""), rel.get("Target", "")
        if not target or rel.get("TargetMode") == "External":
            continue
        name = _resolve_target(target)
        if rtype.endswith(_REL_OFFICE_DOCUMENT) and name in names:
            doc = name
        elif rtype.endswith(_REL_CORE) and name in names:
            core = name
    return doc, core


# ---------------------------------------------------------------------------
# Styles: which paragraphs are headings
# ---------------------------------------------------------------------------

# Style names (lower-cased) to reader hints; ids are often numeric ("1", "2") in Chinese
# Word/WPS files, so the name is what counts.
_STYLE_NAME_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(title|subtitle|标题|副标题)$"), "title"),
    (re.compile(r"^(heading|标题)\s*\d$"), "heading"),
    (re.compile(r"^(list|列表)"), "list"),
)


@dataclass(frozen=True, slots=True)
class _Styles:
    hints: dict[str, str]  # styleId -> reader hint
    numbering: dict[str, tuple[str, int]]  # styleId -> (numId, ilvl) of a style-linked list


def _read_styles(styles_root: etree._Element, w: str, settings: DocxSettings = SETTINGS) -> _Styles:
    """Hints and list links per styleId, following basedOn so a style built on "heading 1" stays a heading."""
    wp = "{" + w + "}"
    val = wp + "val"
    own: dict[str, str | None] = {}
    own_num: dict[str, tuple[str, int] | None] = {}
    based: dict[str, str] = {}
    for st in styles_root.iter(wp + "style"):
        sid = st.get(wp + "styleId")
        if st.get(wp + "type") != "paragraph" or not sid:
            continue
        hint: str | None = None
        name_el = st.find(wp + "name")
        name = (name_el.get(val) or "").strip().lower() if name_el is not None else ""
        for pattern, h in _STYLE_NAME_HINTS:
            if pattern.match(name):
                hint = h
                break
        lvl = st.find(f"{wp}pPr/{wp}outlineLvl")
        if hint is None and lvl is not None and 0 <= _int(lvl.get(val), 9) < 9:
            hint = "heading"
        own[sid] = hint
        numpr = st.find(f"{wp}pPr/{wp}numPr")
        if numpr is not None:
            nid, ilvl = numpr.find(wp + "numId"), numpr.find(wp + "ilvl")
            own_num[sid] = (
                nid.get(val, "") if nid is not None else "",
                _int(ilvl.get(val), 0) if ilvl is not None else 0,
            )
        base = st.find(wp + "basedOn")
        if base is not None and base.get(val):
            based[sid] = base.get(val) or ""

    # Each style's chain is walked once: a style reached again (from a longer chain) is already
    # resolved, so the work is linear in the number of styles; a cycle ends the chain.
    def inherit(table: dict) -> dict:  # type: ignore[type-arg]
        out: dict = {}  # type: ignore[type-arg]
        steps: dict[str, int] = {}  # style -> how many styles its resolution walks through
        for sid in own:
            chain: list[str] = []
            cur, seen, found, rest = sid, set(), None, 0
            while cur in own and cur not in seen:
                if cur in steps:
                    found, rest = out.get(cur), steps[cur]
                    break
                seen.add(cur)
                chain.append(cur)
                if table.get(cur):
                    found = table[cur]
                    break
                cur = based.get(cur, "")
            if len(chain) + rest > settings.max_style_depth:
                raise ResourceLimitError(
                    f"A DOCX style is based on a chain of more than {settings.max_style_depth} styles "
                    "(limit max_style_depth).",
                    limit="max_style_depth",
                )
            for i, c in enumerate(chain):
                steps[c] = len(chain) - i + rest
                value = table[c] if table.get(c) else found
                if value is not None:
                    out[c] = value
        return out

    return _Styles(inherit(own), inherit(own_num))


# ---------------------------------------------------------------------------
# Automatic list numbering: "一、" of an auto-numbered heading is not in any w:t
# ---------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def _roman(n: int) -> str:
    if not 0 < n < 4000:  # no Roman numeral past MMMCMXCIX; Word prints such counters in decimal too
        return str(n)
    out = []
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    if not 0 < n <= 780:  # Word stops at "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" (30 letters)
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _ranged(base: int, top: int) -> Callable[[int], str]:
    return lambda n: chr(base + n - 1) if 1 <= n <= top else str(n)


# w:numFmt value -> how a counter is printed. Bullets and "none" print nothing.
_NUM_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),
    "decimalFullWidth2": lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),
    "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese,
    "chineseLegalSimplified": _chinese,
    "japaneseCounting": _chinese,
    "ideographDigital": lambda n: "".join("〇一二三四五六七八九"[int(d)] for d in str(n)),
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[n - 1] if 1 <= n <= 10 else str(n),
    "ideographZodiac": lambda n: "子丑寅卯辰巳午未申酉戌亥"[n - 1] if 1 <= n <= 12 else str(n),
    "decimalEnclosedCircle": _ranged(0x2460, 20),
    "decimalEnclosedCircleChinese": _ranged(0x2460, 20),
    "decimalEnclosedParen": _ranged(0x2474, 20),
    "decimalEnclosedFullstop": _ranged(0x2488, 20),
    "ideographEnclosedCircle": _ranged(0x3280, 10),
    "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": lambda n: _roman(n).lower(),
    "upperRoman": _roman,
}
_NUMBER_END_PUNCT = "、.．)）:：]】"
_LEVEL_REF = re.compile(r"%([1-9])")


@dataclass(slots=True)
class _Level:
    start: int
    fmt: str
    text: str
    suffix: str  # w:suff: tab (default), space, nothing


class _Numbering:
    """Counters of numbering.xml lists, advanced in document order like Word does."""

    def __init__(self, root: etree._Element, w: str, settings: DocxSettings = SETTINGS) -> None:
        wp = "{" + w + "}"
        val = wp + "val"

        def start(text: str | None, default: int) -> int:
            n = _int(text, default, lo=0)
            if n > settings.max_list_start:
                raise ResourceLimitError(
                    f"A DOCX list starts at {n} (limit max_list_start={settings.max_list_start}).",
                    limit="max_list_start",
                )
            return n

        def pattern(text: str) -> str:
            if len(text) > settings.max_level_text_chars:
                raise ResourceLimitError(
                    f"A DOCX list level's number pattern has {len(text)} characters "
                    f"(limit max_level_text_chars={settings.max_level_text_chars}).",
                    limit="max_level_text_chars",
                )
            return text

        abstract: dict[str, dict[int, _Level]] = {}
        for an in root.iter(wp + "abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in an.iter(wp + "lvl"):
                def v(tag: str, default: str, lvl: etree._Element = lvl) -> str:
                    el = lvl.find(wp + tag)
                    return el.get(val, default) if el is not None else default
                levels[_int(lvl.get(wp + "ilvl"), 0)] = _Level(
                    start(v("start", "1"), 1), v("numFmt", "decimal"), pattern(v("lvlText", "")), v("suff", "tab")
                )
            abstract[an.get(wp + "abstractNumId") or ""] = levels
        self.nums: dict[str, dict[int, _Level]] = {}
        for num in root.iter(wp + "num"):
            ref = num.find(wp + "abstractNumId")
            levels = dict(abstract.get(ref.get(val, "") if ref is not None else "", {}))
            for ov in num.iter(wp + "lvlOverride"):
                ilvl = _int(ov.get(wp + "ilvl"), 0)
                so = ov.find(wp + "startOverride")
                if so is not None and ilvl in levels:
                    lv = levels[ilvl]
                    levels[ilvl] = _Level(start(so.get(val), lv.start), lv.fmt, lv.text, lv.suffix)
            self.nums[num.get(wp + "numId") or ""] = levels
        self.counters: dict[str, dict[int, int]] = {}

    def label(self, num_id: str, ilvl: int) -> str:
        """The printed number of the next paragraph of list `num_id` at level `ilvl` ("" for bullets)."""
        levels = self.nums.get(num_id)
        if not levels or ilvl not in levels:
            return ""
        counts = self.counters.setdefault(num_id, {})
        counts[ilvl] = counts.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        level = levels[ilvl]
        fmt = _NUM_FORMATS.get(level.fmt)
        if fmt is None:
            return ""

        def one(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            lv = levels.get(k)
            n = counts.get(k, lv.start if lv else 1)
            f = _NUM_FORMATS.get(lv.fmt, str) if lv else str
            return f(n)

        text = _LEVEL_REF.sub(one, level.text).strip()
        if not text:
            return ""
        return text if text[-1] in _NUMBER_END_PUNCT or level.suffix == "nothing" else text + " "


# ---------------------------------------------------------------------------
# The body walk
# ---------------------------------------------------------------------------

# What an inline element contributes to a paragraph's text. Only these tags are visited (lxml
# filters them in C), so wrappers such as hyperlinks, simple fields, content controls, smart
# tags, customXml and tracked insertions are "descended into" for free. Deleted text lives in
# w:delText and field codes in w:instrText, which are not listed, so they never show up.
_INLINE_TEXT: dict[str, str | None] = {
    "t": None,  # None: the element's own text
    "tab": " ",
    "ptab": " ",
    "br": "\n",
    "cr": "\n",
    "noBreakHyphen": "-",
    "p": "\n",  # a paragraph nested in a text box or in a table inside the cell
}
_MATH_TEXT: dict[str, str | None] = {"t": None}

# Subtrees whose text is not part of the visible current document; removed before the walk.
_W_DROPPED = ("moveFrom", "del")  # tracked moves/deletions (w:del rarely wraps w:t, but may)
_MC_DROPPED = ("Fallback",)  # mc:AlternateContent keeps the same text box twice; Choice suffices

# What a block-level element of the body or of a cell is.
_PARA, _TABLE, _DESCEND, _IGNORE = range(4)
_BLOCK_RULES: dict[str, int] = {
    "p": _PARA,
    "tbl": _TABLE,
    "sdt": _DESCEND,
    "sdtContent": _DESCEND,
    "customXml": _DESCEND,
    "ins": _DESCEND,
    "moveTo": _DESCEND,
    "smartTag": _DESCEND,
}


def _prune(root: etree._Element, w: str, settings: DocxSettings) -> None:
    """Drop deleted, moved-away, duplicate-fallback and (optionally) hidden runs from the tree."""
    tags = [f"{{{w}}}{t}" for t in _W_DROPPED] + [f"{{{_MC}}}{t}" for t in _MC_DROPPED]
    doomed = list(root.iter(*tags))
    if settings.skip_hidden_text:
        run, rpr = f"{{{w}}}r", f"{{{w}}}rPr"
        for v in root.iter(f"{{{w}}}vanish"):
            if v.get(f"{{{w}}}val") in ("0", "false", "off"):
                continue
            holder = v.getparent()
            r = holder.getparent() if holder is not None and holder.tag == rpr else None
            if r is not None and r.tag == run:
                doomed.append(r)
    trpr = f"{{{w}}}trPr"
    for el in doomed:
        parent = el.getparent()
        if parent is not None and parent.tag == trpr:  # <w:trPr><w:del/>: the whole row was deleted
            el, parent = parent.getparent(), parent.getparent().getparent()
        if parent is not None:  # an ancestor may already be gone with its subtree
            parent.remove(el)


class _Walker:
    """One pass over the body; collects blocks in document order."""

    def __init__(self, w: str, styles: _Styles, numbering: _Numbering | None, settings: DocxSettings) -> None:
        self.w = w
        self.wp = wp = "{" + w + "}"
        self.styles = styles
        self.numbering = numbering
        self.settings = settings
        self.blocks: list[Paragraph | Table] = []
        self.n_tables = 0
        self.warnings: list[str] = []
        self.inline: dict[str, str | None] = {wp + k: v for k, v in _INLINE_TEXT.items()}
        self.inline.update({f"{{{_M}}}{k}": v for k, v in _MATH_TEXT.items()})
        self.inline_tags = tuple(self.inline)
        self.block: dict[str, int] = {wp + k: v for k, v in _BLOCK_RULES.items()}
        self.ppr, self.tag_p = wp + "pPr", wp + "p"
        self.tag_r, self.tag_t, self.tag_rpr, self.tag_b = wp + "r", wp + "t", wp + "rPr", wp + "b"
        self.tag_tr, self.tag_tc = wp + "tr", wp + "tc"
        self.tag_trpr, self.tag_tcpr = wp + "trPr", wp + "tcPr"
        self.tag_tblprex, self.tag_gridbefore = wp + "tblPrEx", wp + "gridBefore"
        self.cell_props = {wp + "gridSpan": "span", wp + "vMerge": "v", wp + "hMerge": "h", wp + "cellDel": "del"}
        self.cell_tags = self.inline_tags + tuple(self.cell_props)  # one filtered pass per cell
        self.tag_tbl = wp + "tbl"
        self.table_tags = self.cell_tags + (self.tag_tc, self.tag_tr, self.tag_tbl)  # one pass per table
        self.val = wp + "val"
        self.tag_altchunk = wp + "altChunk"
        self.tag_outline, self.tag_pstyle, self.tag_numpr = wp + "outlineLvl", wp + "pStyle", wp + "numPr"

    # -- text --------------------------------------------------------------

    def _text(self, el: etree._Element) -> str:
        """Visible text under `el`; every paragraph below `el` starts a new line."""
        inline, numbering = self.inline, self.numbering
        out: list[str] = []
        for ch in el.iterdescendants(*self.inline_tags):
            piece = inline[ch.tag]
            if piece is None:
                out.append(ch.text or "")
            else:
                out.append(piece)
                if numbering is not None and ch.tag == self.tag_p:
                    out.append(self._number(ch))
        return "".join(out)

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [s for s in (line.strip() for line in text.split("\n")) if s]

    def _marks(self, p: etree._Element) -> tuple[etree._Element | None, ...]:
        """(outlineLvl, pStyle, numPr): the first of each among the children of p's leading w:pPr."""
        lvl = ps = num = None
        if len(p) and p[0].tag == self.ppr:
            tag_lvl, tag_ps, tag_num = self.tag_outline, self.tag_pstyle, self.tag_numpr
            for ch in p[0]:  # a handful of children: cheaper than three find() calls
                tag = ch.tag
                if tag == tag_ps:
                    ps = ps if ps is not None else ch
                elif tag == tag_num:
                    num = num if num is not None else ch
                elif tag == tag_lvl:
                    lvl = lvl if lvl is not None else ch
        return lvl, ps, num

    def _number(self, p: etree._Element, marks: tuple[etree._Element | None, ...] | None = None) -> str:
        """The automatic list number Word prints before paragraph `p`, advancing its counter."""
        if self.numbering is None or not len(p) or p[0].tag != self.ppr:
            return ""
        wp, val = self.wp, self.val
        _, ps, numpr = marks if marks is not None else self._marks(p)
        if numpr is not None:
            nid, ilvl = numpr.find(wp + "numId"), numpr.find(wp + "ilvl")
            num_id = nid.get(val, "") if nid is not None else ""
            level = _int(ilvl.get(val), 0) if ilvl is not None else 0
        else:
            num_id, level = self.styles.numbering.get(ps.get(val, "") if ps is not None else "", ("", 0))
        if not num_id or num_id == "0":
            return ""
        return self.numbering.label(num_id, level)

    def _para_text(self, p: etree._Element, marks: tuple[etree._Element | None, ...]) -> str:
        text = self._number(p, marks) + self._text(p)
        if "\n" in text:
            return "\n".join(self._lines(text))
        return text.strip()

    def _para_style(self, marks: tuple[etree._Element | None, ...]) -> str | None:
        lvl, ps, _ = marks
        if lvl is not None:
            v = lvl.get(self.val) or ""
            if 0 <= _int(v, 9) < 9:
                return "heading"
        if ps is not None:
            hint = self.styles.hints.get(ps.get(self.val) or "")
            if hint:
                return hint
        return None

    def _all_bold(self, p: etree._Element) -> bool:
        """Every run that carries text is bold: how reports without heading styles mark headings."""
        seen = False
        for r in p.iterdescendants(self.tag_r):
            if next(r.iterchildren(self.tag_t), None) is None:
                continue
            rpr = next(r.iterchildren(self.tag_rpr), None)
            b = next(rpr.iterchildren(self.tag_b), None) if rpr is not None else None
            if b is None or b.get(self.val) in ("0", "false", "off"):
                return False
            seen = True
        return seen

    # -- blocks ------------------------------------------------------------

    def walk(self, parent: etree._Element) -> None:
        """Emit the block-level children of `parent` (the body, a content control, a frame cell)."""
        rules = self.block
        for ch in parent:
            rule = rules.get(ch.tag, _IGNORE) if isinstance(ch.tag, str) else _IGNORE
            if rule == _PARA:
                marks = self._marks(ch)
                text = self._para_text(ch, marks)
                if text:
                    style = self._para_style(marks)
                    if style is None and len(text) <= self.settings.bold_heading_max_chars and self._all_bold(ch):
                        style = "heading"
                    elif style is None and marks[2] is not None:  # w:numPr: a list item
                        style = "list"
                    self.blocks.append(make_paragraph(text, make_source(None, None, None, None, None, len(self.blocks)), style))
            elif rule == _TABLE:
                frame = self._frame_cell(ch)
                if frame is not None:
                    self.walk(frame)
                else:
                    self._table(ch)
            elif rule == _DESCEND:
                self.walk(ch)
            elif ch.tag == self.tag_altchunk:
                self.warnings.append("An embedded altChunk part was not read.")

    def _cell(self, tc: etree._Element) -> tuple[int, str | None, str | None, bool, list]:  # type: ignore[type-arg]
        """(gridSpan, vMerge, hMerge, deleted, text pieces) of a cell, from one filtered pass over it.

        The merge marks count only as children of the cell's own (first) w:tcPr, not of a nested
        table's cells. Paragraph numbers are not taken here: a cell that turns out to continue a
        merge is never printed, so its paragraphs must not advance a list counter; with numbering,
        each paragraph is left in `pieces` as its element for `_cell_text` to number.
        """
        span, vmerge, hmerge, deleted = 1, None, None, False
        inline, props, val = self.inline, self.cell_props, self.val
        number_paras = self.numbering is not None
        tag_p = self.tag_p
        pieces: list = []  # type: ignore[type-arg]
        tcpr: etree._Element | None | bool = False  # False: not looked up yet
        for el in tc.iter(*self.cell_tags):  # the tag filter runs in C: run and cell formatting skipped
            tag = el.tag
            if tag in inline:
                piece = inline[tag]
                if piece is None:
                    pieces.append(el.text or "")
                else:
                    pieces.append(piece)
                    if number_paras and tag == tag_p:
                        pieces.append(el)
                continue
            if tcpr is False:
                tcpr = next(tc.iterchildren(self.tag_tcpr), None)
            if el.getparent() is not tcpr:
                continue
            prop = props[tag]
            if prop == "span":
                span = _int(el.get(val), 1, 1, self.settings.max_grid_span)
            elif prop == "v":
                vmerge = el.get(val) or "continue"
            elif prop == "h":
                hmerge = el.get(val) or "continue"
            else:
                deleted = True
        return span, vmerge, hmerge, deleted, pieces

    def _cell_text(self, pieces: list) -> str:  # type: ignore[type-arg]
        """A cell's lines: one per paragraph with text, nested tables one line per cell paragraph."""
        if self.numbering is not None:
            pieces = [p if isinstance(p, str) else self._number(p) for p in pieces]
        elif len(pieces) == 2 and pieces[0] == "\n" and "\n" not in pieces[1]:
            return pieces[1].strip()  # the common cell: one paragraph of one run
        return "\n".join(self._lines("".join(pieces)))

    def _rows(self, tbl: etree._Element) -> list[etree._Element]:
        """The rows of a table, looking through content-control and customXml wrappers."""
        out: list[etree._Element] = []
        for ch in tbl:
            if ch.tag == self.tag_tr:
                out.append(ch)
            elif isinstance(ch.tag, str) and self.block.get(ch.tag) == _DESCEND:
                out.extend(self._rows(ch))
        return out

    def _cells(self, tr: etree._Element) -> list[etree._Element]:
        out: list[etree._Element] = []
        for ch in tr:
            if ch.tag == self.tag_tc:
                out.append(ch)
            elif isinstance(ch.tag, str) and self.block.get(ch.tag) == _DESCEND:
                out.extend(self._cells(ch))
        return out

    def _frame_cell(self, tbl: etree._Element) -> etree._Element | None:
        """The only cell of a 1x1 table used as a page frame, else None."""
        if not self.settings.unwrap_single_cell_tables:
            return None
        rows = self._rows(tbl)
        if len(rows) != 1:
            return None
        cells = self._cells(rows[0])
        return cells[0] if len(cells) == 1 else None

    def _gather(self, tbl: etree._Element, grid: list[list[etree._Element]]) -> dict:  # type: ignore[type-arg]
        """`_cell()` of every cell of `grid` (the table's rows of cells), from one filtered pass over the table.

        The pass yields cell and row starts and every text piece and merge mark in document order;
        a piece belongs to the cell started last as long as that cell's subtree ends where the next
        cell or row starts (checked per cell with getnext(), which holds for every cell Word writes).
        A cell followed by anything else is read by its own pass, and a table whose stream holds
        cells or rows the grid does not (a nested table, a row inside a cell) by one pass per cell.
        """
        out: dict = {}  # type: ignore[type-arg]  # tc -> [span, vmerge, hmerge, deleted, pieces]
        wanted = set()
        for cells in grid:
            wanted.update(cells)
        inline, props, val = self.inline, self.cell_props, self.val
        number_paras = self.numbering is not None
        tag_p, tag_tc, tag_tr, tag_tcpr = self.tag_p, self.tag_tc, self.tag_tr, self.tag_tcpr
        marks = (tag_tc, tag_tr)
        n_cells = n_rows = 0
        cell: list | None = None  # type: ignore[type-arg]  # the slot pieces and marks go to
        pieces: list = []  # type: ignore[type-arg]
        tc: etree._Element | None = None
        tcpr: etree._Element | None | bool = False
        for el in tbl.iterdescendants(*self.table_tags):
            tag = el.tag
            if tag in inline:
                if cell is not None:
                    piece = inline[tag]
                    if piece is None:
                        pieces.append(el.text or "")
                    else:
                        pieces.append(piece)
                        if number_paras and tag == tag_p:
                            pieces.append(el)
                continue
            if tag == tag_tc:
                n_cells += 1
                cell = None
                if el not in wanted:
                    continue
                end: etree._Element | None = el
                while end is not tbl:  # the first element after the cell's subtree
                    nxt = end.getnext()  # type: ignore[union-attr]
                    if nxt is not None:
                        break
                    end = end.getparent()  # type: ignore[union-attr]
                else:
                    nxt = None
                if nxt is None or nxt.tag in marks:
                    pieces = []
                    cell = out[el] = [1, None, None, False, pieces]
                    tc, tcpr = el, False
                else:
                    out[el] = list(self._cell(el))
                continue
            if tag == tag_tr:
                n_rows += 1
                cell = None
                continue
            if tag == self.tag_tbl:
                return {c: list(self._cell(c)) for c in wanted}
            if cell is None:
                continue
            if tcpr is False:
                tcpr = next(tc.iterchildren(tag_tcpr), None)  # type: ignore[union-attr]
            if el.getparent() is not tcpr:
                continue
            prop = props[tag]
            if prop == "span":
                cell[0] = _int(el.get(val), 1, 1, self.settings.max_grid_span)
            elif prop == "v":
                cell[1] = el.get(val) or "continue"
            elif prop == "h":
                cell[2] = el.get(val) or "continue"
            else:
                cell[3] = True
        if n_cells != len(wanted) or n_rows != len(grid):
            return {c: list(self._cell(c)) for c in wanted}
        return out

    def _grid_before(self, tr: etree._Element) -> int:
        """Empty grid columns a row skips before its first cell (w:trPr or w:tblPrEx)."""
        for holder in tr.iterchildren(self.tag_trpr, self.tag_tblprex):
            for el in holder.iterchildren(self.tag_gridbefore):
                return _int(el.get(self.val), 0, 0, self.settings.max_grid_span)
        return 0

    def _table(self, tbl: etree._Element) -> None:
        """Lay the rows on the grid: gridBefore shifts, gridSpan widens, vMerge continues grow rowspan."""
        index = self.n_tables
        self.n_tables += 1
        # cell record: [text, row, col, rowspan, colspan]
        rows_out: list[list[list]] = []
        open_v: dict[int, list] = {}  # start column -> the cell a vertical merge is growing
        cover: dict[int, list] = {}  # every column an open merge spans -> that merge (O(1) lookups)
        r = 0
        positions, cap = 0, self.settings.max_table_positions

        def close(rec: list) -> None:
            if open_v.get(rec[2]) is rec:
                del open_v[rec[2]]
            for k in range(rec[2], rec[2] + rec[4]):
                if cover.get(k) is rec:
                    del cover[k]

        trs = self._rows(tbl)
        grid = [self._cells(tr) for tr in trs]
        slots = self._gather(tbl, grid)
        for tr, cells in zip(trs, grid):
            col = self._grid_before(tr)
            positions += col
            row_cells: list[list] = []
            continued: set[int] = set()
            for tc in cells:
                span, vmerge, hmerge, deleted, pieces = slots[tc]
                if deleted:
                    continue
                positions += span
                if positions > cap:
                    raise ResourceLimitError(
                        f"A DOCX table has more than {cap} grid positions (limit max_table_positions).",
                        limit="max_table_positions",
                    )
                if hmerge == "continue" and row_cells and row_cells[-1][2] + row_cells[-1][4] == col:
                    row_cells[-1][4] += span  # legacy horizontal merge: widen the cell on the left
                    col += span
                    continue
                if vmerge == "continue":
                    start = open_v.get(col) or cover.get(col)
                    if start is not None:
                        start[3] = r - start[1] + 1
                        continued.add(start[2])
                        col += span
                        continue
                rec = [self._cell_text(pieces), r, col, 1, span]
                row_cells.append(rec)
                for k in range(col, col + span):  # merges this cell overlaps end here
                    if k in cover:
                        close(cover[k])
                if vmerge is not None:  # restart, or a continue with nothing above: starts a merge
                    open_v[col] = rec
                    for k in range(col, col + span):
                        cover[k] = rec
                    continued.add(col)
                col += span
            for c in [c for c in open_v if c not in continued]:
                close(open_v[c])
            rows_out.append(row_cells)
            r += 1
        # the model's fast factories: the same records at under half the cost of the constructors
        rows = tuple(
            tuple([
                make_cell(text, row, col, rowspan, colspan, make_source(None, None, index, row, col, None))
                for text, row, col, rowspan, colspan in rc
            ])
            for rc in rows_out
        )
        self.blocks.append(Table(rows=rows, index=index, source=make_source(None, None, index, None, None, len(self.blocks))))


def _int(value: str | None, default: int, lo: int | None = None, hi: int | None = None) -> int:
    n = safe_int(value, default, lo, hi)
    return default if n is None else n


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _refuse_non_zip(data: bytes) -> None:
    if data.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTION_STREAM in data:
            raise EncryptedFileError("The DOCX is password-protected (OLE container with EncryptionInfo).")
        raise CorruptFileError("The file is a legacy OLE document (.doc), not a DOCX ZIP container.")
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise CorruptFileError("The file is not a ZIP container, so not a DOCX.")


def _title(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], part: str, settings: DocxSettings) -> str | None:
    info = names.get(part)
    if info is None:
        return None
    try:
        root = _parse_xml(_read_part(zf, info, settings.max_side_part_bytes), "core properties")
    except (CorruptFileError, ResourceLimitError):
        return None  # metadata only: a broken core.xml must not sink the body
    el = root.find(_DC_TITLE)
    title = " ".join((el.text or "").split()) if el is not None else ""
    return title or None


def _side_part(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], doc_part: str, name: str, settings: DocxSettings
) -> etree._Element | None:
    """A part next to the main document (styles.xml, numbering.xml); a broken one is just absent."""
    folder = doc_part.rsplit("/", 1)[0] + "/" if "/" in doc_part else ""
    info = names.get(folder + name)
    if info is None:
        return None
    try:
        return _parse_xml(_read_part(zf, info, settings.max_side_part_bytes), name)
    except (CorruptFileError, ResourceLimitError):
        return None


def read(data: bytes, options: ReadOptions, settings: DocxSettings = SETTINGS) -> Document:
    """Read a DOCX: safety checks on the container, then one walk of the document body."""
    _refuse_non_zip(data)
    count = _declared_entry_count(data)
    if count > options.max_zip_entries:
        raise ResourceLimitError(
            f"The DOCX has {count} ZIP entries (limit {options.max_zip_entries}).", entries=count
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as e:
        raise CorruptFileError("The file is a damaged ZIP container.") from e
    with zf:
        infos = zf.infolist()
        _check_container(infos, options, settings)
        names = {i.filename: i for i in infos}
        doc_part, core_part = _package_parts(zf, names, settings)
        info = names.get(doc_part)
        if info is None:
            raise CorruptFileError("The DOCX has no main document part (word/document.xml).")
        raw = _read_part(zf, info, min(settings.max_part_bytes, options.max_uncompressed_bytes))
        root = _parse_xml(raw, "document part")
        qname = etree.QName(root)
        w = qname.namespace or ""
        if qname.localname != "document" or w not in (_W_TRANSITIONAL, _W_STRICT):
            raise CorruptFileError("The DOCX main part is not a WordprocessingML document.")
        body = root.find(f"{{{w}}}body")
        if body is None:
            raise CorruptFileError("The DOCX document part has no body.")
        styles = _Styles({}, {})
        if next(body.iter(f"{{{w}}}pStyle"), None) is not None:
            styles_root = _side_part(zf, names, doc_part, "styles.xml", settings)
            styles = _read_styles(styles_root, w, settings) if styles_root is not None else styles
        numbering = None
        if styles.numbering or next(body.iter(f"{{{w}}}numPr"), None) is not None:
            numbering_root = _side_part(zf, names, doc_part, "numbering.xml", settings)
            numbering = _Numbering(numbering_root, w, settings) if numbering_root is not None else None
        title = _title(zf, names, core_part, settings)
    _prune(body, w, settings)
    walker = _Walker(w, styles, numbering, settings)
    try:
        walker.walk(body)
    except RecursionError as e:
        raise ResourceLimitError("The DOCX body nests deeper than the reader allows.") from e
    return Document(blocks=tuple(walker.blocks), format="docx", title=title, warnings=tuple(walker.warnings))


__all__ = ["SETTINGS", "DocxSettings", "read"]
