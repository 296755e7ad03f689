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


# ---- encrypted files that open without a password (issue #16) ------------------------------------------

import pdf_encrypted as E  # noqa: E402
from extractors.errors import EncryptedFileError  # noqa: E402
from extractors.readers import pdf as pdf_reader  # noqa: E402
from extractors.readers import pdf_crypt  # noqa: E402
from extractors.readers.options import ReadOptions  # noqa: E402
from tests.pdfbytes import encrypted_pdf, raw_pdf_objects  # noqa: E402


def _text_page(text: bytes = TEXT) -> list[bytes]:
    return raw_pdf_objects(_page(_stream(zlib.compress(text), b"/FlateDecode")))


@pytest.mark.parametrize("method", E.ALL_METHODS)
def test_an_encrypted_bomb_that_opens_without_a_password_is_refused_naming_its_cap(method: str) -> None:
    """The budget deciphers each stream with the key of the empty user password: the bombs are costed as pdfium
    would decode them (pdfium opens these files without asking for a password)."""
    small = encrypted_pdf(_text_page(), method)
    assert b"Budget 2023" not in small and b"BT /F1" not in small  # the content is ciphertext
    assert pdfium.PdfDocument(small)[0].get_textpage().get_text_range() == "Budget 2023"
    B.check(small)
    assert pdf_reader.read(small, ReadOptions()).blocks  # read normally
    for build, cap in ((E.flate_bomb, "max_stream_bytes"), (E.tounicode_fonts_bomb, "max_total_tounicode_codes")):
        with pytest.raises(ResourceLimitError) as e:
            B.check(build(method))
        assert e.value.extra["limit"] == cap and cap in str(e.value)


@pytest.mark.parametrize("method", E.ALL_METHODS)
def test_a_user_password_gives_no_key_and_stays_encrypted_file(method: str) -> None:
    data = encrypted_pdf(_text_page(), method, user=b"secret")
    assert pdf_crypt.file_keys(data) == []
    with pytest.raises(EncryptedFileError):
        pdf_reader.read(data, ReadOptions())


@pytest.mark.parametrize(("R", "aes"), [(4, True), (6, True)], ids=["qpdf-aesv2-r4", "qpdf-aesv3-r6"])
def test_keys_of_files_qpdf_encrypted_decipher_their_streams(R: int, aes: bool) -> None:
    """An independent writer (qpdf through pikepdf, random salts each run): the key the empty user password gives
    deciphers the page's content stream to the bytes pdfium reads."""
    import io
    import re

    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(_page(_stream(zlib.compress(TEXT), b"/FlateDecode")))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="", R=R, aes=aes), compress_streams=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable)
    data = out.getvalue()
    (key,) = pdf_crypt.file_keys(data)
    m = re.search(rb"4 0 obj\s*<<[^>]*/Length (\d+)[^>]*>>\s*stream\r?\n", data)
    assert m
    raw = data[m.end() : m.end() + int(m.group(1))]
    assert zlib.decompress(pdf_crypt.decrypt_stream(key, 4, 0, raw)) == TEXT


def test_a_decoy_encryption_dictionary_does_not_hide_a_bomb_in_the_clear() -> None:
    """An unencrypted bomb carrying a genuine-looking encryption dictionary that the trailer does not name: the
    budget costs each stream as stored too, and the larger counts."""
    decoy = encrypted_pdf(_text_page(), "rc4")
    enc_obj = raw_pdf_objects(decoy)[-1]
    fake = b"<< /Length 40 >>\nstream\n/Encrypt 7 0 R /ID [<%s> <%s>] padding..\nendstream" % (
        bytes(range(16)).hex().encode(), bytes(range(16)).hex().encode())
    bomb = raw_pdf_objects(S.pdf_flate_bomb(256 << 20)) + [fake, enc_obj]
    data = raw_pdf(bomb)
    assert pdf_crypt.file_keys(data)  # the decoy validates
    with pytest.raises(ResourceLimitError) as e:
        B.check(data)
    assert e.value.extra["limit"] == "max_stream_bytes"


def test_the_stream_length_is_what_is_costed_even_past_a_false_endstream() -> None:
    """Stored deflate blocks can carry the bytes `endstream`; pdfium reads `/Length` bytes, and so does the budget
    (it used to stop at the first `endstream` and see a few bytes of a 256 MiB bomb)."""
    text = b"BT /F1 12 Tf 72 720 Td (2023) Tj ET\nendstream\n"
    stored = zlib.compressobj(0, wbits=-15)  # raw deflate: a stored (literal) block, not final, byte-aligned
    out = b"\x78\x01" + stored.compress(text) + stored.flush(zlib.Z_FULL_FLUSH)
    packed, adler = zlib.compressobj(9, wbits=-15), zlib.adler32(text)
    block = b" " * (1 << 20)
    for _ in range(256):
        out += packed.compress(block)
        adler = zlib.adler32(block, adler)
    out += packed.flush() + adler.to_bytes(4, "big")
    assert out.index(b"endstream") < 100 < len(out)
    assert len(zlib.decompress(out)) > 256 << 20
    data = _page(_stream(out, b"/FlateDecode"))
    with pytest.raises(ResourceLimitError) as e:
        B.check(data)
    assert e.value.extra["limit"] == "max_stream_bytes"


def test_names_written_with_hex_escapes_are_read_as_pdfium_reads_them() -> None:
    """`/F#69lter /Fl#61teDecode` is `/Filter /FlateDecode` to pdfium; a bomb behind it is still costed."""
    data = S.pdf_flate_bomb(256 << 20).replace(b"/Filter /FlateDecode", b"/F#69lter /Fl#61teDecode", 1)
    assert b"/Filter" not in data
    with pytest.raises(ResourceLimitError):
        B.check(data)


@pytest.mark.parametrize("junk", [b"/ID[(", b"/ID [(\\\\\\\\", b"/Encrypt 1 0 R ", b"/Encrypt <<", b"/Encr#79pt 1 0 R "],
                         ids=["unclosed-ids", "escaped-ids", "encrypt-refs", "inline-encrypts", "escaped-encrypt-refs"])
def test_looking_for_the_encryption_dictionary_is_linear_in_the_file(junk: bytes) -> None:
    """Millions of `/ID[(` or `/Encrypt` claims cost a bounded number of parses (it was minutes for 20 MB)."""
    import time

    data = b"%PDF-1.7\n/Encrypt 5 0 R\n" + junk * ((8 << 20) // len(junk))
    t0 = time.process_time()
    assert pdf_crypt.file_keys(data) == []
    assert time.process_time() - t0 < 2.0


def test_last_object_header_is_the_regex_scans_last_match() -> None:
    import random

    rnd = random.Random(7)
    alphabet = [b"1", b"0", b"12", b" ", b"\n", b"\r\n", b"\t", b"obj", b"objx", b"x", b"_", b"<<", b"endobj", b"stream"]
    for _ in range(20000):
        head = b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        matches = list(B._OBJ.finditer(head))
        want = (matches[-1].start(), int(matches[-1].group(1)), int(matches[-1].group(2))) if matches else None
        assert B._last_obj(head) == want, head
