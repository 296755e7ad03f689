"""PDF reader on real corpus PDFs: ruled tables as grids, paragraphs, page numbers, errors."""
from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

import pikepdf
import pytest

from extractors.errors import CorruptFileError, EncryptedFileError, NoTextLayerError, TooManyPagesError
from extractors.model import Cell, Document, Table
from extractors.readers import pdf as pdf_reader
from extractors.readers import read as read_any
from extractors.readers.options import ReadOptions
from extractors.readers.pdf_geometry import PdfSettings
from extractors.readers.pdf_text import PageContent

PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d+\s*[-—–－]$|[-—–－]\s*\d+\s*[-—–－]\s|第\s*\d+\s*页")


@lru_cache(maxsize=None)
def doc(corpus: Path, rel: str) -> Document:
    """Each corpus PDF is read once for the whole module."""
    return pdf_reader.read((corpus / rel).read_bytes(), ReadOptions())


def table_with(d: Document, text: str) -> Table:
    for t in d.tables:
        if any(c.text == text for r in t.rows for c in r):
            return t
    raise AssertionError(f"no table has a cell {text!r}")


def row_of(t: Table, label: str) -> list[Cell | None]:
    """The grid row whose label cell reads `label` (the row where that cell starts)."""
    for r in t.rows:
        for c in r:
            if c.text == label:
                return t.grid()[c.row]
    raise AssertionError(f"no row labelled {label!r}")


def values_after(row: list[Cell | None], label: str) -> list[tuple[int, str]]:
    """(column, text) of the distinct cells right of the label cell."""
    out: list[tuple[int, str]] = []
    seen: set[int] = set()
    start = next(i for i, c in enumerate(row) if c is not None and c.text == label)
    for i, c in enumerate(row[start:], start):
        if c is None or c.text == label or id(c) in seen:
            continue
        seen.add(id(c))
        out.append((i, c.text))
    return out


# --------------------------------------------------------------------------- tables


def test_hongze_2024_table3_row_has_seven_values_in_seven_columns(corpus: Path) -> None:
    t = table_with(doc(corpus, "pdf/hongze_2024.pdf"), "一、本年新收政府信息公开申请数量")
    vals = values_after(row_of(t, "一、本年新收政府信息公开申请数量"), "一、本年新收政府信息公开申请数量")
    assert [v for _, v in vals] == ["95", "0", "0", "0", "0", "0", "95"]
    assert len({col for col, _ in vals}) == 7


def test_hongze_2024_header_cells_and_vertical_label_rejoined(corpus: Path) -> None:
    t = table_with(doc(corpus, "pdf/hongze_2024.pdf"), "一、本年新收政府信息公开申请数量")
    texts = {c.text for r in t.rows for c in r}
    assert {"商业企业", "科研机构", "社会公益组织", "法律服务机构", "法人或其他组织", "申请人情况"} <= texts
    vertical = next(c for r in t.rows for c in r if c.text == "三、本年度办理结果")
    assert vertical.rowspan >= 10 and vertical.colspan == 1


def test_hongze_2024_wrapped_labels_are_one_row(corpus: Path) -> None:
    t = table_with(doc(corpus, "pdf/hongze_2024.pdf"), "一、本年新收政府信息公开申请数量")
    label = "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert [v for _, v in values_after(row_of(t, label), label)] == ["9", "0", "0", "0", "0", "0", "9"]
    label = "5.要求行政机关确认或重新出具已获取信息"
    assert [v for _, v in values_after(row_of(t, label), label)] == ["0"] * 7


def test_hongze_2024_table3_spans_page_break_as_one_table(corpus: Path) -> None:
    d = doc(corpus, "pdf/hongze_2024.pdf")
    t = table_with(d, "一、本年新收政府信息公开申请数量")
    assert {c.source.page for r in t.rows for c in r} == {3, 4}
    total = row_of(t, "（七）总计")
    assert [v for _, v in values_after(total, "（七）总计") if v] == ["95", "0", "0", "0", "0", "0", "95"]
    # the merged label cut by the page break is one cell again
    unable = next(c for r in t.rows for c in r if c.text == "（四）无法提供")
    assert unable.rowspan == 3
    assert sum(1 for x in d.tables if any(c.text == "（七）总计" for r in x.rows for c in r)) == 1


