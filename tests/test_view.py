"""The prepared view: the document's text and matching keys, made once, equal to normalising per stage."""
from __future__ import annotations

from extractors.normalize import nfkc, squash, to_simplified
from extractors.view import key, prepare
from tests.corpus_files import read_doc


def test_view_of_a_traditional_rendering_is_simplified_and_squashed() -> None:
    doc = read_doc("variants/dev05.docx")
    v = prepare(doc)
    assert v.text == doc.text()
    assert v.lines == tuple(doc.iter_lines())
    assert v.key_text == squash(nfkc(to_simplified(doc.text())))
    assert "開" in v.text and "開" not in v.key_text  # printed Traditional, matched Simplified
    assert "政府信息公开" in v.key_text
    assert not any(ch.isspace() for ch in v.key_text)


def test_paragraph_keys_line_up_with_the_paragraphs() -> None:
    doc = read_doc("txt/000_32e6960542ba4ec5.txt")
    v = prepare(doc)
    assert v.paragraphs == doc.paragraphs
    assert len(v.paragraph_keys) == len(v.paragraph_line_keys) == len(doc.paragraphs) > 20
    for p, k, lines in zip(doc.paragraphs, v.paragraph_keys, v.paragraph_line_keys):
        assert k == key(p.text)
        assert lines == tuple(key(t) for t in p.text.split("\n") if t.strip())
    assert all(t == t.strip() and t for t in v.text_lines)


def test_the_whole_text_converted_once_is_every_paragraph_converted_on_its_own() -> None:
    """`prepare` converts the text once and cuts it at line breaks; the definition converts each
    paragraph and line by itself: the same view on every corpus rendering (Traditional ones included)."""
    from extractors.normalize import _T2S
    from extractors.view import _prepare_by_paragraph
    from tests.corpus_files import gold_files

    entries = [kv for group in _T2S._dict_chain_data for entry in group for kv in entry[2].items()]
    assert entries and not any("\n" in k or "\n" in v for k, v in entries)  # no conversion reaches across a break
    rels = gold_files(("txt", "docx", "html", "variants"))
    assert len(rels) > 20
    for rel in rels:
        doc = read_doc(rel)
        lines = tuple(doc.iter_lines())
        assert prepare(doc) == _prepare_by_paragraph(doc, lines, "\n".join(lines)), rel


def test_cells_of_one_word_many_words_and_breaks_read_as_the_definition() -> None:
    """Paragraphs holding breaks before, between and after tables, and cells of one word (padded with
    breaks and spaces), several words, several lines and none: the same view as the definition."""
    from extractors.model import Cell, Document, Paragraph, Table
    from extractors.view import _prepare_by_paragraph

    cells = (Cell(" 一、收到申请数 \n", 0, 0), Cell("\n１２\n", 0, 1), Cell("  ", 0, 2), Cell("自然人\n 法人 ", 0, 3),
             Cell("当面 申请", 0, 4), Cell("\u200b3", 0, 5))
    doc = Document(blocks=(
        Paragraph("甲市2023年政府信息公開\n工作年度報告"),
        Table(rows=(cells, (), (Cell("", 2, 0),))),
        Paragraph("（一）主動公開\n\n  情況"),
        Table(rows=((Cell("件", 0, 0), Cell("4 5", 0, 1)),), index=1),
        Paragraph(""),
    ), format="docx")
    lines = tuple(doc.iter_lines())
    v = prepare(doc)
    assert v == _prepare_by_paragraph(doc, lines, "\n".join(lines))
    assert v.table_cells[0][0] == ("一、收到申请数", "１２", "自然人 法人", "当面 申请", "\u200b3")
    assert v.paragraph_line_keys[1] == ("(一)主动公开", "情况")
