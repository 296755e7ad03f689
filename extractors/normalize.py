"""Text normalisation shared by the stages: one place decides what "the same label" means.

Matching always runs on normalised keys; what the caller gets back is the text
as printed.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from .caching import text_cache

try:  # opencc-python-reimplemented: pure Python, Traditional → Simplified
    from opencc import OpenCC

    _T2S = OpenCC("t2s")
except Exception:  # pragma: no cover - the dependency is declared; keep import-time failures readable
    _T2S = None


class _T2SConverter:
    """OpenCC's Traditional → Simplified conversion, the same output in a fraction of the time.

    opencc-python-reimplemented converts each piece between its separators by taking the
    longest dictionary key in it (the leftmost of equal length), then the pieces left and right
    of it the same way, phrases first and single characters in what the phrases left; it tries
    every substring at every length, ~2 ms per 1,000 characters. Taking the keys longest first and
    leftmost first, each unless it overlaps one taken before, picks the same keys, so this class
    finds the key occurrences once through an index of first characters and sorts them; a table
    of single characters is a `str.translate`. No key holds a separator (checked here), so
    splitting at them changes nothing and is skipped. It reads the library's own dictionaries;
    a text holding no key is returned as is. `tests/test_normalize.py` holds it to the library
    on the corpus and on random key mixes.
    """

    def __init__(self, cc: object) -> None:
        self.split: re.Pattern[str] | None = cc.split_chars_re  # type: ignore[attr-defined]
        self.groups: list[list[tuple[dict[str, str], re.Pattern[str] | None, dict[str, tuple[int, ...]], dict[int, str] | None]]] = []
        # per group: a search for any key of its tables before the last whose conversion differs from the
        # last table's character by character (None: the group's last table is not single characters)
        self.special: list[re.Pattern[str] | None] = []
        keys: list[str] = []
        for group in cc._dict_chain_data:  # type: ignore[attr-defined]
            entries = []
            for _max_len, _min_len, table in group:
                firsts: dict[str, set[int]] = {}
                for k in table:
                    firsts.setdefault(k[0], set()).add(len(k))
                lengths = {c: tuple(sorted(ls, reverse=True)) for c, ls in firsts.items()}
                singles = all(len(k) == 1 for k in table)
                chars = {ord(k): v.split(" ")[0] for k, v in table.items()} if singles else None
                starts = re.compile("[" + "".join(re.escape(c) for c in sorted(firsts)) + "]") if table else None
                entries.append((table, starts, lengths, chars))
                keys.extend(table)
            self.groups.append(entries)
            self.special.append(_special_keys(entries))
        if self.split is not None and not any(self.split.search(k) for k in keys):
            self.split = None  # no key spans a separator: converting whole is converting piece by piece
        self.single = frozenset(k for k in keys if len(k) == 1)
        self.longer = tuple(sorted({k for k in keys if len(k) > 1 and not self.single.intersection(k)}))
        # a search for any BMP single-character key or any astral character: a class of BMP characters is a
        # bitmap test per character, ~10× faster than `frozenset.isdisjoint(text)` (which makes a string object
        # of every character); a class with astral literals is a linear scan, so those texts take the long way
        bmp = "".join(sorted(re.escape(k) for k in self.single if k < "\U00010000"))
        self.maybe_single = re.compile((f"[{bmp}]|" if bmp else "") + "[\U00010000-\U0010FFFF]")

    def convert(self, text: str) -> str:
        m = self.maybe_single.search(text)  # a BMP hit is a key; an astral one may not be
        no_single = m is None or m.group() >= "\U00010000" and self.single.isdisjoint(text)
        if no_single and not any(k in text for k in self.longer):
            return text  # no key occurs: nothing to change
        if self.split is None:
            return self._convert_piece(text)
        parts = self.split.split(text)
        for n in range(0, len(parts), 2):  # even items are text, odd ones the separators
            if parts[n]:
                parts[n] = self._convert_piece(parts[n])
        return "".join(parts)

    def _convert_piece(self, piece: str) -> str:
        for group, special in zip(self.groups, self.special):
            if special is not None and special.search(piece) is None:
                # every key the earlier tables would take converts as its characters do: the last table alone
                piece = self._translate(piece, group[-1][3])  # type: ignore[arg-type]
                continue
            chunks: list[tuple[str, bool]] = [(piece, False)]  # (text, already converted)
            last = len(group) - 1
            for n, (table, starts, lengths, chars) in enumerate(group):
                if chars is not None and n == last:  # single characters, nothing after them: translate
                    chunks = [(t if done else self._translate(t, chars), True) for t, done in chunks]
                    continue
                out: list[tuple[str, bool]] = []
                for text, done in chunks:
                    if done:
                        out.append((text, True))
                    else:
                        out.extend(self._take(text, table, starts, lengths))
                chunks = out
            piece = "".join(t for t, _ in chunks)
        return piece

    def _translate(self, text: str, chars: dict[int, str]) -> str:
        """`text.translate(chars)` (the last table: single characters, all keys in `self.single`).

        `str.translate` looks up every character (~50 ns each); Simplified text holds a handful of
        keys, so those few are substituted after a bitmap scan finds them.
        """
        hits = self.maybe_single.findall(text)
        if len(hits) > 32:
            return text.translate(chars)
        if not hits:
            return text
        return self.maybe_single.sub(lambda m: chars.get(ord(m.group()), m.group()), text)

    @staticmethod
    def _take(text: str, table: dict[str, str], starts: re.Pattern[str] | None, lengths: dict[str, tuple[int, ...]]) -> list[tuple[str, bool]]:
        """`text` cut into converted key occurrences and untouched gaps, longest keys first."""
        n = len(text)
        found: list[tuple[int, int]] = []  # (-length, start)
        if starts is not None:
            for m in starts.finditer(text):
                i = m.start()
                for ln in lengths[m.group(0)]:
                    if i + ln <= n and text[i:i + ln] in table:
                        found.append((-ln, i))
        if not found:
            return [(text, False)]
        found.sort()
        taken = bytearray(n)
        picks: list[tuple[int, int]] = []
        for neg, i in found:
            end = i - neg
            if not any(taken[i:end]):
                taken[i:end] = b"\x01" * (end - i)
                picks.append((i, end))
        picks.sort()
        out: list[tuple[str, bool]] = []
        pos = 0
        for i, end in picks:
            if i > pos:
                out.append((text[pos:i], False))
            out.append((table[text[i:end]].split(" ")[0], True))  # several candidates: the first, as OpenCC
            pos = end
        if pos < n:
            out.append((text[pos:], False))
        return out


def _trie_pattern(keys: list[str]) -> str:
    """A regex matching exactly `keys` (none empty), as a trie: one branch per first character.

    `re` tries an alternation's branches one by one at each position; grouped by first character,
    a position tries one short branch (~3× faster than the flat alternation of ~300 phrases).
    """
    rests: dict[str, list[str]] = {}
    for k in keys:
        rests.setdefault(k[0], []).append(k[1:])
    parts = []
    for ch in sorted(rests):
        longer = [r for r in rests[ch] if r]
        if not longer:
            parts.append(re.escape(ch))
        else:
            parts.append(re.escape(ch) + "(?:" + _trie_pattern(longer) + ")" + ("?" if "" in rests[ch] else ""))
    return "|".join(parts)


def _special_keys(entries: list[tuple[dict[str, str], re.Pattern[str] | None, dict[str, tuple[int, ...]], dict[int, str] | None]]) -> re.Pattern[str] | None:
    """A search for the keys of a group's tables before its last whose first candidate is not the
    key translated by the last table (a table of single characters); None when the last is not one.

    Why it is exact: a group's output is its picked keys' conversions with the gaps between them
    translated by the last table. When the text holds none of these keys, every key picked converts
    to its own characters translated, so the output is the whole text translated, whichever keys
    are picked. Most reports hold none (~250 of the ~280 phrases are Traditional-only words).
    """
    if not entries or entries[-1][3] is None:
        return None
    chars = entries[-1][3]
    special = sorted({k for table, _s, _l, _c in entries[:-1] for k, v in table.items()
                      if k and v.split(" ")[0] != k.translate(chars)})
    return re.compile(_trie_pattern(special)) if special else re.compile(r"(?!)")


def _converter(cc: object) -> _T2SConverter | None:
    try:
        return _T2SConverter(cc)
    except (AttributeError, TypeError, ValueError, IndexError):  # pragma: no cover - another opencc layout
        return None


_FAST_T2S = _converter(_T2S) if _T2S is not None else None

_WS = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_LEVEL_1 = re.compile(r"^[一二三四五六七八九十百]+[、.．]")  # 一、
_LEVEL_2 = re.compile(r"^[(（][一二三四五六七八九十]+[)）]")  # （一）
_LEVEL_3 = re.compile(r"^(?:\d+[、.．](?!\d)|[(（]\d+[)）]|[①②③④⑤⑥⑦⑧⑨⑩])")  # 1. (1) ①

# Leading enumerations: 一、 （一） (1) 1. 1、 ① 第一 … and the 其中： prefix.
_NUMBERING = re.compile(
    r"^(?:"
    r"[一二三四五六七八九十百]+[、.．]"
    r"|[(（][一二三四五六七八九十]+[)）][、.]?"
    r"|[(（]\d+[)）][、.]?"
    r"|\d+(?:\.\d+)*[、.．](?!\d)"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]"
    r")"
)
_QIZHONG = re.compile(r"^(?:其中|含)[:：]?")
_PAREN_NOTE = re.compile(r"[(（][^()（）]{2,}[)）]")
_QUOTES = re.compile(r"[“”\"'‘’《》〈〉]")
_PUNCT_TAIL = re.compile(r"[:：;；,，.。、]+$")


@lru_cache(maxsize=1)
def _unicode_tables() -> tuple[frozenset[str], re.Pattern[str]]:
    """Composition seconds, and a pattern of every character NFKC might not leave alone.

    Seconds: starters (combining class 0) that canonical composition can join to the character
    before them (Unicode's NFC_Quick_Check=Maybe starters: the second character of a
    two-character canonical decomposition, and the Hangul vowel and trailing jamo). The pattern
    matches every BMP character with a decomposition (Hangul syllables included), a combining
    class or second status, and every astral character; a character it does not match is its own
    NFKC form in any context. Built once per process from `unicodedata` (~0.15 s; the service's
    forkserver builds it before forking, in the warm-up).
    """
    seconds = {chr(cp) for cp in (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))}
    unsafe = set(range(0xAC00, 0xD7A4)) | {ord(c) for c in seconds}
    for cp in range(0x2FA20):  # no decomposition lies above U+2FA1D
        ch = chr(cp)
        d = unicodedata.decomposition(ch)
        if d:
            unsafe.add(cp)
            parts = d.split()
            if d[0] != "<" and len(parts) == 2:
                second = int(parts[1], 16)
                unsafe.add(second)
                if not unicodedata.combining(chr(second)):
                    seconds.add(chr(second))
        elif unicodedata.combining(ch):
            unsafe.add(cp)
    ranges: list[str] = []
    run: list[int] = []
    for cp in sorted(c for c in unsafe if c < 0x10000 and not 0xD800 <= c < 0xE000):
        if run and cp == run[-1] + 1:
            run.append(cp)
            continue
        if run:
            ranges.append(re.escape(chr(run[0])) + ("-" + re.escape(chr(run[-1])) if len(run) > 1 else ""))
        run = [cp]
    if run:
        ranges.append(re.escape(chr(run[0])) + ("-" + re.escape(chr(run[-1])) if len(run) > 1 else ""))
    # two classes: one of BMP ranges is a bitmap lookup per character; mixed with astral ranges it is not
    pattern = re.compile("[" + "".join(ranges) + "]|[\U00010000-\U0010FFFF]")
    return frozenset(seconds), pattern


@lru_cache(maxsize=65536)
def _fold(ch: str) -> str | None:
    """NFKC of one character when it is context-free, else None.

    Context-free: the character's NFKC form consists of starters that are their own
    decomposition and that composition never joins to a neighbour. A text made only of such
    characters normalises character by character: its decomposition is the concatenation of
    the forms, with no combining marks there is nothing to reorder, and nothing composes.
    """
    if unicodedata.combining(ch):
        return None
    form = unicodedata.normalize("NFKC", ch)
    seconds = _unicode_tables()[0]
    for x in form:
        if unicodedata.combining(x) or x in seconds or unicodedata.normalize("NFKD", x) != x:
            return None
    return form


_FOLD_MAX_DISTINCT = 1024  # more distinct candidates than a report has: let unicodedata do the text whole


@text_cache(maxsize=16384)
def nfkc(text: str) -> str:
    """Full-width digits, letters, spaces and punctuation folded to their plain forms (Unicode NFKC).

    `unicodedata.normalize` costs ~140 ns a character on CJK text (it decomposes and recomposes
    every character). Most characters of a report are their own NFKC form in any context (see
    `_unicode_tables`), the rest are a few distinct context-free ones (full-width punctuation,
    see `_fold`); this scans for those, folds each distinct one at its first occurrence with
    `str.replace` (so the scan never meets it again: a report's ~2,000 full-width commas and
    brackets are a handful of replacements, not a list of every hit), and hands any text holding a
    character that is not context-free to `unicodedata` whole.
    `tests/test_normalize.py` holds it to `unicodedata` on the corpus and on every code point.
    """
    if text.isascii():
        return text  # ASCII is NFKC
    return _fold_scan(text, _fold, _nfkc_by_set)


def _nfkc_whole(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _fold_scan(text: str, fold: Callable[[str], str | None], by_set: Callable[[str], str]) -> str:
    """`text` with each candidate character (`_unicode_tables`) replaced by `fold(ch)`, every occurrence
    at once where the scan first meets it (so the scan never meets it again); `fold` None: the text is
    not context-free, so `unicodedata` takes it whole; past `_SCAN_MAX_DISTINCT` distinct ones, `by_set`."""
    search = _unicode_tables()[1].search
    out = text
    seen: set[str] = set()
    m = search(out)
    while m is not None:
        ch, at = m.group(), m.start()
        if ch not in seen:
            if len(seen) == _SCAN_MAX_DISTINCT:
                return by_set(text)
            seen.add(ch)
            form = fold(ch)
            if form is None:
                return _nfkc_whole(text)
            if form != ch:
                out = out.replace(ch, form)  # none lies before `at`: the scan met each candidate there
                m = search(out, at + len(form))
                continue
        m = search(out, at + 1)
    return out


_SCAN_MAX_DISTINCT = 24  # `nfkc`/`fold_chars` replace this many distinct characters one by one, then take the set way


def _nfkc_by_set(text: str) -> str:
    """`nfkc` of a text with many distinct candidates: their set found in one scan, then folded."""
    candidates = set(_unicode_tables()[1].findall(text))
    if len(candidates) > _FOLD_MAX_DISTINCT:
        return unicodedata.normalize("NFKC", text)
    changes: list[tuple[str, str]] = []
    for ch in candidates:
        form = _fold(ch)
        if form is None:
            return unicodedata.normalize("NFKC", text)
        if form != ch:
            changes.append((ch, form))
    if len(changes) > 16:
        return text.translate({ord(ch): form for ch, form in changes})
    for ch, form in changes:  # each form is made of characters that fold to themselves
        text = text.replace(ch, form)
    return text

@lru_cache(maxsize=65536)
def _char_form(ch: str) -> str:
    f = unicodedata.normalize("NFKC", ch)
    return f if len(f) == 1 else ch


def fold_chars(text: str) -> str:
    """Each character replaced by its own NFKC form where that is one character: full-width
    letters, digits and punctuation to ASCII, position for position (so a span in the result is the
    same span of `text`). Only the characters `_unicode_tables` finds can change."""
    if text.isascii():
        return text
    return _fold_scan(text, _char_form, _fold_chars_by_set)  # one character for one: positions stay


def _fold_chars_by_set(text: str) -> str:
    for ch in set(_unicode_tables()[1].findall(text)):
        f = _char_form(ch)
        if f != ch:  # f is its own form, so no later replacement touches it
            text = text.replace(ch, f)
    return text


@text_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional characters → Simplified (for matching only)."""
    if _T2S is None or text.isascii():
        return text
    if _FAST_T2S is None:  # pragma: no cover - another opencc layout
        return _T2S.convert(text)
    return _FAST_T2S.convert(text)


