"""`python -m extractors`: one JSON per input, problem JSON for failures, exit codes, sub-commands."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractors import ExtractionError, extract
from extractors.__main__ import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def txt(corpus: Path) -> Path:
    return corpus / "txt" / "000_32e6960542ba4ec5.txt"


@pytest.fixture()
def docx(corpus: Path) -> Path:
    return corpus / "docx" / "003_a1ca134a5abe9455.docx"


def library_json(path: Path) -> bytes | None:
    """What the library returns for `path` as the response JSON, None when it raises an input error."""
    try:
        return extract(path.read_bytes(), filename=path.name).model_dump_json().encode()
    except ExtractionError:
        return None


def test_files_mode_writes_the_exact_response_per_input_and_a_problem_per_failure(
        tmp_path: Path, txt: Path, docx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    rc = main([str(txt), str(docx), str(empty), str(tmp_path / "missing.pdf"), "--out", str(out), "--workers", "2"])
    assert rc == EXIT_FAILURES
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{txt.name}.json", f"{docx.name}.json", "empty.docx.json", "missing.pdf.json"])
    for src in (txt, docx):
        expected = library_json(src)
        written = (out / f"{src.name}.json").read_bytes()
        if expected is not None:
            assert written == expected
        else:
            assert json.loads(written)["status"] in (400, 413, 415, 422)
    empty_problem = json.loads((out / "empty.docx.json").read_text(encoding="utf-8"))
    assert empty_problem == {"type": empty_problem["type"], "title": "The file is empty", "status": 400,
                             "detail": empty_problem["detail"], "file": str(empty)}
    assert empty_problem["type"].endswith("/empty-file")
    missing = json.loads((out / "missing.pdf.json").read_text(encoding="utf-8"))
    assert (missing["status"], missing["file"]) == (400, str(tmp_path / "missing.pdf"))
    err = capsys.readouterr().err
    assert "4/4 100%" in err and "files/s" in err and "ETA" in err
    assert "Failures:" in err and "missing.pdf" in err and "empty.docx" in err


def test_files_mode_exits_zero_when_every_file_is_extracted(tmp_path: Path, txt: Path) -> None:
    assert library_json(txt) is not None, "the TXT reader must read the corpus file"
    assert main([str(txt), "--out", str(tmp_path), "-q"]) == EXIT_OK
    assert (tmp_path / f"{txt.name}.json").read_bytes() == library_json(txt)


def test_inputs_sharing_a_name_are_refused_before_any_work(tmp_path: Path, txt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "report.txt").write_bytes(txt.read_bytes())
    out = tmp_path / "out"
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == EXIT_USAGE
    assert "report.txt" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    [],
    ["x.txt"],  # no --out
    ["batch", "x.txt"],
    ["panel", "does-not-exist.jsonl", "--csv", "p.csv"],
    ["--workers", "two", "x.txt", "--out", "o"],
])
def test_usage_errors_exit_2(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_USAGE


def test_panel_needs_an_output(tmp_path: Path, txt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonl = tmp_path / "r.jsonl"
    assert main(["batch", str(txt), "--out", str(jsonl), "-q"]) in (EXIT_OK, EXIT_FAILURES)
    assert main(["panel", str(jsonl)]) == EXIT_USAGE
    assert "--csv" in capsys.readouterr().err
    assert main(["panel", str(jsonl), "--csv", str(tmp_path / "p.csv")]) == EXIT_OK
    assert (tmp_path / "p_review.csv").exists() and (tmp_path / "p_dictionary.csv").exists()


def test_python_dash_m_runs_as_a_program(tmp_path: Path, txt: Path) -> None:
    """The real entry point: a subprocess, progress on stderr, nothing on stdout, the JSON on disk."""
    proc = subprocess.run([sys.executable, "-m", "extractors", str(txt), "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    expected = library_json(txt)
    assert proc.returncode == (EXIT_OK if expected is not None else EXIT_FAILURES), proc.stderr
    assert proc.stdout == ""
    assert "1/1 100%" in proc.stderr and "Summary: 1 files" in proc.stderr
    written = (tmp_path / f"{txt.name}.json").read_bytes()
    assert written == expected if expected is not None else json.loads(written)["file"] == str(txt)
    help_ = subprocess.run([sys.executable, "-m", "extractors", "batch", "--help"], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
    assert help_.returncode == 0 and "--server" in help_.stdout and "--xlsx" in help_.stdout