def test_hongze_2024_review_litigation_table_has_fifteen_value_columns(corpus: Path) -> None:
    t = table_with(doc(corpus, "pdf/hongze_2024.pdf"), "未经复议直接起诉")
    last = t.grid()[-1]
    assert [c.text for c in last if c is not None] == "1 1 0 0 2 1 0 0 0 1 2 0 1 0 3".split()
    assert len({c.col for c in last if c is not None}) == 15


def test_dev03_split_table_is_one_table_without_repeated_header(corpus: Path) -> None:
    d = doc(corpus, "variants/dev03.pdf")
    t = table_with(d, "8.告知通过其他途径办理数")
    texts = [c.text for r in t.rows for c in r]
    assert "四、行政复议数量" in texts and "（三）接受培训人员数" in texts
    assert texts.count("统计指标") == 1
    assert not any("续表" in x for x in texts)
    assert not any("续表" in p.text for p in d.paragraphs)
    assert {c.source.page for r in t.rows for c in r} == {10, 11, 12}
    assert t.n_cols == 3
    assert [v for _, v in values_after(row_of(t, "四、行政复议数量"), "四、行政复议数量")] == ["件", "9件"]


def test_000_blank_value_cell_stays_in_its_column(corpus: Path) -> None:
    t = table_with(doc(corpus, "pdf/000_32e6960542ba4ec5.pdf"), "制发规范性文件总数")
    assert t.n_cols == 3
    row = row_of(t, "制发规范性文件总数")
    assert [c.text if c else None for c in row] == ["制发规范性文件总数", "件", ""]
    assert [c.text for c in row_of(t, "2.政府网站公开政府信息数")] == ["2.政府网站公开政府信息数", "条", "538"]
    label = "（一）主动公开政府信息数（不同渠道和方式公开相同信息计 1 条）"
    assert [c.text for c in row_of(t, label)] == [label, "条", "1599"]


def test_dev02_cumulative_column_keeps_blanks_in_place(corpus: Path) -> None:
    t = table_with(doc(corpus, "variants/dev02.pdf"), "2.政府网站公开政府信息数")
    assert [c.text for c in row_of(t, "2.政府网站公开政府信息数")] == ["2.政府网站公开政府信息数", "条", "233", "1408"]
    assert [c.text for c in row_of(t, "其中：主动公开规范性文件数")] == ["其中：主动公开规范性文件数", "条", "", ""]
    assert [c.text for c in t.grid()[0]] == ["指标名称", "单位", "本年度", "累计"]


def test_dev01_leading_serial_column(corpus: Path) -> None:
    t = table_with(doc(corpus, "variants/dev01.pdf"), "序号")
    assert t.n_cols == 4
    row = row_of(t, "3.互联网申请数")
    assert [c.text for c in row] == ["23", "3.互联网申请数", "件", "70"]


def test_dev04_official_form_merged_cells(corpus: Path) -> None:
    t = table_with(doc(corpus, "variants/dev04.pdf"), "三、本年度办理结果")
    by_text = {c.text: c for r in t.rows for c in r}
    assert by_text["三、本年度办理结果"].rowspan == 22
    assert by_text["（三）不予公开"].rowspan == 8
    assert by_text["申请人情况"].colspan == 7
    assert by_text["法人或其他组织"].colspan == 5
    label = "2.其他法律行政法规禁止公开"
    assert [v for _, v in values_after(row_of(t, label), label)] == ["30", "1", "0", "0", "0", "0", "31"]


def test_dev05_traditional_characters(corpus: Path) -> None:
    t = table_with(doc(corpus, "variants/dev05.pdf"), "制發規範性文件總數")
    assert [c.text for c in row_of(t, "制發規範性文件總數")] == ["制發規範性文件總數", "件", ""]


def test_cell_sources_name_page_table_row_col(corpus: Path) -> None:
    d = doc(corpus, "pdf/hongze_2024.pdf")
    for t in d.tables:
        for r in t.rows:
            for c in r:
                assert c.source.table == t.index
                assert (c.source.row, c.source.col) == (c.row, c.col)
                assert c.source.page is not None and c.source.bbox is not None
    assert [t.index for t in d.tables] == list(range(len(d.tables)))


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("rel", ["pdf/hongze_2024.pdf", "pdf/hongze_2023.pdf", "pdf/huaian_2024.pdf", "variants/dev03.pdf"])
def test_no_page_numbers_in_paragraphs(rel: str, corpus: Path) -> None:
    for p in doc(corpus, rel).paragraphs:
        assert not PAGE_NUMBER.search(p.text), p.text


