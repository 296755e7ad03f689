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


def _key_sets(cc: object) -> tuple[frozenset[str], tuple[str, ...], re.Pattern[str]] | None:
    """What can make OpenCC change a text: its one-character keys, the longer keys holding none of them,
    and a pattern of runs of characters that occur in any key.

    OpenCC (pure Python, ~20 µs per character) only changes a text where one of its dictionary keys
    occurs, and no key spans a character that is in no key; so a text without any key is returned
    as is, and a text with some is converted run by run, each run of key characters on its own,
    which gives the same result as converting it whole. None (convert everything) when the
    dictionaries are not laid out as expected.
    """
    try:
        keys = [k for group in cc._dict_chain_data for entry in group for k in entry[2]]  # type: ignore[attr-defined]
    except (AttributeError, TypeError, IndexError):  # pragma: no cover - another opencc layout
        return None
    single = frozenset(k for k in keys if len(k) == 1)
    longer = tuple(sorted({k for k in keys if len(k) > 1 and not single.intersection(k)}))
    chars = sorted(set("".join(keys)))
    runs = re.compile("[" + "".join(re.escape(c) for c in chars) + "]+")
    return single, longer, runs


_T2S_KEYS = _key_sets(_T2S) if _T2S is not None else None

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
    if _T2S_KEYS is None:  # pragma: no cover - another opencc layout
        return _T2S.convert(text)
    single, longer, runs = _T2S_KEYS
    if single.isdisjoint(text) and not any(k in text for k in longer):
        return text
    return runs.sub(lambda m: _convert_run(m.group(0)), text)


def _convert_run(run: str) -> str:
    """One run of key characters through OpenCC, skipped when it holds no key."""
    single, longer, _ = _T2S_KEYS  # type: ignore[misc]
    if single.isdisjoint(run) and not any(k in run for k in longer):
        return run
    return _T2S.convert(run)  # type: ignore[union-attr]


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
