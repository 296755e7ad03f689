"""Nobody let in: no external entity or network fetch, no temp file left, names never paths, no content echoed.

All through the real service (`hosted`), which runs with its own empty working
directory and TMPDIR so every file it could create is visible here.
"""
from __future__ import annotations

import http.server
import io
import os
import random
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from hostile_files import (
    docx_body,
    docx_external_entity,
    docx_package,
    html_external_entity,
)
from rel_support import Hosted, assert_problem

MARKER = "LEAK-CANARY-5f1c2e9a"


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local file a hostile document tries to pull into the response."""
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(f"{MARKER} 政府信息公开 机密\n", encoding="utf-8")
    return path


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = f"<!ENTITY inner '{MARKER}'>{MARKER}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that records every fetch (a document must never make one)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.hits.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _docx_network_entity(url: str) -> bytes:
    prolog = f'<!DOCTYPE w:document [<!ENTITY % remote SYSTEM "{url}/dtd"> %remote; <!ENTITY net SYSTEM "{url}/ent">]>'
    return docx_package(docx_body(["政府信息公开工作年度报告 &net;"], prolog))


def _docx_xinclude(target: str) -> bytes:
    """No DTD at all: an XInclude element pointing at a local file (only fetched if XInclude were processed)."""
    xml = docx_body(["政府信息公开工作年度报告", "一、总体情况", "本年度主动公开政府信息。"]).replace(
        b"<w:body>",
        b'<w:body><w:p><w:r><w:t><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="'
        + target.encode() + b'" parse="text"/></w:t></w:r></w:p>',
    )
    return docx_package(xml)


def _docx_external_rels(target: str) -> bytes:
    """Relationships that point outside the package (a linked image/document)."""
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        f'Target="{target}" TargetMode="External"/></Relationships>'
    )
    return docx_package(docx_body(["政府信息公开工作年度报告", "一、总体情况", "本年度主动公开政府信息。"]), {"word/_rels/document.xml.rels": rels.encode()})


def _html_network(url: str) -> bytes:
    return (
        f'<!DOCTYPE html SYSTEM "{url}/doctype.dtd"><html><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{url}/style.css"><script src="{url}/app.js"></script>'
        f'<base href="{url}/"></head><body><p>政府信息公开工作年度报告</p><p>一、总体情况</p><img src="{url}/img.png">'
        f'<iframe src="{url}/frame.html"></iframe><p>&net;</p></body></html>'
    ).encode()


def test_docx_external_entity_to_a_local_file_is_refused_and_not_leaked(hosted: Hosted, secret_file: Path) -> None:
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": ("r.docx", docx_external_entity(secret_file))})
    assert_problem(r, 422, "resource-limit")
    assert MARKER not in r.text


def test_html_external_entity_to_a_local_file_is_not_leaked(hosted: Hosted, secret_file: Path) -> None:
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": ("r.html", html_external_entity(secret_file))})
    assert r.status_code == 200  # the page is read; the entity, iframe and object are not followed
    assert MARKER not in r.text
    assert "机密" not in r.text


@pytest.mark.parametrize("kind", ["docx-xinclude", "docx-external-relationship"])
def test_docx_without_dtd_never_pulls_a_local_file(hosted: Hosted, secret_file: Path, kind: str) -> None:
    data = _docx_xinclude(secret_file.as_uri()) if kind == "docx-xinclude" else _docx_external_rels(secret_file.as_uri())
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": ("r.docx", data)})
    assert r.status_code == 200, r.text[:300]
    assert MARKER not in r.text


def test_no_document_makes_a_network_request(hosted: Hosted, listener: str) -> None:
    """Parameter entities, external DTDs, stylesheets, images, frames: the listener must see zero fetches."""
    with hosted.client() as client:
        docx = client.post("/v1/extract", files={"file": ("r.docx", _docx_network_entity(listener))})
        html = client.post("/v1/extract", files={"file": ("r.html", _html_network(listener))})
        rels = client.post("/v1/extract", files={"file": ("r.docx", _docx_external_rels(listener + "/linked.png"))})
    assert_problem(docx, 422, "resource-limit")
    assert html.status_code == 200 and rels.status_code == 200
    for r in (docx, html, rels):
        assert MARKER not in r.text
    assert _Recorder.hits == []
    # the listener itself works: a fetch from here is recorded (so zero above means zero)
    assert httpx.get(listener + "/probe").status_code == 200
    assert _Recorder.hits == ["/probe"]
    _Recorder.hits.clear()


# ---- errors never echo content ----------------------------------------------------------------------


def _with_marker(kind: str) -> tuple[str, bytes, int, str]:
    rng = random.Random(4)
    m = MARKER.encode()
    if kind == "corrupt-pdf":
        return "r.pdf", b"%PDF-1.7\n1 0 obj << /Title (" + m + b") " + rng.randbytes(2000) + m, 422, "corrupt-file"
    if kind == "corrupt-docx":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", b"<w:document><w:body>" + m + b"<unclosed>")
        return "r.docx", buf.getvalue(), 422, "corrupt-file"
    if kind == "damaged-zip":
        return "r.docx", b"PK\x03\x04" + m + rng.randbytes(3000) + m, 422, "corrupt-file"
    if kind == "unknown-binary":
        return "r.bin", b"\x00\x01" + m + rng.randbytes(3000), 415, "unsupported-media-type"
    if kind == "html-garbage":
        junk = bytes(b for b in rng.randbytes(20_000) if b not in (0, 60, 62))
        return "r.html", b"<html><body><p>" + m + b"</p>" + junk + b"</body></html>", 415, "unsupported-media-type"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["corrupt-pdf", "corrupt-docx", "damaged-zip", "unknown-binary", "html-garbage"])
def test_error_bodies_never_echo_file_content(hosted: Hosted, kind: str) -> None:
    name, data, status, code = _with_marker(kind)
    assert MARKER.encode() in data
    with hosted.client() as client:
        r = client.post("/v1/extract", files={"file": (name, data)})
    assert_problem(r, status, code)
    assert MARKER not in r.text
    assert all(MARKER not in v for v in r.headers.values())


# ---- files on disk ------------------------------------------------------------------------------------


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _open_temp_files(pids: list[int], tmpdir: Path) -> list[str]:
    """Files under `tmpdir` (or already deleted) that the processes still hold open; the forkserver socket aside."""
    out = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if (target.startswith(str(tmpdir)) or target.endswith("(deleted)")) and "pymp-" not in target:
                out.append(f"{pid}:{target}")
    return out


def test_no_temporary_file_is_left_behind(hosted: Hosted, corpus: Path) -> None:
    """A batch of uploads (small, over the 1 MiB multipart spool size, broken, refused) leaves TMPDIR as it was."""
    before = _snapshot(hosted.tmpdir)
    report = min((corpus / "txt").glob("*.txt")).read_bytes()
    big = (report + b"\n" * (3 * 1024 * 1024))[: 3 * 1024 * 1024]  # one report padded past the spool size: spooled to disk
    batch = [("r.txt", big), ("r.pdf", b"%PDF-1.7 broken"), ("r.docx", b"PK\x03\x04broken"), ("r.bin", os.urandom(4096))]
    batch += [(p.name, p.read_bytes()) for fmt in ("pdf", "docx", "html") for p in sorted((corpus / fmt).iterdir())[:2]]
    statuses = []
    with hosted.client() as client:
        for name, data in batch:
            statuses.append(client.post("/v1/extract", files={"file": (name, data)}).status_code)
            statuses.append(client.post("/v1/extract", content=data, params={"filename": name}).status_code)
        statuses.append(client.post("/v1/extract", files={"file": ("big.txt", b"x" * (51 * 1024 * 1024))}).status_code)
    assert statuses.count(200) >= 2 * 7 and 413 in statuses and 422 in statuses and 415 in statuses
    assert _snapshot(hosted.tmpdir) == before
    pids = [hosted.service.pid, *hosted.service.worker_pids()]
    assert _open_temp_files(pids, hosted.tmpdir) == []


def test_client_file_names_never_become_paths(hosted: Hosted, corpus: Path) -> None:
    """Traversal and absolute names create nothing: not in the service's working directory, not where they point."""
    data = min((corpus / "txt").glob("*.txt")).read_bytes()
    target = hosted.tmpdir.parent / "pwned-by-name.txt"
    names = [f"../{target.name}", str(target), f"..\\..\\{target.name}", f"{'../' * 12}{str(target).lstrip('/')}"]
    cwd_before = _snapshot(hosted.cwd)
    with hosted.client() as client:
        for name in names:
            assert client.post("/v1/extract", files={"file": (name, data)}).status_code == 200
            assert client.post("/v1/extract", content=data, params={"filename": name}).status_code == 200
    assert not target.exists()
    assert _snapshot(hosted.cwd) == cwd_before == set()

