"""What a PDF will cost pdfium, measured on the raw bytes before pdfium sees them.

Why: pdfium inflates a page's content streams and a font's ToUnicode map whole,
in native code, where an allocation failure under the worker's memory limit is
an abort (a crashed worker), not an exception. So every Flate stream that is not
an image is inflated here first, in bounded chunks, and counted; ToUnicode ranges
are summed. Past a cap the file is refused with `ResourceLimitError` naming it.
Images are skipped: the text reader never decodes them.

The scan is linear in the file plus the inflated bytes it counts (which the caps
bound); it needs no PDF parser, because streams cannot be nested in object
streams, so every content stream is visible in the raw bytes.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from ..errors import ResourceLimitError


@dataclass(frozen=True, slots=True)
class PdfBudget:
    """Caps of the pre-check (frozen settings of this stage)."""

    max_stream_bytes: int = 64 * 1024 * 1024  # one inflated non-image stream (a page's content)
    max_total_stream_bytes: int = 256 * 1024 * 1024  # all inflated non-image streams together
    max_tounicode_codes: int = 1 << 17  # codes one ToUnicode CMap maps through bfrange/cidrange
    max_total_tounicode_codes: int = 1 << 21  # across the whole file
    dict_lookback: int = 4096  # how far before `stream` its dictionary is looked for
    chunk: int = 1 << 20


BUDGET = PdfBudget()

_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
_FLATE = re.compile(rb"/FlateDecode|/Fl\b")
_RANGES = re.compile(rb"begin(?:bf|cid)range(.*?)end(?:bf|cid)range", re.DOTALL)
_PAIR = re.compile(rb"<\s*([0-9A-Fa-f\s]{1,40})>\s*<\s*([0-9A-Fa-f\s]{1,40})>")


def _inflate(data: bytes, start: int, budget: PdfBudget, left: int) -> tuple[int, bytes]:
    """(inflated size, first bytes kept for the CMap check) of the zlib stream at `start`."""
    d = zlib.decompressobj()
    size, keep, pos, buf = 0, bytearray(), start, b""
    per_stream = left >= budget.max_stream_bytes
    cap = budget.max_stream_bytes if per_stream else left
    while True:
        if not buf:
            if pos >= len(data):
                break
            buf = data[pos : pos + budget.chunk]
            pos += len(buf)
        try:
            out = d.decompress(buf, budget.chunk)  # never more than one chunk out per call
        except zlib.error:
            break  # not (or no longer) a zlib stream: pdfium will see what we saw
        buf = d.unconsumed_tail
        size += len(out)
        if len(keep) < 4 * budget.chunk:
            keep += out[: 4 * budget.chunk - len(keep)]
        if size > cap:
            limit = "max_stream_bytes" if per_stream else "max_total_stream_bytes"
            raise ResourceLimitError(
                f"A PDF's content streams inflate past {cap} bytes (limit {limit}).", limit=limit
            )
        if d.eof:
            break
    return size, bytes(keep)


def _codes(cmap: bytes) -> int:
    total = 0
    for block in _RANGES.finditer(cmap):
        for lo, hi in _PAIR.findall(block.group(1)):
            a, b = int(b"".join(lo.split()) or b"0", 16), int(b"".join(hi.split()) or b"0", 16)
            total += max(0, b - a + 1)
    return total


def check(data: bytes, budget: PdfBudget = BUDGET) -> None:
    """Raise ResourceLimitError when the PDF's streams or ToUnicode maps pass a cap."""
    total = 0
    codes_total = 0

    def count_codes(cmap: bytes) -> None:
        nonlocal codes_total
        n = _codes(cmap)
        codes_total += n
        if n > budget.max_tounicode_codes or codes_total > budget.max_total_tounicode_codes:
            raise ResourceLimitError(
                f"A PDF font maps {n} character codes ({codes_total} in the file; limits "
                f"max_tounicode_codes={budget.max_tounicode_codes}, "
                f"max_total_tounicode_codes={budget.max_total_tounicode_codes}).",
                limit="max_tounicode_codes",
            )

    if b"range" in data:  # CMaps stored without compression
        count_codes(data)
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - budget.dict_lookback) : m.start()]
        head = head[head.rfind(b"obj") + 1 :] if b"obj" in head else head
        if not _FLATE.search(head) or _IMAGE.search(head):
            continue
        size, first = _inflate(data, m.end(), budget, budget.max_total_stream_bytes - total)
        total += size
        if b"range" in first:
            count_codes(first)