def test_headings_are_their_own_paragraphs(corpus: Path) -> None:
    d = doc(corpus, "pdf/hongze_2024.pdf")
    texts = [p.text for p in d.paragraphs]
    for h in ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "五、存在的主要问题及改进情况"]:
        assert h in texts
    after = texts[texts.index("一、总体情况") + 1]
    assert after.startswith("2024 年，淮安市洪泽区人民政府坚持")
    assert d.paragraphs[texts.index("一、总体情况")].style == "heading"


def test_wrapped_heading_is_one_paragraph(corpus: Path) -> None:
    texts = [p.text for p in doc(corpus, "variants/dev01.pdf").paragraphs]
    assert "五、因政府信息公开引起投诉、申请行政复议、提起行政诉讼情况" in texts


def test_wrapped_chinese_joins_without_spaces_and_across_pages(corpus: Path) -> None:
    d = doc(corpus, "pdf/hongze_2024.pdf")
    first = next(p for p in d.paragraphs if p.text.startswith("本报告由"))
    assert "《中华人民共和国政府信息公开条例》" in first.text
    assert first.text.endswith("电话：0517-87290606）。")
    assert first.source.page == 1 and first.source.bbox is not None
    # a paragraph running from page 5 to page 6 of 000 is one paragraph
    texts = [p.text for p in doc(corpus, "pdf/000_32e6960542ba4ec5.pdf").paragraphs]
    assert any("是信息员上报信息的积极性大幅提高" in t and t.endswith("增长了118%。") for t in texts)


def test_reading_order_puts_tables_between_their_headings(corpus: Path) -> None:
    blocks = doc(corpus, "pdf/hongze_2024.pdf").blocks
    i3 = next(i for i, b in enumerate(blocks) if getattr(b, "text", None) == "三、收到和处理政府信息公开申请情况")
    i4 = next(i for i, b in enumerate(blocks) if getattr(b, "text", None) == "四、政府信息公开行政复议、行政诉讼情况")
    assert isinstance(blocks[i3 + 1], Table) and i4 == i3 + 2


def test_registry_dispatches_pdf_and_counts_pages(corpus: Path) -> None:
    d = read_any((corpus / "pdf/huaian_2024.pdf").read_bytes(), "report.pdf")
    assert d.format == "pdf" and d.pages == 6
    assert len(d.tables) == 3


# --------------------------------------------------------------------------- errors


def _encrypt(data: bytes, user: str) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as src:
        src.save(out, encryption=pikepdf.Encryption(owner="owner-secret", user=user, R=6))
    return out.getvalue()


def test_encrypted_pdf_is_refused_and_opens_with_password(corpus: Path) -> None:
    data = _encrypt((corpus / "pdf/hongze_2024.pdf").read_bytes(), user="user-secret")
    with pytest.raises(EncryptedFileError):
        pdf_reader.read(data, ReadOptions())
    d = pdf_reader.read(data, ReadOptions(password="user-secret"))
    assert len(d.tables) == 3


def test_owner_password_only_pdf_is_read(corpus: Path) -> None:
    data = _encrypt((corpus / "pdf/hongze_2024.pdf").read_bytes(), user="")
    assert len(pdf_reader.read(data, ReadOptions()).tables) == 3


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.97])
def test_truncated_pdf_is_corrupt(cut: float, corpus: Path) -> None:
    data = (corpus / "pdf/hongze_2024.pdf").read_bytes()
    with pytest.raises(CorruptFileError):
        pdf_reader.read(data[: int(len(data) * cut)], ReadOptions())


def test_garbage_after_header_is_corrupt() -> None:
    with pytest.raises(CorruptFileError):
        pdf_reader.read(b"%PDF-1.7\n" + bytes(range(256)) * 8, ReadOptions())


