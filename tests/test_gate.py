"""The not-a-report gate: pages a crawler picks up are refused with evidence; real reports never are."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from extractors import ExtractionError, NotAReportError, extract
from extractors.gate import SETTINGS, evidence, title_rules
from extractors.model import Document, Paragraph
from extractors.pipeline import extract_document
from extractors.readers import read


def test_every_not_a_report_page_is_refused_with_counts_not_content(corpus: Path) -> None:
    files = sorted((corpus / "not_reports").iterdir())
    assert len(files) >= 4
    for p in files:
        with pytest.raises(NotAReportError) as e:
            extract(p.read_bytes(), filename=p.name)
        assert e.value.code == "not-a-report"
        d = e.value.detail
        assert "statistics-table rows" in d and "report sections" in d and "evidence score" in d
        assert not any(w in d for w in ("慈溪", "宁波", "系统繁忙", "推进会")), p.name  # no document content
        assert e.value.extra["form_rows"] == 0 and e.value.extra["evidence_score"] < SETTINGS.threshold


def test_the_listing_page_is_refused_for_listing_many_years(corpus: Path) -> None:
    with pytest.raises(NotAReportError) as e:
        extract((corpus / "not_reports" / "listing_page.html").read_bytes(), filename="list.html")
    assert e.value.extra["title_found"] is True
    assert "different years" in e.value.detail


_SEARCH = """<html><head><title>搜索结果_示例市人民政府</title></head><body><div class="list">
<p><a href="/a1">示例市人民政府2023年政府信息公开工作年度报告</a> 2024-01-20</p>
<p><a href="/a2">示例市交通运输局2023年政府信息公开工作年度报告</a> 2024-01-18</p>
<p><a href="/a3">示例市人民政府2022年政府信息公开工作年度报告</a> 2023-01-29</p>
<p><a href="/a4">示例市人民政府2021年政府信息公开工作年度报告</a> 2022-01-27</p>
<p>共找到 4 条结果</p></div></body></html>"""
_LOGIN = """<html><head><title>用户登录</title></head><body><form><p>用户名</p><input name="u"><p>密码</p>
<input name="p" type="password"><p>验证码</p><button>登录</button></form><p>主办：示例市人民政府办公室</p></body></html>"""
_INTERPRETATION = (
    "图解：《示例市2023年政府信息公开工作年度报告》\n"
    "近日，《示例市2023年政府信息公开工作年度报告》正式发布。一图带您读懂。\n"
    "一、总体情况\n2023年，全市主动公开政府信息12000条，其中规范性文件86件。\n"
    "二、主动公开政府信息情况\n全年收到政府信息公开申请532件，办结530件。\n"
    "三、收到和处理政府信息公开申请情况\n因政府信息公开引起行政复议12件。\n"
)


@pytest.mark.parametrize(("name", "data"), [
    ("search.html", _SEARCH.encode()),
    ("login.html", _LOGIN.encode()),
    ("interpretation.txt", _INTERPRETATION.encode()),
    ("empty-json.json", b'{"data": [], "total": 0}'),
])
def test_other_pages_that_are_not_reports_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(NotAReportError):
        extract(data, filename=name)


def test_the_interpretation_article_is_refused_for_citing_a_report() -> None:
    doc = read(_INTERPRETATION.encode(), "a.txt")
    ev = evidence(doc, form_rows=0, sections=3, claims=3)
    assert ev.cites and not ev.title
    assert ev.score < SETTINGS.threshold
    # the same article without its citing headline would pass on sections and figures alone: the
    # counter-evidence is what refuses it
    assert ev.score - SETTINGS.cites >= SETTINGS.threshold


def test_reports_with_little_content_are_still_reports(corpus: Path) -> None:
    # narrative only (no statistics table at all)
    r = extract((corpus / "variants" / "dev06.docx").read_bytes(), filename="dev06.docx")
    assert r.indicators and not read((corpus / "variants" / "dev06.docx").read_bytes(), "dev06.docx").tables
    # only the statistics tables (what a workbook reader returns): no paragraph at all
    full = read((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes(), "003.docx")
    tables_only = Document(blocks=full.tables, format="docx")
    assert len(extract_document(tables_only).indicators) > 50
    # a single table, no title, no sections
    one = Document(blocks=(max(full.tables, key=lambda t: t.n_rows),), format="docx")
    assert extract_document(one).indicators
    # a title and one numbered section
    tiny = Document(blocks=(Paragraph("示例县2023年政府信息公开工作年度报告"), Paragraph("一、总体情况"),
                            Paragraph("本年度主动公开政府信息。")), format="txt")
    assert extract_document(tiny).sections


def test_no_gold_bearing_input_is_refused_as_not_a_report(corpus: Path, shared: Path) -> None:
    gold = {p.stem for p in (corpus / "gold").glob("*.json")}
    folders = [corpus / f for f in ("txt", "docx", "html", "pdf", "variants", "crawler", "markitdown")] + [shared / "formats"]
    n = 0
    for folder in folders:
        for p in sorted(folder.iterdir()):
            if p.name.split(".")[0] not in gold:
                continue
            try:
                extract(p.read_bytes(), filename=p.name)
                n += 1
            except NotAReportError as e:  # pragma: no cover - the failure message names the file
                pytest.fail(f"{p.name} refused as not a report: {e.detail}")
            except ExtractionError:
                continue  # a format this checkout cannot read yet (scans, .doc): another error, not this one
    assert n >= 45


def test_title_patterns_load_and_settings_are_frozen() -> None:
    rules = title_rules()
    assert rules.patterns and rules.cites
    assert any(p.search("示例县人民政府2017年度政府信息公开工作年度报告") for p in rules.patterns)
    assert not any(p.search("我区召开政务公开工作推进会") for p in rules.patterns)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SETTINGS.threshold = 0  # type: ignore[misc]


def test_the_cli_writes_an_error_record_and_the_batch_counts_it(corpus: Path, tmp_path: Path) -> None:
    import json

    from extractors.__main__ import main

    page = corpus / "not_reports" / "news_article.txt"
    report = corpus / "crawler" / "dev04.crawler.txt"
    assert main([str(page), str(report), "--out", str(tmp_path), "-q"]) == 1  # some failed
    record = json.loads((tmp_path / f"{page.name}.json").read_text(encoding="utf-8"))
    assert record["type"].endswith("/not-a-report") and record["status"] == 422
    assert "schema_version" in json.loads((tmp_path / f"{report.name}.json").read_text(encoding="utf-8"))
    out = tmp_path / "results.jsonl"
    main(["batch", str(corpus / "not_reports"), "--out", str(out), "-q"])
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 3 and all(x["error"]["type"].endswith("/not-a-report") for x in lines)


def test_the_joined_title_pattern_finds_a_title_where_one_of_the_patterns_does(corpus: Path) -> None:
    """One search of the joined alternation per line, the same answer as trying each title pattern,
    on every short line of the corpus reports and of the pages that are not reports."""
    from extractors.view import prepare
    from tests.corpus_files import gold_files, read_doc

    rules = title_rules()
    assert rules.any_title is not None
    docs = [read_doc(rel) for rel in gold_files()]
    docs += [read(p.read_bytes(), p.name) for p in sorted((corpus / "not_reports").iterdir())]
    lines = [k for d in docs for keys in prepare(d).paragraph_line_keys for k in keys if len(k) <= SETTINGS.max_title_chars]
    assert len(lines) > 500
    want = [any(p.search(x) for p in rules.patterns) for x in lines]
    assert sum(want) > 20
    assert [rules.any_title.search(x) is not None for x in lines] == want
