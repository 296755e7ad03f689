"""The formats table: what is read (by which reader) and what is refused, why, and what to do instead.

Knowledge is data: the table lives in `extractors/data/formats.toml`, is loaded
into typed records and validated against the reader registry on load, so a
reader cannot be added without being listed, and a listed reader must exist.
The service serves it as `GET /v1/formats`; the README's table says the same.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Literal

from . import READERS


@dataclass(frozen=True, slots=True)
class FormatEntry:
    """One row of the formats table."""

    name: str
    extensions: tuple[str, ...]
    status: Literal["read", "refused"]
    reader: str | None = None  # registry key (the result's document.format) when read
    code: str | None = None  # the problem code when refused
    reason: str | None = None
    hint: str | None = None
    note: str | None = None


def parse_formats(text: str) -> tuple[FormatEntry, ...]:
    """Parse and validate the table; raises ValueError naming the first bad row."""
    rows = tomllib.loads(text).get("format", [])
    out = []
    for i, row in enumerate(rows):
        allowed = set(FormatEntry.__slots__)  # type: ignore[attr-defined]
        if set(row) - allowed:
            raise ValueError(f"formats.toml row {i}: unknown keys {sorted(set(row) - allowed)}")
        entry = FormatEntry(**{**row, "extensions": tuple(row.get("extensions", ()))})
        if entry.status == "read":
            if entry.reader not in READERS:
                raise ValueError(f"formats.toml row {i} ({entry.name}): reader {entry.reader!r} is not registered")
        elif entry.status == "refused":
            if not (entry.code and entry.reason and entry.hint):
                raise ValueError(f"formats.toml row {i} ({entry.name}): a refusal needs code, reason and hint")
        else:
            raise ValueError(f"formats.toml row {i}: status must be read or refused")
        if not entry.extensions or not all(e.startswith(".") for e in entry.extensions):
            raise ValueError(f"formats.toml row {i} ({entry.name}): extensions must start with a dot")
        out.append(entry)
    unlisted = set(READERS) - {e.reader for e in out if e.status == "read"}
    if unlisted:
        raise ValueError(f"formats.toml does not list the registered readers {sorted(unlisted)}")
    return tuple(out)


@lru_cache(maxsize=1)
def load_formats() -> tuple[FormatEntry, ...]:
    """The table shipped with the package (read once)."""
    return parse_formats(files("extractors").joinpath("data/formats.toml").read_text(encoding="utf-8"))
