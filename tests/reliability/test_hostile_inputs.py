"""Hostile and broken inputs through the real service: exact problem+json answer, bounded time and memory.

Every case is one row of `CASES` (data, not code): how to build the file, the
status and problem code it must get, and how long it may take. Each request is
sent over real HTTP to `python -m app` (production defaults: 50 MiB uploads,
500 pages, 60 s deadline) while the RSS of the server and of the workers is
sampled; a case passes only if the answer is exact AND the time and memory
stayed inside the bounds.
"""
from __future__ import annotations

import io
import json
import random
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import olefile
import pikepdf
import pytest
import scaling_inputs as S
from hostile_files import (
    MiB,
    docx_billion_laughs,
    docx_body,
    docx_huge_part,
    docx_lying_sizes,
    docx_malformed_xml,
    docx_many_entries,
    encrypted_docx_ole,
    html_billion_laughs,
    html_binary_garbage,
    html_deep_nesting,
    pdf_corrupt_streams,
    pdf_cyclic_pages,
    pdf_deep_nesting,
    pdf_encrypted,
    pdf_many_pages,
    pdf_self_referencing_streams,
    truncated,
    write_big_text,
)
from rel_support import Hosted, assert_problem, loadtest, peak_rss

WORKER_RSS_BOUND_KIB = 512 * 1024  # no hostile file may push a worker past this
SERVER_GROWTH_BOUND_KIB = 160 * 1024  # the event-loop process buffers at most one upload (50 MiB limit)
DEFAULT_UPLOAD_LIMIT = 50 * MiB
DEFAULT_MAX_PAGES = 500

PDF = "pdf/000_32e6960542ba4ec5.pdf"
DOCX = "docx/000_32e6960542ba4ec5.docx"
HTML = "html/000_32e6960542ba4ec5.html"


def _corpus_file(rel: str) -> Callable[[Path], bytes]:
    return lambda corpus: (corpus / rel).read_bytes()


def _pages_of_real_report(corpus: Path, pages: int) -> bytes:
    """A PDF of `pages` real report pages (the report repeated): the per-page cost of production files."""
    out = pikepdf.new()
    with pikepdf.open(corpus / PDF) as src:
        while len(out.pages) < pages:
            for page in src.pages[: pages - len(out.pages)]:
                out.pages.append(page)
        buf = io.BytesIO()
        out.save(buf)
    return buf.getvalue()


