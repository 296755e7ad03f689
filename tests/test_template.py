from __future__ import annotations

from pathlib import Path

import pytest

from extractors import NotAReportError, extract
from extractors.template import detect


@pytest.mark.parametrize(
    "path, name, variant",
    [
        ("txt/000_32e6960542ba4ec5.txt", "legacy", "legacy"),
        ("docx/003_a1ca134a5abe9455.docx", "revised_2019", "form_2019"),
        ("pdf/hongze_2024.pdf", "revised_2019", "form_2020"),
        ("pdf/huaian_2024.pdf", "revised_2019", "form_2021"),
        ("variants/dev06.docx", "legacy", "legacy"),
        ("variants/dev05.pdf", "legacy", "legacy"),
    ],
)
def test_template_and_variant(corpus: Path, path: str, name: str, variant: str) -> None:
    r = extract((corpus / path).read_bytes(), Path(path).name)
    t = r.document.template
    assert (t.value, t.variant) == (name, variant)
    assert t.confidence >= 0.6


def test_unknown_for_a_text_that_is_no_report() -> None:
    from extractors.readers import read

    doc = read("今天天气很好。\n我们去公园散步。\n".encode(), "note.txt")
    assert detect(doc, set()).name == "unknown"
    with pytest.raises(NotAReportError):  # and the pipeline refuses it (extractors/gate.py)
        extract("今天天气很好。\n我们去公园散步。\n".encode(), "note.txt")
