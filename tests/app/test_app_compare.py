"""POST /v1/compare over real HTTP: spooled like /v1/extract, bounded in files and bytes, precise problems.

A live uvicorn server (see `app_live`) with a 600 kB upload limit and a 1 MiB
spool quota: the two hongze PDFs (240 and 294 kB) fit, so the comparison is
checked against their real values, and the spool's peak proves the bytes went to
disk rather than into memory; the same quota refuses three large files.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_live import LiveServer

from app import Settings
from app.compare import MAX_FILES

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = LiveServer(Settings(workers=1, max_queue=4, max_upload_bytes=600_000, spool_quota_mb=1,
                                 request_deadline_seconds=60)).start()
    yield server
    server.stop()


def _files(corpus: Path, *names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (Path(n).name, (corpus / n).read_bytes(), "application/octet-stream")) for n in names]


def _problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    return resp.json()


def test_two_years_of_one_agency_compared_from_spooled_files(live: LiveServer, corpus: Path) -> None:
    files = _files(corpus, "pdf/hongze_2024.pdf", "pdf/hongze_2023.pdf")  # out of order: sorted by year
    spool = live.app.state.spool
    with live.client() as client:
        resp = client.post("/v1/compare", files=files)
        assert resp.status_code == 200, resp.text
        pair = resp.json()["pairs"][0]
        assert (pair["before"]["year"], pair["after"]["year"]) == (2023, 2024)
        new = next(c for c in pair["changes"] if c["id"] == "requests.new.total")
        assert (new["before"], new["after"], new["delta"]) == (21, 95, 74)  # gold: hongze_2023 21, hongze_2024 95
        assert new in pair["largest_moves"] and new["label_zh"].startswith("一、本年新收")
        assert spool.peak_bytes >= sum(len(f[1][1]) for f in files)  # the bodies went to the spool on disk
        assert spool.used_bytes == 0 and not any(spool.directory.iterdir())  # and are gone afterwards
        md = client.post("/v1/compare?format=markdown", files=files)
        assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
        assert md.text.startswith("# Year-over-year comparison") and "| requests.new.total | 一、本年新收" in md.text
        html = client.post("/v1/compare", params={"format": "html"}, files=files)
        assert html.headers["content-type"].startswith("text/html") and "<table>" in html.text


def test_bad_requests_get_precise_problems(live: LiveServer, corpus: Path) -> None:
    txt = _files(corpus, "txt/004_ea52101856a8af1f.txt")
    with live.client() as client:
        one = _problem(client.post("/v1/compare", files=txt), 400)
        assert "got 1" in one["detail"]
        many = _problem(client.post("/v1/compare", files=txt * (MAX_FILES + 1)), 400)
        assert f"More than {MAX_FILES} files" in many["detail"]
        empty = _problem(client.post("/v1/compare", files=[*txt, ("files", ("empty.txt", b"", "text/plain"))]), 400)
        assert empty["type"].endswith("/empty-file") and "empty.txt" in empty["detail"]
        raw = _problem(client.post("/v1/compare", content=b"not a form", headers={"content-type": "text/plain"}), 400)
        assert "multipart/form-data" in raw["detail"]
        big = _problem(client.post("/v1/compare", files=[*txt, ("files", ("big.txt", b"x" * 700_000, "text/plain"))]), 413)
        assert "600000" in big["detail"]
        not_report = _problem(client.post("/v1/compare", files=[*txt, *_files(corpus, "not_reports/news_article.txt")]), 422)
        assert not_report["file"] == "news_article.txt" and not_report["type"].endswith("/not-a-report")
        fmt = client.post("/v1/compare?format=pdf", files=txt * 2)
        assert fmt.status_code == 400 and fmt.headers["content-type"].startswith(PROBLEM)
    assert live.app.state.spool.used_bytes == 0 and not any(live.app.state.spool.directory.iterdir())


def test_a_refusal_before_the_body_is_read_never_resets_the_client(live: LiveServer, corpus: Path) -> None:
    """?format=pdf is refused from the query alone while the files may still be arriving, on a kept-alive
    connection after a worker's 422: the live server is the one `python -m app` runs, whose lingering close lets
    the client read every 400 (uvicorn's plain protocol reset a few in a hundred such pairs)."""
    txt = _files(corpus, "txt/004_ea52101856a8af1f.txt") * 2
    nr = [txt[0], *_files(corpus, "not_reports/news_article.txt")]
    statuses = []
    with live.client() as client:
        for _ in range(100):
            statuses.append(client.post("/v1/compare", files=nr).status_code)
            statuses.append(client.post("/v1/compare?format=pdf", files=txt).status_code)
    assert statuses == [422, 400] * 100


def test_the_spool_quota_bounds_a_comparison(live: LiveServer, corpus: Path) -> None:
    """Three ~290 kB PDFs and a 400 kB filler pass the 1 MiB spool: 503 with Retry-After, nothing left on disk."""
    files = _files(corpus, "pdf/000_32e6960542ba4ec5.pdf", "pdf/003_a1ca134a5abe9455.pdf", "pdf/004_ea52101856a8af1f.pdf")
    files.append(("files", ("filler.txt", b"x" * 400_000, "text/plain")))
    with live.client() as client:
        resp = client.post("/v1/compare", files=files)
    assert resp.status_code == 503 and resp.headers["content-type"].startswith(PROBLEM), resp.text
    assert "Retry-After" in resp.headers
    assert live.app.state.spool.used_bytes == 0
