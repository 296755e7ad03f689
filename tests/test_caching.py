"""`text_cache`: repeated short texts are remembered, long ones never kept alive by the cache."""
from __future__ import annotations

import gc
import weakref

from extractors.caching import MAX_CACHED_CHARS, text_cache
from extractors.normalize import label_key, nfkc


class Text(str):
    """A str that can be weakly referenced, to see whether the cache keeps it."""


def test_short_calls_are_cached_and_long_ones_are_not() -> None:
    calls: list[str] = []

    @text_cache(maxsize=4)
    def upper(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert upper("ab") == upper("ab") == "AB"
    long = "x" * (MAX_CACHED_CHARS + 1)
    assert upper(long) == upper(long) == long.upper()
    assert calls == ["ab", long, long]
    assert upper.cache_info().currsize == 1  # type: ignore[attr-defined]


def test_a_huge_line_is_not_retained_by_the_normalizers() -> None:
    huge = Text("第一条 政府信息公开" * 100_000)
    ref = weakref.ref(huge)
    assert nfkc(huge) and label_key(huge) is not None
    del huge
    gc.collect()
    assert ref() is None, "a cache still holds the 1-MB line"



def test_the_fuzzy_alias_memo_keeps_no_long_label() -> None:
    """The alias scan is memoised for short labels only: a huge row label is scored and then let go."""
    from extractors import indicators

    aliases = indicators.rules().requests_rows
    short = "本年新收政府信息公开申请数量合计"  # a real wording, reworded enough to miss the exact index
    indicators._best(short, aliases)
    assert any(m[1] == short for m in indicators._FUZZY_MEMO)
    huge = Text("申请" * MAX_CACHED_CHARS)
    ref = weakref.ref(huge)
    assert indicators._best(huge, aliases) == indicators._best_fuzzy(huge, aliases, "", None)
    assert not any(len(m[1]) > MAX_CACHED_CHARS for m in indicators._FUZZY_MEMO)
    del huge
    gc.collect()
    assert ref() is None, "the memo still holds the huge label"


def test_a_one_text_function_is_cached_by_position_and_still_callable_by_name() -> None:
    """The one-parameter fast path: the same answers and the same skip of long texts, called either way."""
    calls: list[str] = []

    @text_cache(maxsize=4)
    def lower(text: str) -> str:
        calls.append(text)
        return text.lower()

    long = "Y" * (MAX_CACHED_CHARS + 1)
    assert lower("AB") == lower("AB") == lower(text="AB") == "ab"
    assert lower(long) == lower(long) == long.lower()
    assert calls == ["AB", "AB", long, long]  # the keyword call is its own cache entry, the long text none
    assert lower.cache_info().currsize == 2  # type: ignore[attr-defined]
    assert nfkc("１２３，") == nfkc(text="１２３，") == "123,"