def _docx_parts_add_up(parts: int = 3, part_bytes: int = 80 * MiB) -> bytes:
    """Parts that each compress a plausible ~100x but together inflate past the 200 MiB total limit."""
    rng = random.Random(9)
    noise = rng.randbytes(8 * 1024)
    block = noise + b" " * (MiB - len(noise))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", docx_body(["正文"]))
        for k in range(parts):
            with z.open(f"word/media/blob{k}.bin", "w", force_zip64=True) as fh:
                for _ in range(part_bytes // MiB):
                    fh.write(block)
    return buf.getvalue()


@dataclass(frozen=True)
class Case:
    """One hostile input and the exact answer it must get."""

    id: str
    filename: str
    build: Callable[[Path], bytes]
    status: int
    code: str | None  # problem code; None for a 200
    seconds: float = 10.0  # wall-time bound of the request


CASES: list[Case] = [
    # PDF
    Case("pdf-truncated-half", "r.pdf", lambda c: truncated(_corpus_file(PDF)(c), 0.5), 422, "corrupt-file"),
    Case("pdf-truncated-tail", "r.pdf", lambda c: truncated(_corpus_file(PDF)(c), 0.99), 422, "corrupt-file"),
    Case("pdf-header-only", "r.pdf", lambda c: _corpus_file(PDF)(c)[:1024], 422, "corrupt-file"),
    Case("pdf-corrupt-content-streams", "r.pdf", lambda c: pdf_corrupt_streams(_corpus_file(PDF)(c)), 422, "no-text-layer"),
    Case("pdf-cyclic-page-tree", "r.pdf", lambda c: pdf_cyclic_pages(), 422, "corrupt-file"),
    Case("pdf-50000-deep-array", "r.pdf", lambda c: pdf_deep_nesting(), 422, "no-text-layer"),
    Case("pdf-self-referencing-objects", "r.pdf", lambda c: pdf_self_referencing_streams(), 422, "no-text-layer"),
    Case("pdf-encrypted-user-password", "r.pdf", lambda c: pdf_encrypted(_corpus_file(PDF)(c)), 422, "encrypted-file"),
    Case("pdf-owner-password-only", "r.pdf", lambda c: pdf_encrypted(_corpus_file(PDF)(c), user=""), 200, None),
    Case("pdf-2000-pages", "r.pdf", lambda c: pdf_many_pages(2000), 422, "too-many-pages"),
    Case("pdf-501-real-pages", "r.pdf", lambda c: _pages_of_real_report(c, DEFAULT_MAX_PAGES + 1), 422, "too-many-pages"),
    Case("pdf-500-real-pages", "r.pdf", lambda c: _pages_of_real_report(c, DEFAULT_MAX_PAGES), 200, None, 30.0),
    # DOCX
    Case("docx-truncated", "r.docx", lambda c: truncated(_corpus_file(DOCX)(c), 0.5), 422, "corrupt-file"),
    Case("docx-truncated-central-directory", "r.docx", lambda c: _corpus_file(DOCX)(c)[:-30], 422, "corrupt-file"),
    Case("docx-malformed-xml", "r.docx", lambda c: docx_malformed_xml(_corpus_file(DOCX)(c)), 422, "corrupt-file"),
    # word/ members make a DOCX (issue #16), so a package that lost its main part is a corrupt DOCX;
    # a ZIP with no word/ member at all is no format we read
    Case("docx-no-document-part", "r.docx", lambda c: _zip_without_body(), 422, "corrupt-file"),
    Case("zip-without-word-members", "r.docx", lambda c: _zip_of({"data/a.csv": "a,b\n1,2\n"}), 415, "unsupported-media-type"),
    Case("docx-zip-bomb-300MiB-part", "r.docx", lambda c: docx_huge_part(300 * MiB), 422, "resource-limit"),
    Case("docx-zip-bomb-parts-add-up", "r.docx", lambda c: _docx_parts_add_up(), 422, "resource-limit"),
    Case("docx-zip-bomb-5000-entries", "r.docx", lambda c: docx_many_entries(5000), 422, "resource-limit"),
    Case("docx-zip-bomb-lying-sizes", "r.docx", lambda c: docx_lying_sizes(_corpus_file(DOCX)(c)), 422, "corrupt-file"),
    Case("docx-billion-laughs", "r.docx", lambda c: docx_billion_laughs(), 422, "resource-limit"),
    Case("docx-password-protected-ole", "r.docx", lambda c: encrypted_docx_ole(), 422, "encrypted-file"),
    # HTML
    Case("html-truncated", "r.html", lambda c: truncated(_corpus_file(HTML)(c), 0.5), 200, None),
    Case("html-binary-garbage", "r.html", lambda c: html_binary_garbage(), 415, "unsupported-media-type"),
    Case("html-billion-laughs", "r.html", lambda c: html_billion_laughs(), 200, None),
    Case("html-100000-deep", "r.html", lambda c: html_deep_nesting(), 422, "resource-limit"),
    Case("html-declares-utf16-without-bom", "r.html", lambda c: _declaring(c, "utf-16"), 200, None),
    Case("html-declares-zlib-codec", "r.html", lambda c: _declaring(c, "zlib_codec"), 200, None),
    # anything
    Case("random-bytes-named-pdf", "r.pdf", lambda c: random.Random(1).randbytes(256 * 1024), 415, "unsupported-media-type"),
    Case("empty-file", "r.txt", lambda c: b"", 400, "empty-file"),
    # issue #16 (input half): tiny inputs that were a 500, a bomb that aborted a worker, misrouting
    Case("docx-gridspan-1e20", "r.docx", lambda c: S.docx_grid_span(), 422, "not-a-report"),
    Case("docx-list-negative-fullwidth", "r.docx", lambda c: S.docx_list("-５", "decimalFullWidth"), 422, "not-a-report"),
    Case("html-colspan-superscript", "r.html", lambda c: S.html_span("²"), 422, "not-a-report"),
    Case("text-5000-digit-number", "r.txt", lambda c: S.text_many_digits(), 422, "not-a-report"),
    Case("text-10000-numbers-in-a-sentence", "r.txt", lambda c: S.text_numbers_in_sentence(10_000), 422, "not-a-report"),
    Case("docx-styles-40000-deep", "r.docx", lambda c: S.docx_style_chain(40_000), 422, "resource-limit"),
    Case("docx-roman-list-from-2e9", "r.docx", lambda c: S.docx_list("2000000000", "upperRoman", 100), 422, "resource-limit"),
    Case("text-40000-tab-tables", "r.txt", lambda c: S.text_tab_tables(40_000), 422, "resource-limit"),
    Case("pdf-flate-bomb-1GiB", "r.pdf", lambda c: S.pdf_flate_bomb(1 << 30), 422, "resource-limit"),
    Case("pdf-500-pages-one-content-stream", "r.pdf", lambda c: S.pdf_shared_content(500), 422, "resource-limit"),
    Case("text-mentioning-pdf-header", "r.txt", lambda c: S.text_mentioning_pdf(), 200, None),
    Case("docx-main-part-named-by-rels", "r.docx", lambda c: S.docx_main_part_elsewhere(_corpus_file(DOCX)(c)), 200, None),
    Case("docx-first-entry-a-pdf", "r.docx", lambda c: S.docx_pdf_first(_corpus_file(DOCX)(c), _corpus_file(PDF)(c)), 200, None),
]


def _declaring(corpus: Path, charset: str) -> bytes:
    """A real page whose <meta> names `charset` (found by fuzzing: once a 500, see test_regressions.py)."""
    page = (corpus / HTML).read_bytes()
    out, n = re.subn(rb"charset=[\"']?[\w-]+[\"']?", b'charset="' + charset.encode() + b'"', page, count=1)
    assert n == 1
    return out


def _zip_of(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in entries.items():
            z.writestr(name, text)
    return buf.getvalue()


def _zip_without_body() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/styles.xml", "<styles/>")
    return buf.getvalue()


def test_password_protected_docx_fixture_is_a_real_ole2_container() -> None:
    """The hand-made CFB parses as OLE2 with the two streams Word writes for an encrypted .docx."""
    ole = olefile.OleFileIO(io.BytesIO(encrypted_docx_ole()))
    assert sorted(ole.listdir()) == [["EncryptedPackage"], ["EncryptionInfo"]]
    assert ole.get_size("EncryptionInfo") == 4096
    assert ole.openstream("EncryptionInfo").read(4) == b"\x04\x00\x04\x00"  # agile encryption, version 4.4


def _send(hosted: Hosted, filename: str, data: bytes) -> tuple[httpx.Response, float, dict[str, int]]:
    with hosted.client() as client, peak_rss(hosted.service) as peaks:
        t0 = time.monotonic()
        r = client.post("/v1/extract", files={"file": (filename, data)})
        elapsed = time.monotonic() - t0
    return r, elapsed, peaks


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_its_exact_answer_in_bounded_time_and_memory(
    hosted: Hosted, corpus: Path, case: Case
) -> None:
    data = case.build(corpus)
    r, elapsed, peaks = _send(hosted, case.filename, data)
    if case.code is None:
        assert r.status_code == 200, r.text[:500]
        assert r.headers["content-type"] == "application/json"
    else:
        assert_problem(r, case.status, case.code)
    assert elapsed < case.seconds, f"{case.id} took {elapsed:.1f} s"
    assert peaks["worker"] < WORKER_RSS_BOUND_KIB, f"{case.id}: worker peaked at {peaks['worker'] // 1024} MiB"
    assert r.headers["x-request-id"]


def test_billion_laughs_in_html_is_not_expanded(hosted: Hosted) -> None:
    """HTML has no DTD processing: the 10^9 'lol' entity stays a literal reference, nothing is expanded."""
    r, _, _ = _send(hosted, "r.html", html_billion_laughs())
    assert r.status_code == 200
    assert "lollollol" not in r.text
    assert len(r.content) < 64 * 1024


def test_too_many_pages_reports_the_limit(hosted: Hosted) -> None:
    r, _, _ = _send(hosted, "r.pdf", pdf_many_pages(2000))
    body = assert_problem(r, 422, "too-many-pages")
    assert body["pages"] == 2000 and body["max_pages"] == DEFAULT_MAX_PAGES


def test_500_real_pages_are_read_whole(hosted: Hosted, corpus: Path) -> None:
    """At the page limit the answer is a full success: every page read, the report's indicators found."""
    r, _, _ = _send(hosted, "r.pdf", _pages_of_real_report(corpus, DEFAULT_MAX_PAGES))
    assert r.status_code == 200
    body = r.json()
    assert body["document"]["pages"] == DEFAULT_MAX_PAGES
    single = httpx.post(hosted.url + "/v1/extract", files={"file": ("r.pdf", (corpus / PDF).read_bytes())}, timeout=60)
    assert {i["id"] for i in body["indicators"]} >= {i["id"] for i in single.json()["indicators"]}


# ---- text encodings --------------------------------------------------------------------------


def _utf8_report(corpus: Path) -> str:
    return min((corpus / "txt").glob("*.txt")).read_text(encoding="utf-8")


ENCODINGS = {
    "gbk": lambda s: s.encode("gbk"),
    "gb18030": lambda s: s.encode("gb18030"),
    "utf-16-le-bom": lambda s: b"\xff\xfe" + s.encode("utf-16-le"),
    "utf-16-be-bom": lambda s: b"\xfe\xff" + s.encode("utf-16-be"),
    "utf-16-le-no-bom": lambda s: s.encode("utf-16-le"),
    "utf-16-be-no-bom": lambda s: s.encode("utf-16-be"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_chinese_legacy_and_utf16_text_is_read_like_utf8(hosted: Hosted, corpus: Path, encoding: str) -> None:
    text = _utf8_report(corpus)
    with hosted.client() as client:
        want = client.post("/v1/extract", files={"file": ("r.txt", text.encode("utf-8"))})
        got = client.post("/v1/extract", files={"file": ("r.txt", ENCODINGS[encoding](text))})
    assert want.status_code == 200 and got.status_code == 200, got.text[:300]
    assert got.json() == want.json()
    assert len(want.json()["indicators"]) >= 50
    assert "年度报告" in want.json()["document"]["title"]


def test_gb18030_four_byte_characters_survive(hosted: Hosted, corpus: Path) -> None:
    """Characters outside GBK (4-byte GB18030 sequences) decode, not just the GBK subset."""
    rare = "𠮷䶮"
    text = _utf8_report(corpus) + f"\n联系人：{rare}\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    with hosted.client() as client:
        want = client.post("/v1/extract", files={"file": ("r.txt", text.encode("utf-8"))})
        got = client.post("/v1/extract", files={"file": ("r.txt", text.encode("gb18030"))})
    assert got.status_code == 200
    assert got.json() == want.json()


def test_random_bytes_with_zeros_are_not_taken_for_utf16(hosted: Hosted) -> None:
    """UTF-16 without a BOM is recognised by its zero bytes on one side; random bytes are not text."""
    import random

    rnd = random.Random(7)
    junk = bytes(rnd.choice([0, rnd.randrange(256)]) for _ in range(20000))
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": ("r.txt", junk)})
    assert_problem(r, 415, "unsupported-media-type")


# ---- 100 MB upload ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "report.txt"
    write_big_text(path, 100 * 1000 * 1000)
    return path


def _chunks(path: Path):
    with path.open("rb") as fh:
        while chunk := fh.read(256 * 1024):
            yield chunk


UPLOAD_STYLES = {
    "raw-with-length": lambda p: {"content": p.open("rb"), "headers": {"Content-Type": "text/plain"}},
    "raw-chunked": lambda p: {"content": _chunks(p), "headers": {"Content-Type": "text/plain"}},
    "multipart": lambda p: {"files": {"file": ("report.txt", p.open("rb"), "text/plain")}},
}


@pytest.mark.parametrize("style", list(UPLOAD_STYLES))
def test_100mb_text_is_413_without_buffering_it(hosted: Hosted, big_text: Path, style: str) -> None:
    assert big_text.stat().st_size == 100 * 1000 * 1000
    before = loadtest.rss_kib(hosted.service.pid)
    with hosted.client() as client, peak_rss(hosted.service) as peaks:
        t0 = time.monotonic()
        try:
            r = client.post("/v1/extract", **UPLOAD_STYLES[style](big_text))
        except httpx.WriteError:  # the server answered and closed while the body was still streaming
            pytest.fail("the server closed the connection without a problem response")
        elapsed = time.monotonic() - t0
    body = assert_problem(r, 413, "file-too-large")
    assert body["max_bytes"] == DEFAULT_UPLOAD_LIMIT
    assert elapsed < 20
    assert peaks["server"] - before < SERVER_GROWTH_BOUND_KIB, f"server grew {(peaks['server'] - before) // 1024} MiB"
    with hosted.client() as client:  # and the service is fine afterwards
        assert client.get("/readyz").status_code == 200


# ---- client file names ----------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini.txt",
    "/tmp/absolute-name.txt",
    "name\r\nX-Injected: 1.txt",
    "nul\x00byte.txt",
    "\x1b[31mansi\x07bell.txt",
    "a" * 1000 + ".txt",
    "报告/../../../x.txt",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_file_name_is_only_a_hint(hosted: Hosted, corpus: Path, name: str) -> None:
    data = min((corpus / "txt").glob("*.txt")).read_bytes()
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": (name, data)})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["document"]["format"] == "txt"
    assert "X-Injected" not in r.headers
    text = json.dumps(r.json(), ensure_ascii=False)
    assert not any(ch in text for ch in "\x00\x1b\x07\r")
    assert "passwd" not in text and "win.ini" not in text and "absolute-name" not in text


def test_hostile_names_in_raw_body_headers_and_query(hosted: Hosted, corpus: Path) -> None:
    """The other two ways a name arrives (Content-Disposition, `?filename=`) are hints only as well."""
    data = min((corpus / "txt").glob("*.txt")).read_bytes()
    with hosted.client() as client:
        by_header = client.post(
            "/v1/extract", content=data,
            headers={"Content-Disposition": 'attachment; filename="../../etc/shadow"', "Content-Type": "text/plain"},
        )
        by_query = client.post("/v1/extract", content=data, params={"filename": "/etc/../etc/shadow\x07"})
    for r in (by_header, by_query):
        assert r.status_code == 200, r.text[:300]
        assert "shadow" not in r.text


def test_file_name_longer_than_a_multipart_header_line_is_a_400(hosted: Hosted, corpus: Path) -> None:
    """python-multipart caps one part header line at 4224 bytes: a 5000-character name is a malformed body."""
    data = min((corpus / "txt").glob("*.txt")).read_bytes()
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": ("a" * 5000 + ".txt", data)})
    assert_problem(r, 400, "bad-request")
    assert "aaaa" not in r.text
