"""The research dataset: the long table equals the JSONL, the .dta keeps its labels, the columns do not depend on the batch."""
from __future__ import annotations

import re
from pathlib import Path

import orjson
import pandas as pd
import pytest

from extractors.__main__ import main
from extractors.batch import read_jsonl
from extractors.dataset import agency_key, indicator_columns, normalise_agency, variable_name, wide_frame


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    files = [str(corpus / "pdf" / "hongze_2023.pdf"), str(corpus / "pdf" / "hongze_2024.pdf"),
             str(corpus / "txt" / "004_ea52101856a8af1f.txt"), str(corpus / "variants" / "dev05.docx")]
    rc = main(["batch", *files, "--out", str(out / "r.jsonl"), "--long", str(out / "long.parquet"),
               "--dta", str(out / "panel.dta"), "--conf", "--workers", "1", "-q"])
    assert rc == 0
    return out


def test_long_table_equals_the_jsonl(batch: Path) -> None:
    long = pd.read_parquet(batch / "long.parquet")
    expected = []
    for rec in read_jsonl(batch / "r.jsonl"):
        seen = set()
        for ind in rec["result"]["indicators"]:
            if ind["id"] not in seen:
                seen.add(ind["id"])
                expected.append((rec["sha256"], ind["id"], ind["value"], ind["confidence"]))
    got = [(r.report_key, r.indicator, None if pd.isna(r.value) else r.value, r.confidence) for r in long.itertuples()]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert long["needs_review"].tolist() == (long["confidence"] < 0.9).tolist()


def test_dta_opens_with_read_stata_and_keeps_id_and_chinese_label(batch: Path) -> None:
    frame = pd.read_stata(batch / "panel.dta")
    with pd.io.stata.StataReader(batch / "panel.dta") as reader:
        labels = reader.variable_labels()
    assert labels["requests_new_total"].startswith("requests.new.total 一、本年新收")
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", c) for c in frame.columns)
    row = frame[frame["file"].str.endswith("hongze_2024.pdf")].iloc[0]
    jsonl = {r["file"]: r for r in read_jsonl(batch / "r.jsonl")}
    ind = {i["id"]: i for i in jsonl[next(f for f in jsonl if f.endswith("hongze_2024.pdf"))]["result"]["indicators"]}
    assert row["requests_new_total"] == ind["requests.new.total"]["value"]
    assert row["requests_new_total_c"] == pytest.approx(ind["requests.new.total"]["confidence"])
    assert row["agency_key"] == "淮安市洪泽区人民政府" and row["year"] == 2024


def test_column_set_is_the_same_for_any_two_batches(batch: Path) -> None:
    records = list(read_jsonl(batch / "r.jsonl"))
    legacy_only = [r for r in records if r["result"]["document"]["template"]["value"] == "legacy"]
    revised_only = [r for r in records if r["result"]["document"]["template"]["value"] == "revised_2019"]
    a, _ = wide_frame(legacy_only)
    b, _ = wide_frame(revised_only)
    assert list(a.columns) == list(b.columns)
    assert len(a.columns) == 12 + len(indicator_columns())


def test_variable_names_are_stata_valid_unique_and_stable() -> None:
    cols = indicator_columns()
    assert len({c.name for c in cols}) == len(cols)
    assert variable_name("requests.withheld.security_stability.natural_person") == "rq_wh_security_person"
    assert variable_name("review.total") == "review_total"


def test_agency_normalisation_simplified_width_and_space() -> None:
    assert normalise_agency("淮安市　洪澤區人民政府") == "淮安市 洪泽区人民政府"
    assert agency_key("淮安市　洪澤區人民政府") == agency_key("淮安市洪泽区人民政府") == "淮安市洪泽区人民政府"
