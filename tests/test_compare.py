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
