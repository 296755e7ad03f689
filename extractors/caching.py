"""Memo caches bounded in entries AND in bytes.

`functools.lru_cache(maxsize=n)` bounds the number of entries, but an entry keyed by a
49 MiB line (or a 5,000-digit cell) keeps that text alive until it is evicted, so a
worker's memory would depend on the largest input it ever saw. `text_cache` memoizes
only calls whose string arguments are short (labels, cells, titles: the repeated
ones); a long text is computed without being remembered.
"""
from __future__ import annotations

from collections.abc import Callable
import inspect
from functools import lru_cache, wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
K = TypeVar("K")
V = TypeVar("V")

MAX_CACHED_CHARS = 256


def text_cache(maxsize: int, max_chars: int = MAX_CACHED_CHARS) -> Callable[[F], F]:
    """An LRU cache of `maxsize` entries that skips calls with a string argument longer than `max_chars`."""

    def decorate(fn: F) -> F:
        cached = lru_cache(maxsize=maxsize)(fn)

        def general(*args: Any, **kwargs: Any) -> Any:
            for a in args:  # a plain loop: any() over a generator cost 3× the cache hit it guards
                if isinstance(a, str) and len(a) > max_chars:
                    return fn(*args, **kwargs)
            return cached(*args, **kwargs)

        def one(arg: Any = _NO_ARG, /, **kwargs: Any) -> Any:
            """`general` for a function of one parameter, without packing *args (a hit costs ~30 % less)."""
            if kwargs or arg is _NO_ARG:  # called by name
                return general(*(() if arg is _NO_ARG else (arg,)), **kwargs)
            if isinstance(arg, str) and len(arg) > max_chars:
                return fn(arg)
            return cached(arg)

        wrapper: Any = wraps(fn)(one if _one_parameter(fn) else general)
        wrapper.cache_info = cached.cache_info
        wrapper.cache_clear = cached.cache_clear
        return wrapper  # type: ignore[no-any-return]

    return decorate


_NO_ARG = object()


def remember(memo: dict[K, V], key: K, value: V, size: int) -> V:
    """Store `value` under `key` in a hot memo, first emptying it when it holds `size` entries; returns `value`.

    For the memos whose hit must cost one bare `dict.get` (no wrapper, no LRU bookkeeping, and not a
    dict subclass, whose bound `get` costs ~50 % more): only a miss pays this call. Forgetting
    everything at once keeps the entry count bounded; the caller keeps the byte bound (short keys only).
    """
    if len(memo) >= size:
        memo.clear()
    memo[key] = value
    return value


def _one_parameter(fn: Callable[..., Any]) -> bool:
    """Whether `fn` takes exactly one parameter, by position or by name, without a default."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    return len(params) == 1 and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and params[0].default is inspect.Parameter.empty
