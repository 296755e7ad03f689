"""Value cells → numbers exactly as printed, with a parse-quality score.

Blank, dashes and slashes are "not filled in" (None). `0` and `无` are zeros the
report printed. A unit or a note in the cell (`150件`, `22（其中修订16件）`,
`40 万元`) keeps the leading number and lowers the quality a little, so the
confidence stage knows the cell was not a bare number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .caching import text_cache
from .normalize import nfkc, squash

MAX_RUN_DIGITS = 96
_BLANK = re.compile(r"^[-—–―─_/\\／、.·…]*$")
_ZERO_WORDS = {"无", "没有", "零", "未发生", "0件", "无。"}
_NUMBER = re.compile(r"^([+\-−－]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_UNIT_TAIL = re.compile(
    r"^(?:件|条|次|个|人次|人|篇|期|份|项|万元|元|千元|亿元|家|批|场|起|余件|余条)?$"
)
_NOTE_TAIL = re.compile(r"^[(（][^()（）]*[)）]$")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")  # digits grouped in threes by commas


@dataclass(frozen=True, slots=True)
class ParsedValue:
    value: int | float | None
    quality: float  # 1.0 a bare number or a clear blank; lower when text had to be dropped
    blank: bool  # the cell was left empty / dashed


@text_cache(maxsize=65536)
def is_value_like(text: str) -> bool:
    """Whether a cell could be a value cell (number, blank, dash, 无) rather than a label."""
    return _value_like(squash(nfkc(text)))


def _value_like(t: str) -> bool:
    """`is_value_like` of a text already folded and squashed (`squash(nfkc(text))`)."""
    if not t or _BLANK.match(t) or t in _ZERO_WORDS:
        return True
    m = _NUMBER.match(t)
    if not m:
        return False
    rest = t[m.end():]
    return bool(_UNIT_TAIL.match(rest) or _NOTE_TAIL.match(rest) or rest.startswith(("(", "（")))


@text_cache(maxsize=65536)
def parse_value(text: str) -> ParsedValue:
    """The number a cell prints (None for blank), and how cleanly it parsed."""
    return _parsed(squash(nfkc(text)))


def read_folded(folded: str) -> tuple[bool, ParsedValue]:
    """(`is_value_like`, `parse_value`) of a text from its folded, squashed form `squash(nfkc(text))`:
    the table stage asks both of every new cell text and has that form already, so neither folds it
    again nor goes through its memo (the stage keeps its own)."""
    return _value_like(folded), _parsed(folded)


def _parsed(t: str) -> ParsedValue:
    """`parse_value` of a text already folded and squashed."""
    t = t.replace("，", ",")
    if not t or _BLANK.match(t):
        return ParsedValue(None, 1.0, True)
    if t in _ZERO_WORDS:
        return ParsedValue(0, 0.97, False)
    m = _NUMBER.match(t)
    if not m:
        return ParsedValue(None, 0.3, False)
    sign, digits, frac = m.group(1), m.group(2), m.group(3)
    rest = t[m.end():]
    quality = 1.0
    if "," in digits:
        if not _THOUSANDS.fullmatch(digits):
            quality = 0.6
        digits = digits.replace(",", "")
        quality = min(quality, 0.97)
    # a run of up to MAX_RUN_DIGITS digits stays a number: a crawler's run-together row (fifteen 表四
    # numbers in one cell) is cut by the fitting stage from it; past that nothing can be read, and
    # int() of thousands of digits would raise
    whole = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= MAX_RUN_DIGITS else None
    if whole is None:
        return ParsedValue(None, 0.3, False)
    num: int | float = float(digits + frac) if frac else whole
    if sign in {"-", "−", "－"}:
        num = -num
    if rest:
        if _UNIT_TAIL.match(rest):
            quality = min(quality, 0.95)
        elif _NOTE_TAIL.match(rest) or rest.startswith(("(", "（")):
            quality = min(quality, 0.85)
        else:
            quality = min(quality, 0.5)
    return ParsedValue(num, quality, False)
