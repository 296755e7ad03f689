"""Memo caches bounded in entries AND in bytes.

`functools.lru_cache(maxsize=n)` bounds the number of entries, but an entry keyed by a
49 MiB line (or a 5,000-digit cell) keeps that text alive until it is evicted, so a
worker's memory would depend on the largest input it ever saw. `text_cache` memoizes
only calls whose string arguments are short (labels, cells, titles: the repeated
ones); a long text is computed without being remembered.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MAX_CACHED_CHARS = 256


def text_cache(maxsize: int, max_chars: int = MAX_CACHED_CHARS) -> Callable[[F], F]:
    """An LRU cache of `maxsize` entries that skips calls with a string argument longer than `max_chars`."""

    def decorate(fn: F) -> F:
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for a in args:  # a plain loop: any() over a generator cost 3× the cache hit it guards
                if isinstance(a, str) and len(a) > max_chars:
                    return fn(*args, **kwargs)
            return cached(*args, **kwargs)

        wrapper.cache_info = cached.cache_info  # type: ignore[attr-defined]
        wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
