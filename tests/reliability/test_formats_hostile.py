"""Issue #12's readers (.doc/.wps, workbooks, .odt, .rtf, .mht, .ofd) under hostile input.

Two layers, as for the other readers:
- through the real service (`hosted`, production defaults): each hostile file gets its exact
  problem+json answer within a wall-time bound while the worker RSS stays under the same bound
  as test_hostile_inputs.py;
- in process, hypothesis mutations of real seeds (truncation, byte flips, chunk deletion and
  duplication, format tokens, ZIP entry tampering): a Document or an ExtractionError, never another
  exception, never past the per-example deadline of the fuzzing harness.
"""
from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from fuzzing import EXAMPLE_DEADLINE_SECONDS, ReaderHang, byte_mutation, deadline, docx_mutation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import Hosted, assert_problem, peak_rss

from extractors import ExtractionError, ReadOptions
from extractors.model import Document
from extractors.pipeline import extract_document
from extractors.readers import READERS, read
from extractors.readers.encoding import decode_text
from tests.readers import formats_build as fb

MiB = 1024 * 1024
WORKER_RSS_BOUND_KIB = 512 * 1024  # the same bound as test_hostile_inputs.py
OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


# ---- builders ---------------------------------------------------------------------------------------


def _shared(corpus: Path, name: str) -> bytes:
    return (corpus.parent / "formats" / name).read_bytes()


def _zip(members: dict[str, bytes | str], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


def _zip_bomb(members: dict[str, bytes | str], big: str, size: int = 64 * MiB) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
        with z.open(big, "w", force_zip64=True) as fh:
            for _ in range(size // MiB):
                fh.write(b" " * MiB)
    return buf.getvalue()


def _xlsx_far_cells() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "一、本年新收政府信息公开申请数量"
    wb.active["XFD1048576"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ods_repeat_bomb() -> bytes:
    cell = '<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384"><text:p>1</text:p></table:table-cell>'
    content = (f'<office:document-content {fb._ODT_NS}><office:body><office:spreadsheet><table:table table:name="s">'
               f'<table:table-row table:number-rows-repeated="1048576">{cell}</table:table-row>'
               "</table:table></office:spreadsheet></office:body></office:document-content>")
    return _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": content})


def _odt(content_body: str, stored: bool = True) -> bytes:
    content = (f'<office:document-content {fb._ODT_NS}><office:body><office:text>{content_body}'
               "</office:text></office:body></office:document-content>")
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content}, stored)


def _odt_billion_laughs() -> bytes:
    ents = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    content = (f'<?xml version="1.0"?><!DOCTYPE d [{ents}]><office:document-content {fb._ODT_NS}><office:body>'
               "<office:text><text:p>&a9;</text:p></office:text></office:body></office:document-content>")
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content})


