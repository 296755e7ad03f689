"""Year-over-year comparison: a planted change is found, an untouched section is flagged as unchanged."""
from __future__ import annotations

import re
from pathlib import Path

from extractors import extract
from extractors.compare import compare, to_html, to_markdown

DOC = "004_ea52101856a8af1f"


def test_comparison_finds_a_planted_change_and_an_unchanged_section(corpus: Path) -> None:
    text = (corpus / "txt" / f"{DOC}.txt").read_text(encoding="utf-8")
    before = extract(text.encode(), filename="a.txt").model_dump(mode="json")
    value = next(i for i in before["indicators"] if i["id"] == "request.received.total")
    assert value["value"] == 150
    # next year's report: the received count changed, the overview rewritten, every other section copied
    planted = re.sub(r"(收到申请数[^\n]*\n(?:[^\n]*\n)*?\t*)150(\s)", r"\g<1>175\2", text, count=1)
    overview = next(s for s in before["sections"] if s["key"] == "overview")["text"]
    for para in (p.strip() for p in overview.split("\n")):
        if len(para) > 10 and para in planted:
            planted = planted.replace(para, "本年度改写：" + para[::-1], 1)
    assert planted != text
    after = extract(planted.encode(), filename="b.txt").model_dump(mode="json")
    report = compare([before, after])
    pair = report["pairs"][0]
    change = next(c for c in pair["changes"] if c["id"] == "request.received.total")
    assert (change["before"], change["after"], change["delta"]) == (150, 175, 25)
    assert change in pair["largest_moves"]
    assert all(c["delta"] == 0 for c in pair["changes"] if c["id"] != "request.received.total"
               and c["id"] in {"active.total", "review.total"})
    unchanged = set(pair["unchanged_sections"])
    assert "requests" in unchanged or "active_disclosure" in unchanged
    assert "overview" not in unchanged
    assert "request.received.total" in to_markdown(report) and "<table>" in to_html(report)


def test_comparison_of_two_real_years_of_one_agency(corpus: Path) -> None:
    results = [extract((corpus / "pdf" / f"hongze_{y}.pdf").read_bytes(), filename=f"{y}.pdf").model_dump(mode="json")
               for y in (2024, 2023)]
    pair = compare(results)["pairs"][0]
    assert (pair["before"]["year"], pair["after"]["year"]) == (2023, 2024)
    new = next(c for c in pair["changes"] if c["id"] == "requests.new.total")
    assert (new["before"], new["after"]) == (21, 95)


def test_compare_command_writes_json_markdown_and_html(corpus: Path, tmp_path: Path) -> None:
    import orjson

    from extractors.__main__ import main

    files = [str(corpus / "pdf" / "hongze_2024.pdf"), str(corpus / "pdf" / "hongze_2023.pdf")]
    assert main(["compare", *files, "--out", str(tmp_path / "cmp"), "--workers", "1", "-q"]) == 0
    report = orjson.loads((tmp_path / "cmp" / "comparison.json").read_bytes())
    pair = report["pairs"][0]
    assert (pair["before"]["year"], pair["after"]["year"]) == (2023, 2024)
    assert "requests" in pair["unchanged_sections"] and "overview" not in pair["unchanged_sections"]
    assert any(f["target"] == "review.total" for f in pair["arithmetic"]["before"])  # 2023 prints 0 over parts of 11
    md = (tmp_path / "cmp" / "comparison.md").read_text(encoding="utf-8")
    assert "| requests.new.total | 一、本年新收政府信息公开申请数量·总计 | 21 | 95 | +74 |" in md
    assert "<td>requests.new.total</td>" in (tmp_path / "cmp" / "comparison.html").read_text(encoding="utf-8")
    assert main(["compare", files[0], "--out", str(tmp_path / "one"), "--workers", "1", "-q"]) == 2
