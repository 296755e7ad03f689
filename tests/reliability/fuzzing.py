"""The fuzzing harness: corpus seeds, hypothesis mutation strategies, a guarded reader call, crash keeping.

A reader may return a `Document` or raise an `ExtractionError` subclass; any
other exception, or running past the per-example deadline, is a crash. A crash
input is written to `regressions/` (named `<format>-<sha1>.<format>`) before the
failure is reported, so `test_regressions.py` replays it from then on.
"""
from __future__ import annotations

import hashlib
import io
import signal
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf
from hypothesis import strategies as st

from extractors import ExtractionError, ReadOptions
from extractors.model import Document
from extractors.pipeline import extract_document
from extractors.readers import READERS

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
EXAMPLE_DEADLINE_SECONDS = 10.0  # one reader call on a mutated corpus file; real ones take < 0.5 s
INFLIGHT = Path(tempfile.gettempdir()) / "govreport-fuzz-inflight"  # survives a segfault for a human to pick up
SUFFIX = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "txt": ".txt", "md": ".md"}


class ReaderHang(BaseException):
    """Raised by the alarm: a BaseException so no `except Exception` in a reader can swallow it."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of wall time (SIGALRM; the main thread only)."""

    def on_alarm(signum: int, frame: object) -> None:
        raise ReaderHang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def keep_regression(fmt: str, data: bytes) -> Path:
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{fmt}-{hashlib.sha1(data).hexdigest()[:12]}{SUFFIX[fmt]}"
    path.write_bytes(data)
    return path


def run_reader(fmt: str, data: bytes, keep: bool = True) -> Document | ExtractionError:
    """Read `data` with the `fmt` reader and run the rest of the pipeline on the result.

    Returns the Document or the ExtractionError; anything else (or a hang) is
    saved as a regression when `keep` and re-raised as an AssertionError.
    """
    INFLIGHT.with_suffix(SUFFIX[fmt]).write_bytes(data)
    try:
        with deadline(EXAMPLE_DEADLINE_SECONDS):
            try:
                doc = READERS[fmt](data, ReadOptions())
            except ExtractionError as e:
                return e
            assert isinstance(doc, Document), type(doc)
            extract_document(doc)
            return doc
    except (Exception, ReaderHang) as e:
        if isinstance(e, ExtractionError):  # raised by a later stage on purpose
            return e
        where = keep_regression(fmt, data) if keep else None
        raise AssertionError(f"{fmt} reader crashed with {type(e).__name__}: {e} (input kept as {where})") from e


# ---- seeds -------------------------------------------------------------------------------------------


def _uncompressed_pdf(data: bytes) -> bytes:
    """The same PDF with plain-text content streams, so byte mutations hit drawing operators too."""
    buf = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(buf, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 stream_decode_level=pikepdf.StreamDecodeLevel.generalized)
    return buf.getvalue()


def seeds(corpus: Path, fmt: str, count: int = 2) -> list[bytes]:
    """The `count` smallest corpus files of a format (plus an uncompressed copy of each PDF)."""
    # reports only (the corpus also holds its README and pages that are not reports, refused as such)
    reports = {g.stem for g in (corpus / "gold").glob("*.json")}
    paths = sorted((p for p in corpus.rglob(f"*{SUFFIX[fmt]}") if "gold" not in p.parts and p.name.split(".")[0] in reports),
                   key=lambda p: p.stat().st_size)
    out = [p.read_bytes() for p in paths[:count]]
    assert out, f"no {fmt} seed in the corpus"
    if fmt == "pdf":
        out += [_uncompressed_pdf(d) for d in out[:1]]
    return out


# ---- byte-level mutations --------------------------------------------------------------------------

