"""`Accept: text/csv` on /v1/extract: the indicator rows (app/routes.py), checked against the gold of real files."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.catalogue import load_catalogue
from app.routes import CSV_COLUMNS

FILES = ["docx/000_32e6960542ba4ec5.docx", "pdf/hongze_2023.pdf", "html/003_a1ca134a5abe9455.html"]


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())  # a BOM, so spreadsheet programs read the Chinese labels as UTF-8
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.mark.parametrize("name", FILES)
def test_csv_rows_are_the_indicators(server: object, corpus: Path, name: str) -> None:
    data = (corpus / name).read_bytes()
    gold = json.loads((corpus / "gold" / (Path(name).stem + ".json")).read_text(encoding="utf-8"))["indicators"]
    with server.client() as c:
        r = c.post("/v1/extract", files={"file": (Path(name).name, data)}, headers={"Accept": "text/csv"})
        as_json = c.post("/v1/extract", files={"file": (Path(name).name, data)}).json()
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert b"\r\n" in r.content
    rows = _rows(r.content)
    assert [row["id"] for row in rows] == [i["id"] for i in as_json["indicators"]]
    for row, ind in zip(rows, as_json["indicators"], strict=True):
        assert _number(row["value"]) == ind["value"]
        assert abs(float(row["confidence"]) - ind["confidence"]) < 0.0006
        assert row["label"] == (ind["label"] or "") and row["unit"] == (ind["unit"] or "")
        assert row["page"] == ("" if ind["source"]["page"] is None else str(ind["source"]["page"]))
    # `name` is the form's official label for the report's template
    template = as_json["document"]["template"]["value"]
    labels = {d.id: d.label.split(" / ") for d in load_catalogue().indicators}
    named = [row for row in rows if row["id"] in labels]
    assert named
    for row in named:
        parts = labels[row["id"]]
        assert row["name"] == (parts[-1] if template == "revised_2019" and len(parts) == 2 else parts[0])
    # the rows carry the report's real values: every printed total of the gold is there with its value
    totals = {k: v for k, v in gold.items() if k.endswith(".total") and v is not None}
    assert len(totals) >= 4
    by_id = {row["id"]: row for row in rows}
    for key, value in totals.items():
        assert _number(by_id[key]["value"]) == value, key


def test_csv_min_confidence_and_negotiation(server: object, corpus: Path) -> None:
    data = (corpus / FILES[1]).read_bytes()
    with server.client() as c:
        def post(accept: str, **params: str):
            return c.post("/v1/extract", params=params, files={"file": ("r.pdf", data)}, headers={"Accept": accept})

        everything = _rows(post("text/csv").content)
        sure = _rows(post("text/csv", min_confidence="0.9").content)
        json_first = post("application/json, text/csv;q=0.5")
        csv_first = post("text/csv;q=0.9, application/json;q=0.5")
        tie = post("text/csv, application/json")
    doubtful = [row for row in everything if float(row["confidence"]) < 0.9]
    assert doubtful, "the file needs at least one value below 0.9 for this test to mean anything"
    assert [row["id"] for row in sure] == [row["id"] for row in everything if float(row["confidence"]) >= 0.9]
    assert json_first.headers["content-type"] == "application/json" and json_first.json()["indicators"]
    assert csv_first.headers["content-type"].startswith("text/csv")
    assert tie.headers["content-type"] == "application/json"  # equal preference: JSON


def test_csv_request_that_fails_gets_a_problem(server: object, corpus: Path) -> None:
    with server.client() as c:
        r = c.post("/v1/extract", files={"file": ("x.html", (corpus / "not_reports" / "listing_page.html").read_bytes())},
                   headers={"Accept": "text/csv"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/not-a-report")
