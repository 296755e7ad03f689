"""readers.pdf_budget: what pdfium would allocate, measured before it runs (decoders, ToUnicode costing)."""
from __future__ import annotations

import base64
import sys
import zlib
from pathlib import Path

import pytest
import pypdfium2 as pdfium

from extractors.errors import ResourceLimitError
from extractors.readers import pdf_budget as B
from tests.pdfbytes import raw_pdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
import scaling_inputs as S  # noqa: E402 - the hostile builders live with the reliability suite

TEXT = b"BT /F1 12 Tf 72 720 Td (Budget 2023) Tj ET"


def _page(stream: bytes) -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def _stream(body: bytes, filters: bytes) -> bytes:
    return b"<< /Length %d /Filter %s >>\nstream\n" % (len(body), filters) + body + b"\nendstream"


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        (b"/LZWDecode", S.lzw_encode),
        (b"[/ASCII85Decode /FlateDecode]", lambda d: base64.a85encode(zlib.compress(d), adobe=True)[2:]),
        (b"[/ASCIIHexDecode /FlateDecode]", lambda d: zlib.compress(d).hex().encode() + b">"),
        (b"/RunLengthDecode", lambda d: bytes([len(d) - 1]) + d + b"\x80"),
    ],
    ids=["lzw", "a85-flate", "ahx-flate", "runlength"],
)
def test_each_decoder_reads_what_pdfium_reads(filters: bytes, encode) -> None:
    data = _page(_stream(encode(TEXT), filters))
    assert pdfium.PdfDocument(data)[0].get_textpage().get_text_range() == "Budget 2023"  # the encoding is valid
    start = data.index(b"stream\n") + 7
    raw = data[start : data.index(b"\nendstream")]
    head = data[: start - 7]
    filt = B._filters(head[head.rfind(b"4 0 obj") :])
    assert filt is not None
    assert b"".join(B._decode(raw, filt, 1 << 20, 1 << 16)) == TEXT
    B.check(data)  # small: passes


def test_an_lzw_bomb_is_refused_without_decoding_it_whole() -> None:
    with pytest.raises(ResourceLimitError) as e:
        B.check(S.pdf_lzw_bomb(80 << 20))
    assert e.value.extra["limit"] == "max_stream_bytes"


def test_bfrange_codes_are_counted_as_pdfium_stores_them() -> None:
    """≤ 256 codes per range (pdfium keeps the high code's low byte), destinations not taken for range starts."""
    cmap = b"2 beginbfrange\n<0000> <00FF> <0041>\n<0100> <FFFF> <0042>\nendbfrange"
    assert B._codes(cmap) == 256 + 256
    assert B._codes(b"1 beginbfrange\n<00000000> <FFFFFFFF> <0041>\nendbfrange") == 256
    # one destination per code, each costed by its length (the third maps to two characters)
    assert B._codes(b"1 beginbfrange\n<0000> <0003> [<0041> <0042> <00430044> <0045>]\nendbfrange") == 5
    assert B._codes(b"1 beginbfrange\n<0000> <00FF> <00410042004300440045>\nendbfrange") == 256 * 5  # multi-char
    # an identity ToUnicode of a real font (two ranges) is far under the per-CMap cap
    assert B._codes(b"2 beginbfrange\n<0000> <00FF> <0000>\n<0100> <01FF> <0100>\nendbfrange") < B.BUDGET.max_tounicode_codes


def test_a_cmap_named_by_many_fonts_counts_once_per_font() -> None:
    few, many = S.pdf_tounicode_fonts(fonts=10), S.pdf_tounicode_fonts(fonts=250)
    B.check(few)  # 10 × 65,536 codes: under max_total_tounicode_codes
    with pytest.raises(ResourceLimitError) as e:
        B.check(many)
    assert e.value.extra["limit"] == "max_total_tounicode_codes"


def test_corpus_pdfs_pass_quickly(corpus: Path) -> None:
    import time

    pdfs = sorted((corpus / "pdf").glob("*.pdf"))
    assert pdfs
    for path in pdfs:
        t0 = time.process_time()
        B.check(path.read_bytes())
        assert time.process_time() - t0 < 1.0, path.name
