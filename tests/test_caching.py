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