TOKENS: dict[str, list[bytes]] = {
    "pdf": [b"obj", b"endobj", b"<<", b">>", b"[", b"]", b"R", b" 0 R", b"stream\n", b"endstream", b"/Kids",
            b"/Count 999999999", b"/Length 99999999", b"BT", b"ET", b"Tj", b"TJ", b"Tf", b"-1e308", b"\x00"],
    "docx": [b"<w:tbl>", b"</w:tbl>", b"<w:tr>", b"<w:tc>", b'<w:gridSpan w:val="99999"/>', b'<w:vMerge/>',
             b"<w:p>", b"</w:p>", b"&amp;", b"&#0;", b"<!DOCTYPE x>", b"\x00", b"\xff\xfe"],
    "html": [b"<table>", b"</table>", b"<tr>", b"<td colspan=99999>", b"<td rowspan=65535>", b"<br>", b"&#0;",
             b"&#xD800;", b"<meta charset=utf-16>", b"<meta charset=gbk>", b"<!--", b"-->", b"\x00", b"\xff\xfe"],
    "txt": [b"\t", b"\n", b"\r", b"\r\n\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\xa1", b"\x81\x30"],
    "md": [b"|", b"\n|---|---|\n", b"# ", b"<table><tr><td colspan=999>", b"</td></tr></table>", b"\\|", b"<br>",
           b"**", b"[x](y)", b"\x00", b"\n- 3 -\n"],
}


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes, tokens: list[bytes]) -> bytes:
    """Apply 1–4 of: truncate, flip bytes, delete a chunk, duplicate a chunk, splice in a token."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        n = len(out)
        op = draw(st.sampled_from(["truncate", "flip", "delete", "duplicate", "token"]))
        pos = draw(st.integers(0, n - 1))
        if op == "truncate":
            del out[pos:]
        elif op == "flip":
            for k in range(draw(st.integers(1, 16))):
                out[(pos + k * 97) % n] = draw(st.integers(0, 255))
        elif op == "delete":
            del out[pos : pos + draw(st.integers(1, 4096))]
        elif op == "duplicate":
            chunk = out[pos : pos + draw(st.integers(1, 4096))]
            at = draw(st.integers(0, n))
            out[at:at] = chunk * draw(st.integers(1, 8))
        else:
            at = draw(st.integers(0, n))
            out[at:at] = draw(st.sampled_from(tokens)) * draw(st.integers(1, 50))
    return bytes(out)


# ---- zip-level mutations (DOCX) ---------------------------------------------------------------------


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _zip(entries: list[tuple[str, bytes]], compression: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, body in entries:
            z.writestr(zipfile.ZipInfo(name), body, compress_type=compression)
    return buf.getvalue()


@st.composite
def docx_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Tamper with the package: mutate an entry's XML, drop/duplicate/rename entries, then maybe the zip bytes."""
    entries = _entries(data)
    for _ in range(draw(st.integers(1, 3))):
        if not entries:
            break
        i = draw(st.integers(0, len(entries) - 1))
        name, body = entries[i]
        op = draw(st.sampled_from(["mutate", "mutate", "mutate", "drop", "duplicate", "rename", "empty"]))
        if op == "mutate":
            entries[i] = (name, draw(byte_mutation(body, TOKENS["docx"])))
        elif op == "drop":
            del entries[i]
        elif op == "duplicate":
            entries.insert(draw(st.integers(0, len(entries))), (name, draw(byte_mutation(body, TOKENS["docx"]))))
        elif op == "rename":
            entries[i] = (draw(st.sampled_from(["word/document.xml", "word/styles.xml", "word/numbering.xml",
                                                "_rels/.rels", "word/_rels/document.xml.rels", "../evil.xml",
                                                "/abs.xml", "word\\document.xml"])), body)
        else:
            entries[i] = (name, b"")
    out = _zip(entries, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of the time, damage the container too
        out = draw(byte_mutation(out, [b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"\xff\xff\xff\xff"]))
    return out


def mutations(fmt: str, seed_files: list[bytes]) -> st.SearchStrategy[bytes]:
    """Mutated inputs for one reader."""
    base = st.sampled_from(seed_files)
    if fmt == "docx":
        return base.flatmap(lambda d: st.one_of(docx_mutation(d), byte_mutation(d, TOKENS["docx"])))
    return base.flatmap(lambda d: byte_mutation(d, TOKENS[fmt]))
