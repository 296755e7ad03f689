"""Pages that are not annual reports get the 422 not-a-report problem over HTTP; crawler text is read."""
from __future__ import annotations

from pathlib import Path

from app_live import LiveServer

PROBLEM = "https://govreport-extract.dev/problems/"


def test_every_not_a_report_page_is_a_422_problem(server: LiveServer, corpus: Path) -> None:
    with server.client() as client:
        for p in sorted((corpus / "not_reports").iterdir()):
            r = client.post("/v1/extract", files={"file": (p.name, p.read_bytes())})
            assert r.status_code == 422, (p.name, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            body = r.json()
            assert body["type"] == PROBLEM + "not-a-report"
            assert "statistics-table rows recognised" in body["detail"]
            assert body["form_rows"] == 0 and body["evidence_score"] < body["threshold"]


def test_crawler_text_is_a_report_over_http(server: LiveServer, corpus: Path) -> None:
    p = corpus / "crawler" / "001_3b9418f33333a698.crawler.txt"
    with server.client() as client:
        r = client.post("/v1/extract", content=p.read_bytes(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["document"]["agency"]["value"] == "象山县人民政府办公室"
    assert {i["id"]: i["value"] for i in body["indicators"]}["request.received.total"] == 12
