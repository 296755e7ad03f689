"""Golden file pairs: a corpus input (in ../shared) and the summary of its expected response (here).

The summary keeps what a caller relies on — template, metadata values, every
indicator id and value, section keys and headings, validation targets — and
leaves out confidences and versions, which calibration may move.
"""
from __future__ import annotations

from pathlib import Path

from extractors.result import ExtractionResult

GOLDEN = Path(__file__).resolve().parent / "expected"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

CASES = (
    "txt/000_32e6960542ba4ec5.txt",
    "docx/003_a1ca134a5abe9455.docx",
    "html/002_a115e8637772b474.html",
    "pdf/hongze_2023.pdf",
    "pdf/huaian_2024.pdf",
    "variants/dev03.pdf",
    "variants/dev04.html",
    "variants/dev06.docx",
    "variants/dev07.md",
)


def summary(r: ExtractionResult) -> dict[str, object]:
    d = r.document
    return {
        "template": [d.template.value, d.template.variant],
        "metadata": {
            "agency": d.agency.value,
            "report_year": d.report_year.value,
            "period": [d.period_start.value, d.period_end.value],
            "contact": [d.contact.address.value, d.contact.postcode.value, d.contact.phone.value, d.contact.email.value],
            "website": d.website.value,
        },
        "indicators": {i.id: i.value for i in r.indicators},
        "sections": [[s.key, s.heading] for s in r.sections],
        "validation": sorted(f"{f.rule}:{f.target}" for f in r.validation),
    }
