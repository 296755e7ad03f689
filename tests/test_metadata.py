"""Document metadata from the real corpus reports, in every format, against the gold labels."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from extractors.metadata import extract
from extractors.model import Document, Paragraph
from extractors.result import DocumentInfo
from extractors.sections import split
from extractors.template import TemplateGuess
from tests.corpus_files import GOLD, gold_files, read_doc

NO_TEMPLATE = TemplateGuess()


def _norm(s: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(s)).split())


def _info(rel: str, tpl: TemplateGuess = NO_TEMPLATE) -> DocumentInfo:
    doc = read_doc(rel)
    return extract(doc, tpl, split(doc))


@pytest.mark.parametrize("rel", gold_files())
def test_metadata_matches_gold(rel: str) -> None:
    gold = json.loads((GOLD / f"{Path(rel).name.split('.')[0]}.json").read_text(encoding="utf-8"))
    info = _info(rel)
    for f in ("agency", "period_start", "period_end", "website"):
        if gold.get(f) is None and f == "website":
            continue
        got = getattr(info, f).value
        assert (got is None) if gold[f] is None else _norm(got) == _norm(gold[f]), (f, got, gold[f])
    assert info.report_year.value == gold["report_year"]
    for f, gv in (gold.get("contact") or {}).items():
        if gv is not None:
            assert _norm(getattr(info.contact, f).value) == _norm(gv), (f, getattr(info.contact, f).value)


def test_yangming_2017_from_plain_text() -> None:
    info = _info("txt/000_32e6960542ba4ec5.txt")
    assert info.agency.value == "余姚市阳明街道办事处"
    assert info.report_year.value == 2017
    assert (info.period_start.value, info.period_end.value) == ("2017-01-01", "2017-12-08")
    assert info.contact.postcode.value == "315400"
    assert info.contact.phone.value == "62812355"
    assert info.contact.email.value is None  # printed as 电子邮箱：无
    assert info.website.value is None
    assert info.title == "2017年政务信息公开工作年度报告"
    assert info.format == "txt"
    assert info.agency.confidence >= 0.9 and info.contact.email.confidence == 0.0


def test_hongze_2024_pdf_contact_and_pages() -> None:
    info = _info("pdf/hongze_2024.pdf")
    assert info.agency.value == "淮安市洪泽区人民政府"
    assert info.contact.phone.value == "0517-87290606"
    assert _norm(info.contact.address.value) == "淮安市洪泽区洪泽湖大道90号"
    assert info.contact.email.value is None
    assert info.format == "pdf" and info.pages == 5


def test_contact_sentence_wins_over_the_table_footer_phone() -> None:
    info = _info("txt/004_ea52101856a8af1f.txt")
    assert info.contact.phone.value == "0574-89297427"  # the footer says 联系电话：89297427
    assert info.website.value == "www.haishu.gov.cn"
    assert info.contact.email.value == "hszwgk@ningbo.gov.cn"


def test_report_without_period_or_contact_leaves_them_null() -> None:
    info = _info("docx/003_a1ca134a5abe9455.docx")
    assert info.agency.value == "余姚市人民政府"
    assert info.report_year.value == 2019
    assert info.period_start.value is None and info.period_end.value is None
    assert info.period_start.confidence == 0.0
    assert info.contact.address.value is None and info.website.value is None


def test_traditional_report_values_as_printed() -> None:
    info = _info("variants/dev05.pdf")
    assert info.agency.value == "餘姚市蘭江街道辦事處"
    assert _norm(info.contact.address.value) == "餘姚市南雷南路12號"
    assert info.contact.postcode.value == "315400"
    assert info.period_end.value == "2017-12-08"


def test_title_wrapped_over_two_lines_still_gives_the_agency() -> None:
    doc = read_doc("txt/002_a115e8637772b474.txt")
    title = doc.paragraphs[0].text
    assert title.endswith("年度报告")
    blocks = (Paragraph(title[:-3]), Paragraph(title[-3:])) + doc.blocks[1:]
    info = extract(Document(blocks=blocks, format="txt"), NO_TEMPLATE, [])
    assert info.agency.value == "鲸园街道办事处"
    assert info.title == title
    assert info.period_end.value == "2017-12-31"


def test_period_end_without_repeated_year() -> None:
    info = _info("docx/004_ea52101856a8af1f.docx")  # 统计期限从2018年1月1日到12月31日止
    assert (info.period_start.value, info.period_end.value) == ("2018-01-01", "2018-12-31")


def test_template_guess_is_copied() -> None:
    guess = TemplateGuess(name="revised_2019", variant="form_2021", confidence=0.87)
    info = _info("variants/dev07.md", guess)
    assert (info.template.value, info.template.variant, info.template.confidence) == ("revised_2019", "form_2021", 0.87)
    assert info.agency.value == "淮安市洪泽区人民政府"


def test_year_first_title_and_chinese_numeral_year() -> None:
    doc = read_doc("docx/003_a1ca134a5abe9455.docx")
    lines = [p.text for p in doc.paragraphs[:2]]
    assert lines == ["余姚市人民政府", "2019年政府信息公开工作年度报告"]
    year_first = Paragraph("二〇一九年度余姚市人民政府信息公开工作年度报告")
    info = extract(Document(blocks=(year_first,) + doc.blocks[2:], format="docx"), NO_TEMPLATE, [])
    assert info.report_year.value == 2019
    assert info.agency.value == "余姚市人民政府"
    assert info.title == "二〇一九年度余姚市人民政府信息公开工作年度报告"


def _doc_info(*paras: str) -> DocumentInfo:
    doc = Document(blocks=tuple(Paragraph(p) for p in paras), format="txt")
    return extract(doc, TemplateGuess(), split(doc))


def test_address_stops_before_postcode_and_phone_without_a_comma() -> None:
    info = _doc_info(
        "示例县2023年政府信息公开工作年度报告",
        "如对本报告有疑问，请与示例县人民政府办公室联系（地址：示例县人民路8号 邮编：315700 联系电话：0574-65785101）。",
    )
    assert info.contact.address.value == "示例县人民路8号"
    assert info.contact.postcode.value == "315700"
    assert info.contact.phone.value == "0574-65785101"


@pytest.mark.parametrize("phrase", ["联系电话：", "咨询电话：", "联系电话（传真）：", "监督电话"])
def test_phones_written_several_ways(phrase: str) -> None:
    info = _doc_info("示例县2023年政府信息公开工作年度报告", f"（地址：示例县人民路8号，邮编：315700，{phrase}0574-6578510）。")
    assert info.contact.phone.value == "0574-6578510"


def test_agency_never_keeps_a_crawler_field_prefix() -> None:
    for line in ("标题：示例县交通运输局2023年政府信息公开工作年度报告", "【标题】示例县交通运输局2023年政府信息公开工作年度报告"):
        info = _doc_info(line, "一、总体情况", "本年度主动公开政府信息。")
        assert info.agency.value == "示例县交通运输局", line
        assert info.report_year.value == 2023


def test_agency_from_the_title_that_opens_the_first_sentence() -> None:
    info = _doc_info("示例县交通运输局2023年度政府信息公开工作年度报告本年报根据《条例》要求编制而成，本年报由概述等部分组成。")
    assert info.agency.value == "示例县交通运输局"
    assert info.report_year.value == 2023


def test_period_whose_digits_a_converter_put_apart_from_the_date_words(corpus: Path) -> None:
    from extractors.readers import read

    for name, year in (("hongze_2023", 2023), ("huaian_2024", 2024)):
        doc = read((corpus / "markitdown" / f"{name}.pdf.md").read_bytes(), f"{name}.pdf.md")
        info = extract(doc, TemplateGuess(), split(doc))
        assert (info.period_start.value, info.period_end.value) == (f"{year}-01-01", f"{year}-12-31")
        assert info.period_start.confidence < 0.9  # re-associated, not printed as a date
    # the date words without numbers after them give nothing
    info = _doc_info("示例县2023年政府信息公开工作年度报告", "报告中所列数据统计期限自年月日起至年月日止。")
    assert info.period_start.value is None


def test_batched_views_equal_their_line_by_line_definitions_on_the_corpus() -> None:
    """`_view` squashes a sentence's lines at once and `_matchable_lines` converts all lines in one
    call; both give what squashing and converting each line on its own gives, on every rendering."""
    from extractors.metadata import _SENTENCE_ENDS, _matchable_lines, _view, matchable
    from extractors.normalize import squash
    from extractors.view import prepare

    rels = gold_files(("txt", "docx", "html", "variants"))
    converted = 0
    for rel in rels:
        lines = list(prepare(read_doc(rel)).text_lines)
        lines += ["公开。\u200b", "\u200b", "年度\ufeff；\u3000\u200b", "二〇一九年工作"]  # what squash removes at a line's end
        parts = [(s := squash(ln)) + ("\n" if s.endswith(_SENTENCE_ENDS) else "") for ln in lines]
        assert _view(lines).printed == "".join(parts), rel
        one_by_one = [matchable(ln) for ln in lines]
        assert _matchable_lines(lines) == one_by_one, rel
        converted += sum(a != b for a, b in zip(one_by_one, lines))
    assert converted > 100  # Traditional renderings and full-width forms among them


def test_view_of_joined_lines_equals_its_line_by_line_definition() -> None:
    """`_view` marks the sentence breaks of the joined lines and squashes once: the same text as
    `_view_by_line` for any lines (random mixes of sentence ends, whitespace, breaks and the mark)."""
    import random

    from extractors.metadata import _view, _view_by_line

    rnd = random.Random(11)
    alphabet = [*"a年。；;!?！？ \u3000\u200b\ufeff\n\r\t\x0b\x1c\x85\u2028\x00"]
    for _ in range(20000):
        lines = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))) for _ in range(rnd.randint(0, 5))]
        assert _view(lines) == _view_by_line(lines), lines


def test_chinese_years_found_from_each_nian_back_as_the_pattern_finds_them() -> None:
    import random

    from extractors.metadata import _CN_YEAR, _cn_year, _cn_years

    rnd = random.Random(15)
    alphabet = "〇零一二三四五六七八九年度a 十"
    for _ in range(5000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))
        assert _cn_years(t) == _CN_YEAR.sub(_cn_year, t)
    assert _cn_years("二〇二三年度报告") == "2023年度报告"


def test_a_text_without_a_fields_needed_character_has_no_match_of_it() -> None:
    """`_CONTACT_NEEDS`: the e-mail patterns match nothing in a corpus text without "@" (so skipping
    them changes nothing), every match they find holds one, and the field is still found where printed."""
    from extractors import metadata as M
    from extractors.view import prepare

    views = [M._view(list(prepare(read_doc(rel)).text_lines)) for rel in gold_files()]
    assert any("@" in v.simple for v in views) and any("@" not in v.simple for v in views)
    for key, need in M._CONTACT_NEEDS.items():
        for pat in M._CONTACT_PATTERNS[key]:
            for v in views:
                found = [m.group(0) for m in pat.finditer(v.simple)]
                assert all(need in f for f in found)
                if need not in v.simple:
                    assert not found
    emails = [M._contact(v, M.MetadataSettings())["email"][0] for v in views]
    assert sum(e is not None for e in emails) > 10 and all(e is None or "@" in e for e in emails)