def _mht_nested(levels: int) -> bytes:
    parts = [b"MIME-Version: 1.0\r\n"]
    for i in range(levels):
        parts.append(b'Content-Type: multipart/related; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    parts.append(b"Content-Type: text/html\r\n\r\n<p>x</p>\r\n")
    parts.extend(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return b"".join(parts)


def _ofd(page: str) -> bytes:
    return _zip({
        "OFD.xml": f"<ofd:OFD {OFD_NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<ofd:Document {OFD_NS}><ofd:Pages><ofd:Page BaseLoc="Pages/Page_0/Content.xml"/>'
                              "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f"<ofd:Page {OFD_NS}><ofd:Content><ofd:Layer>{page}</ofd:Layer></ofd:Content></ofd:Page>",
    })


def _ofd_deep_blocks(depth: int = 200) -> bytes:
    text = '<ofd:TextObject Boundary="0 0 50 10" Size="3"><ofd:TextCode X="0" Y="3">政府信息公开</ofd:TextCode></ofd:TextObject>'
    return _ofd("<ofd:PageBlock>" * depth + text + "</ofd:PageBlock>" * depth)


def _ofd_delta_bomb() -> bytes:
    deltas = " ".join(["g 1000000000 3"] * 2000)
    return _ofd(f'<ofd:TextObject Boundary="0 0 50 10" Size="3"><ofd:TextCode X="0" Y="3" DeltaX="{deltas}">'
                "年报</ofd:TextCode></ofd:TextObject>")


def _docx_doc(corpus: Path) -> Document:
    p = corpus / "variants" / "dev04.docx"
    return read(p.read_bytes(), p.name)


@dataclass(frozen=True)
class Case:
    id: str
    filename: str
    build: Callable[[Path], bytes]
    status: int
    code: str | None  # None: a 200
    seconds: float = 10.0


CASES: list[Case] = [
    # Word binary
    Case("doc-real", "r.doc", lambda c: _shared(c, "dev04.doc"), 200, None),
    Case("doc-truncated-half", "r.doc", lambda c: _shared(c, "dev04.doc")[: len(_shared(c, "dev04.doc")) // 2], 422, "corrupt-file"),
    Case("doc-word6", "r.doc", lambda c: fb.word6_from_doc(_shared(c, "dev04.doc")), 415, "legacy-word-format"),
    Case("doc-encrypted", "r.doc", lambda c: fb.encrypted_doc(_shared(c, "dev04.doc")), 422, "encrypted-file"),
    Case("wps-kingsoft", "r.wps", lambda c: fb.wps_from_doc(_shared(c, "dev04.doc")), 200, None),
    Case("wps-microsoft-works", "r.wps", lambda c: fb.works_from_doc(_shared(c, "dev04.doc")), 415, "works-document"),
    # workbooks
    Case("xlsx-real", "r.xlsx", lambda c: _shared(c, "dev04.xlsx"), 200, None),
    Case("xlsx-two-far-cells", "r.xlsx", lambda c: _xlsx_far_cells(), 422, "resource-limit"),
    Case("xlsx-zip-bomb", "r.xlsx", lambda c: _zip_bomb({"xl/workbook.xml": "<workbook/>"}, "xl/worksheets/sheet1.xml"), 422, "resource-limit"),
    Case("xls-truncated", "r.xls", lambda c: _shared(c, "dev04.xls")[:5000], 422, "corrupt-file"),
    Case("ole-magic-over-zeros", "r.xls", lambda c: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), 415, "unsupported-media-type"),
    Case("ods-repeated-cells-bomb", "r.ods", lambda c: _ods_repeat_bomb(), 422, "resource-limit"),
    # ODT
    Case("odt-real", "r.odt", lambda c: fb.odt_from_document(_docx_doc(c)), 200, None),
    Case("odt-100000-deep", "r.odt", lambda c: _odt("<text:p>" + "<text:span>" * 100_000 + "x" + "</text:span>" * 100_000 + "</text:p>"), 422, "resource-limit"),
    Case("odt-billion-laughs", "r.odt", lambda c: _odt_billion_laughs(), 422, "resource-limit"),
    Case("odt-zip-bomb", "r.odt", lambda c: _zip_bomb({"mimetype": "application/vnd.oasis.opendocument.text"}, "content.xml"), 422, "resource-limit"),
    # RTF
    Case("rtf-real", "r.rtf", lambda c: fb.rtf_from_document(_docx_doc(c)), 200, None),
    Case("rtf-100000-deep-groups", "r.rtf", lambda c: b"{\\rtf1 " + b"{" * 100_000 + b"x" + b"}" * 100_000 + b"}", 422, "resource-limit"),
    # MHT
    Case("mht-real", "r.mht", lambda c: fb.mht_from_html(decode_text((c / "variants" / "dev04.html").read_bytes()) or ""), 200, None),
    Case("mht-3000-nested-multiparts", "r.mht", lambda c: _mht_nested(3000), 422, "resource-limit"),
    # OFD
    Case("ofd-real", "r.ofd", lambda c: fb.ofd_from_pdf((c / "pdf" / "hongze_2024.pdf").read_bytes()), 200, None),
    Case("ofd-image-only", "r.ofd", lambda c: fb.ofd_from_pdf((c / "pdf" / "hongze_2024.pdf").read_bytes(), image_only=True), 422, "no-text-layer"),
    Case("ofd-200-deep-page-blocks", "r.ofd", lambda c: _ofd_deep_blocks(), 422, "resource-limit"),
    Case("ofd-deltax-bomb", "r.ofd", lambda c: _ofd_delta_bomb(), 422, "no-text-layer"),
    Case("ofd-zip-bomb", "r.ofd", lambda c: _zip_bomb({"OFD.xml": "<OFD/>"}, "Doc_0/Document.xml"), 422, "resource-limit"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_formats_hostile_input_gets_its_exact_answer(hosted: Hosted, corpus: Path, case: Case) -> None:
    data = case.build(corpus)
    with hosted.client() as client, peak_rss(hosted.service) as peaks:
        t0 = time.monotonic()
        r = client.post("/v1/extract", files={"file": (case.filename, data)})
        elapsed = time.monotonic() - t0
    if case.code is None:
        assert r.status_code == 200, r.text[:500]
    else:
        body = assert_problem(r, case.status, case.code)
        if case.code != "unsupported-media-type":  # the reader's own message names its own format
            assert "DOCX" not in body["detail"], body["detail"]
    assert elapsed < case.seconds, f"{case.id} took {elapsed:.1f} s"
    assert peaks["worker"] < WORKER_RSS_BOUND_KIB, f"{case.id}: worker peaked at {peaks['worker'] // 1024} MiB"


# ---- in-process fuzzing -----------------------------------------------------------------------------

TOKENS: dict[str, list[bytes]] = {
    "doc": [b"\x07", b"\x0d", b"\x13", b"\x14", b"\x15", b"\xff\xff\xff\xff", b"\x08\xd6", b"\x2b\xd6", b"\x00" * 64],
    "xls": [b"\x09\x08", b"\x03\x02", b"\xbd\x00", b"\xff\xff", b"\x00" * 32],
    "rtf": [b"{", b"}", b"\\trowd", b"\\cellx99999", b"\\clvmrg", b"\\cell", b"\\row", b"\\u-1?", b"\\uc9",
            b"\\'ff", b"\\bin99", b"{\\*\\x ", b"\\intbl", b"\\fcharset134"],
    "mht": [b"\r\n--", b"Content-Type: multipart/related; boundary=x\r\n", b"Content-Transfer-Encoding: base64\r\n",
            b"=\r\n", b"=FF", b"charset=zlib_codec", b"<table>", b"<td colspan=9999>"],
    "zip": [b"<table:table-cell table:number-columns-repeated=\"99999\">", b"table:number-rows-spanned=\"99999\"",
            b"<ofd:PageBlock>", b'DeltaX="g 99999999 1"', b"<!DOCTYPE x>", b"&#0;", b"\x00"],
}


def _seeds(corpus: Path) -> dict[str, list[bytes]]:
    docx = _docx_doc(corpus)
    return {
        "doc": [_shared(corpus, "000_32e6960542ba4ec5.doc")],
        "xls": [_shared(corpus, "000_32e6960542ba4ec5.xls")],
        "xlsx": [_shared(corpus, "000_32e6960542ba4ec5.xlsx")],
        "ods": [fb.ods_from_xlsx(_shared(corpus, "000_32e6960542ba4ec5.xlsx"))],
        "odt": [fb.odt_from_document(docx)],
        "rtf": [fb.rtf_from_document(docx)],
        "mht": [fb.mht_from_html(decode_text((corpus / "html" / "001_3b9418f33333a698.html").read_bytes()) or "")],
        "ofd": [fb.ofd_from_pdf((corpus / "pdf" / "hongze_2024.pdf").read_bytes())],
    }


EXAMPLES = {"doc": 150, "xls": 150, "xlsx": 80, "ods": 80, "odt": 100, "rtf": 150, "mht": 100, "ofd": 60}


def _guarded(fmt: str, data: bytes) -> str:
    try:
        with deadline(EXAMPLE_DEADLINE_SECONDS):
            try:
                doc = READERS[fmt](data, ReadOptions())
                extract_document(doc)
                return "read"
            except ExtractionError as e:
                return e.code
    except ReaderHang as e:
        raise AssertionError(f"{fmt} reader hung: {e}") from e


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
@pytest.mark.parametrize("fmt", sorted(EXAMPLES))
def test_formats_reader_survives_mutations(corpus: Path, fmt: str) -> None:
    seeds = _seeds(corpus)[fmt]
    zipped = fmt in ("xlsx", "ods", "odt", "ofd")
    tokens = TOKENS["zip" if zipped else fmt]
    strategy = st.sampled_from(seeds).flatmap(
        lambda d: st.one_of(docx_mutation(d), byte_mutation(d, tokens)) if zipped else byte_mutation(d, tokens)
    )
    outcomes: dict[str, int] = {}

    @settings(max_examples=EXAMPLES[fmt], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=strategy)
    def reads_or_refuses(data: bytes) -> None:
        outcome = _guarded(fmt, data)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    reads_or_refuses()
    assert sum(outcomes.values()) >= EXAMPLES[fmt] // 2, outcomes


@pytest.mark.parametrize("fmt", sorted(EXAMPLES))
def test_formats_random_and_truncated_bytes(corpus: Path, fmt: str) -> None:
    seed = _seeds(corpus)[fmt][0]
    for k in range(1, 20):
        assert _guarded(fmt, seed[: len(seed) * k // 20]) in {"read"} | _CODES, fmt
    magic = seed[:8]
    for n in (16, 600, 4096):
        assert _guarded(fmt, magic + bytes(range(256)) * (n // 256 + 1)) in {"read"} | _CODES


_CODES = {"corrupt-file", "encrypted-file", "no-text-layer", "resource-limit", "too-many-pages", "unreadable-document",
          "legacy-word-format", "works-document", "unsupported-media-type", "not-a-report"}
