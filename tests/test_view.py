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
