"""Problem texts in Chinese and English, and which of the two a request asks for.

The texts are data (`app/data/problems.toml`, validated on load): per problem
code a Chinese title and detail, and an explanation with what to do in both
languages (the `/problems/<code>` pages). Negotiation follows RFC 9110
`Accept-Language` with q-values; any `zh*` range preferred over English picks
Chinese, everything else (absent header included) gets English.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Literal

Lang = Literal["zh", "en"]
CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}
_FIELDS = ("title_zh", "detail_zh", "explain_en", "explain_zh", "todo_en", "todo_zh")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")  # RFC 9110 qvalue


@dataclass(frozen=True, slots=True)
class ProblemText:
    code: str
    title_zh: str
    detail_zh: str
    explain_en: str
    explain_zh: str
    todo_en: str
    todo_zh: str

    def detail_in_zh(self, facts: dict[str, object]) -> str:
        """The Chinese detail with the problem's facts filled in (a missing fact drops the template)."""
        names = _PLACEHOLDER.findall(self.detail_zh)
        if any(facts.get(n) is None for n in names):
            return self.explain_zh
        return _PLACEHOLDER.sub(lambda m: str(facts[m.group(1)]), self.detail_zh)


@lru_cache(maxsize=1)
def problem_texts() -> dict[str, ProblemText]:
    """Every problem code's texts; a missing or empty field fails loudly at startup."""
    raw = tomllib.loads(files("app").joinpath("data/problems.toml").read_text(encoding="utf-8"))
    texts: dict[str, ProblemText] = {}
    for code, entry in raw.items():
        missing = [f for f in _FIELDS if not str(entry.get(f, "")).strip()]
        unknown = set(entry) - set(_FIELDS)
        if missing or unknown:
            raise ValueError(f"problems.toml [{code}]: missing {missing}, unknown {sorted(unknown)}")
        texts[code] = ProblemText(code=code, **{f: str(entry[f]).strip() for f in _FIELDS})
    return texts


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """Language ranges with their q-values, best first (stable for equal q); a malformed q drops its range."""
    ranges: list[tuple[str, float, int]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        tag = tag.lower()
        if not tag:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = float(value) if _QVALUE.fullmatch(value.strip()) else 0.0
        ranges.append((tag, q, i))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(tag, q) for tag, q, _ in ranges if q > 0]


def negotiate(header: str | None) -> Lang:
    """`zh` when the first acceptable range we serve is Chinese, else `en`."""
    for tag, _ in parse_accept_language(header):
        primary = tag.split("-")[0]
        if primary == "zh":
            return "zh"
        if primary == "en" or tag == "*":
            return "en"
    return "en"