def _image_only_pdf(pages: int) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        img = pikepdf.Stream(pdf, bytes(range(256)) * 4)
        img.Type, img.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        img.Width, img.Height, img.BitsPerComponent = 32, 32, 8
        img.ColorSpace = pikepdf.Name.DeviceGray
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=img))
        page.Contents = pdf.make_stream(b"q 500 0 0 700 50 70 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_image_only_pdf_has_no_text_layer() -> None:
    with pytest.raises(NoTextLayerError):
        pdf_reader.read(_image_only_pdf(3), ReadOptions())


def test_page_limit_checked_before_reading_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_page_work(*args: object) -> None:
        raise AssertionError("a page was read before the page count was checked")

    monkeypatch.setattr(pdf_reader, "_read_page", no_page_work)
    with pytest.raises(TooManyPagesError):
        pdf_reader.read(_image_only_pdf(4), ReadOptions(max_pages=3))


def _borderless_table_pdf(rows: list[tuple[str, ...]]) -> bytes:
    """A one-page PDF whose table has no ruling lines: label at x=72, values at fixed columns."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    ops = [b"BT /F1 12 Tf 72 780 Td (Statistics of the year, a sentence of running text.) Tj ET"]
    for r, row in enumerate(rows):
        y = 740 - 20 * r
        for x, text in zip((72, 300, 380, 460), row):
            if text:
                ops.append(b"BT /F1 12 Tf %d %d Td (%s) Tj ET" % (x, y, text.encode()))
    page.Contents = pdf.make_stream(b"\n".join(ops))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_borderless_table_keeps_missing_value_in_its_column() -> None:
    rows = [("Requests", "95", "3", "98"), ("Carried", "7", "", "7"), ("Closed", "90", "2", "92")]
    d = pdf_reader.read(_borderless_table_pdf(rows), ReadOptions())
    assert [p.text for p in d.paragraphs] == ["Statistics of the year, a sentence of running text."]
    (t,) = d.tables
    assert [[c.text for c in row] for row in t.grid()] == [list(r) for r in rows]


def _pages_sharing_one_stream(pages: int, text: str = "本年新收政府信息公开申请数量 12 8 4") -> bytes:
    """`pages` pages that all draw one content stream of 60 lines (a CJK CID font; the text as hex UCS-2)."""
    from tests.pdfbytes import raw_pdf

    font = b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> >>] >>"
    ops = b"BT /F1 9 Tf 11 TL 30 800 Td " + (b"<" + text.encode("utf-16-be").hex().encode() + b"> Tj T* ") * 60 + b"ET"
    kids = b" ".join(b"%d 0 R" % (5 + k) for k in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages, font,
                    b"<< /Length %d >>stream\n" % len(ops) + ops + b"\nendstream", *[page] * pages])


def test_pages_repeating_one_content_stream_are_refused_by_text_per_byte() -> None:
    from extractors.errors import ResourceLimitError

    small = _pages_sharing_one_stream(3)
    doc = pdf_reader.read(small, ReadOptions())  # ~3,000 characters: under the floor
    assert doc.pages == 3
    with pytest.raises(ResourceLimitError) as e:
        pdf_reader.read(_pages_sharing_one_stream(300), ReadOptions())
    assert e.value.extra["limit"] == "max_chars_per_byte" and e.value.extra["page"] < 300


# --------------------------------------------------------------------------- memory: nothing kept past its page


def test_reopening_the_document_every_page_changes_nothing(corpus: Path) -> None:
    # hongze_2024's table 3 runs over a page break: the join must not depend on one pdfium document handle
    data = (corpus / "pdf/hongze_2024.pdf").read_bytes()
    every_page = PdfSettings(pages_per_open=1)
    assert pdf_reader.read(data, ReadOptions(), every_page) == doc(corpus, "pdf/hongze_2024.pdf")
    locked = _encrypt(data, user="user-secret")  # each reopening needs the password again
    assert len(pdf_reader.read(locked, ReadOptions(password="user-secret"), every_page).tables) == 3


def test_finished_pages_keep_no_character_objects(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[PageContent] = []
    assemble = pdf_reader.assemble

    def spy(pages: list[PageContent], settings: PdfSettings) -> object:
        seen.extend(pages)
        return assemble(pages, settings)

    monkeypatch.setattr(pdf_reader, "assemble", spy)
    d = pdf_reader.read((corpus / "pdf/huaian_2024.pdf").read_bytes(), ReadOptions())
    lines = [ln for p in seen for ln in p.lines]
    assert len(seen) == 6 and lines
    assert all(ln.chars == [] for ln in lines)  # only text and boxes stay until the document is assembled
    assert d == doc(corpus, "pdf/huaian_2024.pdf")
    assert all(p.quality is None for p in d.paragraphs)  # a text layer's paragraphs carry no OCR score