# every character `squash` removes: `str.isspace` (none lies above U+3000) and the two zero-width ones
SQUASHED = "".join(chr(cp) for cp in range(0x3001) if chr(cp).isspace()) + "\u200b\ufeff"


def squash(text: str) -> str:
    """Remove every kind of whitespace (CJK text has no meaningful spaces): exactly what `_WS` matches.

    `str.split()` splits at the characters the pattern's `\\s` matches (both are `str.isspace`) and
    is ~5× faster than the substitution; zero-width space and BOM are not whitespace to either.
    """
    out = "".join(text.split())
    if "\u200b" in out:
        out = out.replace("\u200b", "")
    if "\ufeff" in out:
        out = out.replace("\ufeff", "")
    return out


def strip_numbering(text: str) -> str:
    """Drop leading enumerations and 其中： prefixes, repeatedly (e.g. "（一）1.其中：")."""
    prev = None
    t = text
    while prev != t:
        prev = t
        t = _NUMBERING.sub("", t, count=1)
        t = _QIZHONG.sub("", t, count=1)
    return t


@text_cache(maxsize=65536)
def label_key(text: str, keep_notes: bool = False) -> str:
    """The matching key of a table label: simplified, squashed, unnumbered, notes removed."""
    t = squash(nfkc(to_simplified(text)))
    t = _QUOTES.sub("", t)
    t = strip_numbering(t)
    if not keep_notes:
        t2 = _PAREN_NOTE.sub("", t)
        t = t2 or t
    return _PUNCT_TAIL.sub("", t)


