"""Numbers stated in the narrative ("收到政府信息公开申请12件"), as claims about indicators.

Claims fill indicators that no table provides (narrative-only reports) and
are cross-checked against the tables. A claim is only taken where a known
phrase stands right before the number, inside one clause, so a stray number
never becomes an indicator.
"""
from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .indicators import Match
from .model import Document
from .values import parse_value
from .view import DocumentView, prepare

# A number starts only at the head of its run of digits and commas, and the run is taken whole (possessive):
# the same matches as plain backtracking, but a 30,000-digit run with no unit is scanned once, not once per digit.
# The first digit is matched before the look-behinds (which then see it too): the same matches as
# `(?<!\d)(?<!\d,)(\d…)`, but a pattern that opens with a digit lets the regex engine skip to the digits
# instead of trying the look-behinds at every character (~3× faster on the corpus's paragraphs).
_NUM_UNIT = re.compile(r"(\d(?<!\d\d)(?<!\d,\d)[\d,]*+(?:\.\d+)?)(人次|万元|件|条|次|个|人|篇|元|期|份|项)")
_CLAUSE_END = re.compile(r"[，。；：、（）()!！?？,;:]")
_FILLERS = ("共计", "共", "计", "达到", "达", "为", "了", "约", "有", "总数为", "总数", "数量为", "数为", "数")
_FILLER = "(?:" + "|".join(_FILLERS) + ")?"
# How far before a number its phrase may start: phrases are at most ~20 characters, so a longer
# window changes nothing but keeps each number's search constant-time (a paragraph of 10,000
# numbers with no punctuation was quadratic).
_CLAUSE_WINDOW = 120


@dataclass(frozen=True, slots=True)
class NarrativeRule:
    id: str
    phrases: tuple[re.Pattern[str], ...]
    headline: bool
    template: str | None
    fill: bool


@lru_cache(maxsize=1)
def rules() -> tuple[NarrativeRule, ...]:
    raw = tomllib.loads(resources.files("extractors").joinpath("data/narrative.toml").read_text(encoding="utf-8"))
    return tuple(
        NarrativeRule(
            id=r["id"],
            phrases=tuple(re.compile(re.escape(p) + _FILLER + r"$") for p in r["phrases"]),
            headline=bool(r.get("headline", False)),
            template=r.get("template"),
            fill=bool(r.get("fill", True)),
        )
        for r in raw["rule"]
    )


@lru_cache(maxsize=1)
def _phrases() -> re.Pattern[str]:
    """Every rule's phrases in one pattern anchored at the clause end; the group names the rule.

    At the leftmost position where some phrase ends the clause, the earlier rule wins: so the
    longer phrase (不同意公开) beats its own suffix (同意公开) whatever the file order.
    """
    parts = [f"(?P<r{i}>{'|'.join(p.pattern.removesuffix(_FILLER + '$') for p in r.phrases)})" for i, r in enumerate(rules())]
    return re.compile("(?:" + "|".join(parts) + ")" + _FILLER + "$")


@dataclass(frozen=True, slots=True)
class _Suffixes:
    """The phrases as literal text: phrase → index of the first rule listing it, and the phrase lengths;
    and every phrase + filler (the filler may be empty) that can end a clause, looked up by its last
    character: the lengths ending in it (longest first), and each text's earliest rule."""

    rule_of: dict[str, int]
    lengths: tuple[int, ...]
    ending_rule: dict[str, int]  # phrase + filler → the earliest rule of any phrase it is made of
    lengths_by_last: dict[str, tuple[int, ...]]  # last character → lengths of the texts of `ending_rule` ending in it


@lru_cache(maxsize=1)
def _suffixes() -> _Suffixes:
    raw = tomllib.loads(resources.files("extractors").joinpath("data/narrative.toml").read_text(encoding="utf-8"))
    rule_of: dict[str, int] = {}
    for i, r in enumerate(raw["rule"]):
        for p in r["phrases"]:
            rule_of.setdefault(p, i)
    ending: dict[str, int] = {}
    for p, i in rule_of.items():
        for f in ("", *_FILLERS):
            if p + f:
                ending[p + f] = min(i, ending.get(p + f, i))
    by_last: dict[str, set[int]] = {}
    for t in ending:
        by_last.setdefault(t[-1], set()).add(len(t))
    return _Suffixes(rule_of, tuple(sorted({len(p) for p in rule_of}, reverse=True)), ending,
                     {c: tuple(sorted(ns, reverse=True)) for c, ns in by_last.items()})


def _rule_at_end(clause: str) -> int | None:
    """The rule `_phrases().search(clause)` names, found by suffix look-ups instead of a regex scan.

    A match ends the clause: a phrase, then at most one filler. The search takes the leftmost start,
    i.e. the longest phrase + filler that ends the clause, and at that start the earliest rule: the
    first of the clause's suffixes, longest first, that is a phrase + filler (`_Suffixes.ending_rule`).
    """
    if not clause:
        return None
    sx = _suffixes()
    lengths = sx.lengths_by_last.get(clause[-1])
    if lengths is None:
        return None
    size = len(clause)
    ending = sx.ending_rule
    for n in lengths:
        if n <= size:
            rule = ending.get(clause[size - n:])
            if rule is not None:
                return rule
    return None


@dataclass(frozen=True, slots=True)
class Claim:
    match: Match
    rule: NarrativeRule


def _quoteless(k: str) -> str:
    return k.replace("《", "").replace("》", "").replace("“", "").replace("”", "")


def claims(doc: Document, view: DocumentView | None = None) -> list[Claim]:
    """Every (rule, number) pair the paragraphs state, first occurrence per indicator."""
    out: list[Claim] = []
    seen: set[str] = set()
    v = view or prepare(doc)
    for b, k in zip(v.paragraphs, v.paragraph_keys):
        text = _quoteless(k)
        if not _NUM_UNIT.search(text):
            continue
        ends = [x.end() for x in _CLAUSE_END.finditer(text)]  # once per paragraph, not per number
        for m in _NUM_UNIT.finditer(text):
            i = bisect_right(ends, m.start())
            cut = ends[i - 1] if i else 0
            clause = text[max(cut, m.start() - _CLAUSE_WINDOW): m.start()]
            found = _rule_at_end(clause)
            if found is None:
                continue
            rule = rules()[found]
            if rule.id in seen:
                continue
            seen.add(rule.id)
            pv = parse_value(m.group(1))
            match = Match(
                id=rule.id,
                value=pv.value,
                raw=m.group(0),
                label=clause[-30:],
                label_score=0.95,
                parse_quality=pv.quality,
                source=b.source,
                zone="narrative",
                method="narrative",
                sentence=text[max(0, cut - 10): m.end() + 2],
            )
            out.append(Claim(match, rule))
    return out
