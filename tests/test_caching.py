"""`text_cache`: repeated short texts are remembered, long ones never kept alive by the cache."""
from __future__ import annotations

import gc
import weakref

import pytest

from extractors.caching import MAX_CACHED_CHARS, remember, text_cache
from extractors.normalize import label_key, nfkc


class Text(str):
    """A str that can be weakly referenced, to see whether the cache keeps it."""


@pytest.mark.parametrize("arity", [1, 2])
def test_short_calls_are_cached_and_long_ones_are_not(arity: int) -> None:
    """One-text functions take the wrapper's fast path, others the general one: the same answers either way,
    by position or by name (a call by name is its own entry), and a long text is never remembered."""
    calls: list[str] = []

    if arity == 1:
        @text_cache(maxsize=4)
        def upper(text: str) -> str:
            calls.append(text)
            return text.upper()
    else:
        @text_cache(maxsize=4)
        def upper(text: str, suffix: str = "") -> str:
            calls.append(text)
            return text.upper() + suffix

    assert upper("ab") == upper("ab") == upper(text="ab") == "AB"
    long = "x" * (MAX_CACHED_CHARS + 1)
    assert upper(long) == upper(long) == long.upper()
    assert calls == ["ab", "ab", long, long]
    assert upper.cache_info().currsize == 2  # type: ignore[attr-defined]


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


def test_the_normalizers_answer_by_position_and_by_name() -> None:
    assert nfkc("１２３，") == nfkc(text="１２３，") == "123,"


def test_remember_empties_a_full_memo_at_once_and_keeps_it_bounded() -> None:
    memo: dict[int, int | None] = {}
    assert [remember(memo, k, k * 2, 3) for k in (1, 2, 3)] == [2, 4, 6] and len(memo) == 3
    assert remember(memo, 4, None, 3) is None  # full: emptied, then the new entry stored (None is a value)
    assert memo == {4: None}
    for k in range(100):
        remember(memo, k, k, 3)
        assert 0 < len(memo) <= 3 and memo[k] == k
