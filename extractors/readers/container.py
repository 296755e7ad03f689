"""The DOCX reader's ZIP and XML safety checks, shared by every other ZIP-of-XML reader (ODT, ODS, XLSX, OFD).

One implementation of the bomb checks (entry count, declared sizes, compression
ratio), the bounded part read and the entity-free XML parse; this module only
names the right format in the error messages.
"""
from __future__ import annotations

import zipfile
from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from ..errors import ExtractionError
from . import docx
from .options import ReadOptions

T = TypeVar("T")
SIDE_PART_BYTES = docx.SETTINGS.max_side_part_bytes


def _as(fmt: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ExtractionError as e:
        relabelled = type(e)(e.detail.replace("DOCX", fmt), **e.extra)
        raise relabelled from e


def check_zip(infos: list[zipfile.ZipInfo], options: ReadOptions, fmt: str) -> None:
    """Refuse zip bombs from the central directory alone, before anything is decompressed."""
    _as(fmt, lambda: docx._check_container(infos, options, docx.SETTINGS))


def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, fmt: str) -> bytes:
    """Decompress one member with a hard byte bound that does not trust its header."""
    return _as(fmt, lambda: docx._read_part(zf, info, limit))


def parse_xml(raw: bytes, what: str, fmt: str) -> etree._Element:
    """Parse XML without entities, DTDs or network access; deep nesting is a resource-limit error."""
    return _as(fmt, lambda: docx._parse_xml(raw, what))
