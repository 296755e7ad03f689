"""Text normalisation shared by the stages: one place decides what "the same label" means.

Matching always runs on normalised keys; what the caller gets back is the text
as printed.
"""
from __future__ import annotations

import re
import unicodedata

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
        if self.split is not None and not any(self.split.search(k) for k in keys):
            self.split = None  # no key spans a separator: converting whole is converting piece by piece
        self.single = frozenset(k for k in keys if len(k) == 1)
        self.longer = tuple(sorted({k for k in keys if len(k) > 1 and not self.single.intersection(k)}))

    def convert(self, text: str) -> str:
        if self.single.isdisjoint(text) and not any(k in text for k in self.longer):
            return text  # no key occurs: nothing to change
        if self.split is None:
            return self._convert_piece(text)
        parts = self.split.split(text)
        for n in range(0, len(parts), 2):  # even items are text, odd ones the separators
            if parts[n]:
                parts[n] = self._convert_piece(parts[n])
        return "".join(parts)

    def _convert_piece(self, piece: str) -> str:
        for group in self.groups:
            chunks: list[tuple[str, bool]] = [(piece, False)]  # (text, already converted)
            last = len(group) - 1
            for n, (table, starts, lengths, chars) in enumerate(group):
                if chars is not None and n == last:  # single characters, nothing after them: translate
                    chunks = [(t if done else t.translate(chars), True) for t, done in chunks]
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


def _converter(cc: object) -> _T2SConverter | None:
    try:
        return _T2SConverter(cc)
    except (AttributeError, TypeError, ValueError, IndexError):  # pragma: no cover - another opencc layout
        return None


_FAST_T2S = _converter(_T2S) if _T2S is not None else None

_WS = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")

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


@text_cache(maxsize=16384)
def nfkc(text: str) -> str:
    """Full-width digits, letters, spaces and punctuation folded to their plain forms."""
    return unicodedata.normalize("NFKC", text)


@text_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional characters → Simplified (for matching only)."""
    if _T2S is None or text.isascii():
        return text
    if _FAST_T2S is None:  # pragma: no cover - another opencc layout
        return _T2S.convert(text)
    return _FAST_T2S.convert(text)


def squash(text: str) -> str:
    """Remove every kind of whitespace (CJK text has no meaningful spaces)."""
    return _WS.sub("", text)


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
    if re.match(r"^[一二三四五六七八九十百]+[、.．]", t):
        return 1
    if re.match(r"^[(（][一二三四五六七八九十]+[)）]", t):
        return 2
    if re.match(r"^(?:\d+[、.．](?!\d)|[(（]\d+[)）]|[①②③④⑤⑥⑦⑧⑨⑩])", t):
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