def numbering(text: str) -> str | None:
    """The leading enumeration of a label as printed-normalised, e.g. "一、", "（一）", "1."; None if none."""
    t = squash(nfkc(text))
    m = _NUMBERING.match(t)
    return m.group(0) if m else None


def numbering_level(text: str) -> int | None:
    """1 for 一、, 2 for （一）, 3 for 1., 4 for 其中：; None when unnumbered."""
    t = squash(nfkc(text))
    if _LEVEL_1.match(t):
        return 1
    if _LEVEL_2.match(t):
        return 2
    if _LEVEL_3.match(t):
        return 3
    if _QIZHONG.match(t):
        return 4
    return None


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_numeral(text: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20 (up to 99); None when `text` is not such a numeral."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    t = _CN_DIGITS.get(tens, None) if tens else 1
    o = _CN_DIGITS.get(ones, None) if ones else 0
    if t is None or o is None:
        return None
    return t * 10 + o


_INT_MAX_DIGITS = 18  # past this a "count" is not a count; also keeps int() far from Python's digit limit


def safe_int(text: str | None, default: int | None = None, lo: int | None = None, hi: int | None = None) -> int | None:
    """An integer written in `text` (ASCII or full-width digits, optional sign), or `default`.

    Total by design, for every count, span, level and start value a file declares: other
    Unicode digits (superscripts, circled numbers) that `str.isdigit()` accepts but `int()`
    refuses give `default`, as do more than 18 digits; the result is clamped to [lo, hi].
    """
    if text is None:
        return default
    t = unicodedata.normalize("NFKC", text).strip()
    sign = 1
    if t[:1] in ("-", "+", "−"):
        sign, t = (-1 if t[0] != "+" else 1), t[1:].lstrip()
    if not t or len(t) > _INT_MAX_DIGITS or not t.isascii() or not t.isdigit():
        return default
    n = sign * int(t)
    if lo is not None and n < lo:
        n = lo
    if hi is not None and n > hi:
        n = hi
    return n
