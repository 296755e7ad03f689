"""The engine issue's bar: the shared scorer over every gold-bearing corpus file, per format."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractors import extract

# format -> minimum indicator F1 (the lines)
F1_MIN = {"docx": 0.99, "html": 0.99, "txt": 0.99, "pdf": 0.98, "md": 0.98}


@pytest.fixture(scope="module")
def scored(corpus: Path, shared: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("pred")
    gold = {p.stem for p in (corpus / "gold").glob("*.json")}
    files = [
        p
        for sub in ("txt", "docx", "html", "pdf", "variants")
        for p in sorted((corpus / sub).iterdir())
        if p.name.split(".")[0] in gold
    ]
    assert len(files) >= 35
    for p in files:
        result = extract(p.read_bytes(), filename=p.name)
        (out / f"{p.name}.json").write_text(result.model_dump_json(), encoding="utf-8")
    score = shared / "eval" / "score.py"
    args = [sys.executable, str(score), "--gold", str(corpus / "gold"), "--pred", str(out)]
    summary = json.loads(subprocess.run(args + ["--json"], capture_output=True, text=True, check=True).stdout)
    verbose = subprocess.run(args + ["--verbose"], capture_output=True, text=True, check=True).stdout
    return summary, verbose


def test_every_gold_document_was_predicted(scored: tuple[dict, str]) -> None:
    summary, _ = scored
    assert summary["gold_without_prediction"] == []
    assert summary["problems"] == []


@pytest.mark.parametrize("fmt", sorted(F1_MIN))
def test_indicator_f1_per_format(scored: tuple[dict, str], fmt: str) -> None:
    summary, verbose = scored
    s = summary["by_format"][fmt]
    assert s["indicator_f1"] >= F1_MIN[fmt], f"{fmt}: {s}\n{verbose}"


def test_overall_bars(scored: tuple[dict, str]) -> None:
    s, verbose = scored
    assert s["indicator_f1"] >= 0.985, verbose
    assert s["metadata_accuracy"] >= 0.95, verbose
    assert s["section_found"] >= 0.95, verbose
    assert s["section_body_exact"] >= 0.90, verbose
    assert s["inconsistency_recall"] == 1.0, verbose
    assert s["false_alarms"] == 0, verbose
    assert s["precision_at_conf_0.9"] >= 0.99, verbose


@pytest.mark.parametrize("fmt", sorted(F1_MIN))
def test_calibration_per_format(scored: tuple[dict, str], fmt: str) -> None:
    summary, verbose = scored
    s = summary["by_format"][fmt]
    assert s["precision_at_conf_0.9"] is None or s["precision_at_conf_0.9"] >= 0.99, verbose
