"""The research dataset: the long table equals the JSONL, the .dta keeps its labels, the columns do not depend on the batch.

The column-set test runs two real batches (the crawler folder, and one PDF) and
holds their CSV, XLSX and .dta panels to one list of names.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from extractors.__main__ import main
from extractors.batch import read_jsonl
from extractors.dataset import (
    REPORT_COLUMNS,
    agency_key,
    conf_name,
    indicator_columns,
    normalise_agency,
    variable_name,
    wide_frame,
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    files = [str(corpus / "pdf" / "hongze_2023.pdf"), str(corpus / "pdf" / "hongze_2024.pdf"),
             str(corpus / "txt" / "004_ea52101856a8af1f.txt"), str(corpus / "variants" / "dev05.docx")]
    rc = main(["batch", *files, "--out", str(out / "r.jsonl"), "--long", str(out / "long.parquet"),
               "--dta", str(out / "panel.dta"), "--csv", str(out / "panel.csv"), "--xlsx", str(out / "panel.xlsx"),
               "--conf", "--workers", "1", "-q"])
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
    assert len(got) > 300  # four real reports
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert long["needs_review"].tolist() == (long["confidence"] < 0.9).tolist()


def test_dta_opens_with_read_stata_and_keeps_id_and_chinese_label(batch: Path) -> None:
    frame = pd.read_stata(batch / "panel.dta")
    with pd.read_stata(batch / "panel.dta", iterator=True) as reader:
        labels = reader.variable_labels()
    assert labels["requests_new_total"].startswith("requests.new.total 一、本年新收")
    assert labels["requests_new_total_conf"] == "requests.new.total 一、本年新收政府信息公开申请数量·总计·置信度"[:80]
    assert labels["agency_key"].startswith("机关键")
    assert set(labels) == set(frame.columns)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", c) for c in frame.columns)
    row = frame[frame["file"].str.endswith("hongze_2024.pdf")].iloc[0]
    jsonl = {r["file"]: r for r in read_jsonl(batch / "r.jsonl")}
    ind = {i["id"]: i for i in jsonl[next(f for f in jsonl if f.endswith("hongze_2024.pdf"))]["result"]["indicators"]}
    assert row["requests_new_total"] == ind["requests.new.total"]["value"]
    assert row["requests_new_total_conf"] == pytest.approx(ind["requests.new.total"]["confidence"])
    assert row["agency_key"] == "淮安市洪泽区人民政府" and row["year"] == 2024


def _panel_names(folder: Path) -> tuple[list[str], list[str], list[str]]:
    with (folder / "panel.csv").open(encoding="utf-8-sig", newline="") as f:
        csv_names = next(csv.reader(f))
    xlsx_names = [c.value for c in next(load_workbook(folder / "panel.xlsx", read_only=True)["panel"].iter_rows(
        min_row=2, max_row=2))]
    with pd.read_stata(folder / "panel.dta", iterator=True) as reader:
        dta_names = list(reader.variable_labels())
    return csv_names, xlsx_names, dta_names


def test_column_set_is_the_same_for_any_two_batches(batch: Path, corpus: Path, tmp_path: Path) -> None:
    """The crawler folder and a lone PDF (different forms, different ids seen) give the same columns everywhere."""
    for name, inputs in (("crawler", [corpus / "crawler"]), ("one", [corpus / "pdf" / "huaian_2024.pdf"])):
        out = tmp_path / name
        rc = main(["batch", *map(str, inputs), "--out", str(out / "r.jsonl"), "--csv", str(out / "panel.csv"),
                   "--xlsx", str(out / "panel.xlsx"), "--dta", str(out / "panel.dta"), "--conf", "--workers", "1", "-q"])
        assert rc == 0
    crawler, one, first = _panel_names(tmp_path / "crawler"), _panel_names(tmp_path / "one"), _panel_names(batch)
    assert crawler[0] == crawler[1] == crawler[2] == one[0] == one[1] == one[2] == first[0]
    seen = {frozenset(pd.read_csv(tmp_path / n / "panel.csv").dropna(axis=1, how="all").columns) for n in ("crawler", "one")}
    assert len(seen) == 2  # the batches did fill different columns
    names = crawler[0]
    expected = [n for n, _, _ in REPORT_COLUMNS]
    for c in indicator_columns():
        expected += [c.name, conf_name(c.name)]
    assert names == expected
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", n) for n in names) and len(set(names)) == len(names)
    records = list(read_jsonl(batch / "r.jsonl"))
    legacy_only = [r for r in records if r["result"]["document"]["template"]["value"] == "legacy"]
    revised_only = [r for r in records if r["result"]["document"]["template"]["value"] == "revised_2019"]
    assert list(wide_frame(legacy_only)[0].columns) == list(wide_frame(revised_only)[0].columns)


def test_extension_block_is_the_documented_one_from_the_catalogue() -> None:
    """ext.<legacy id>.cumulative for every legacy id, then ext.<表三 row>.subtotal for every 表三 row: nothing else."""
    import csv as _csv
    from importlib import resources

    cat = list(_csv.DictReader(resources.files("extractors").joinpath("data/indicators.csv").read_text("utf-8").splitlines()))
    ext = [c.id for c in indicator_columns() if c.block == "extension"]
    legacy = [f"ext.{r['id']}.cumulative" for r in cat if "legacy" in r["template"].split("|")]
    subtotal = [f"ext.{r['id'][:-len('.total')]}.subtotal" for r in cat if r["table"] == "requests" and r["id"].endswith(".total")]
    assert ext == legacy + subtotal
    assert "ext.request.received.total.cumulative" in ext and "ext.requests.new.subtotal" in ext
    assert [c.id for c in indicator_columns() if c.block == "catalogue"] == [r["id"] for r in cat]


def test_variable_names_are_stata_valid_unique_and_stable() -> None:
    cols = indicator_columns()
    assert len({c.name for c in cols}) == len(cols)
    assert variable_name("requests.withheld.security_stability.natural_person") == "rq_wh_security_person"
    assert variable_name("review.total") == "review_total"


def test_agency_normalisation_simplified_width_and_space() -> None:
    assert normalise_agency("淮安市　洪澤區人民政府") == "淮安市 洪泽区人民政府"
    assert agency_key("淮安市　洪澤區人民政府") == agency_key("淮安市洪泽区人民政府") == "淮安市洪泽区人民政府"


def test_the_worked_example_plots_the_series_from_the_long_table(batch: Path, tmp_path: Path) -> None:
    """docs/examples/plot_series.py on a real long table: the two hongze years are one agency's line."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "docs" / "examples" / "plot_series.py"
    out = tmp_path / "series.png"
    run = subprocess.run([sys.executable, str(script), str(batch / "long.parquet"), "--indicator", "requests.new.total",
                          "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "淮安市洪泽区人民政府" in run.stdout
    long = pd.read_parquet(batch / "long.parquet")
    points = long[long["indicator"] == "requests.new.total"].dropna(subset=["value", "year"])
    assert f"{points['agency_key'].nunique() - 1} agencies, {len(points)} points" in run.stdout  # hongze merged
    assert out.read_bytes().startswith(b"\x89PNG")


def test_a_missing_dataset_extra_is_named_and_the_plain_outputs_need_none(
        batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    for mod in ("pandas", "pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, mod, None)  # as if not installed: importing it raises ImportError
    jsonl = str(batch / "r.jsonl")
    for out in ("--long l.parquet", "--dta p.dta"):
        flag, name = out.split()
        assert main(["panel", jsonl, flag, str(tmp_path / name)]) == 2
        assert "pip install 'govreport-extract[dataset]'" in capsys.readouterr().err
    assert main(["panel", jsonl, "--csv", str(tmp_path / "p.csv"), "--xlsx", str(tmp_path / "p.xlsx"),
                 "--long", str(tmp_path / "l.csv"), "--conf"]) == 0  # CSV, XLSX and the long CSV need no extra
    assert (tmp_path / "p.csv").read_bytes() == (batch / "panel.csv").read_bytes()
    with (tmp_path / "l.csv").open(encoding="utf-8-sig", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) - 1 == sum(1 for r in read_jsonl(batch / "r.jsonl")
                                                        for _ in {i["id"] for i in r["result"]["indicators"]})
