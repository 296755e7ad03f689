"""Section `stage-scaling`: is each stage linear in its input? Generated inputs at 10x, 100x and 1,000x a real report.

`python -m bench --sections stage-scaling` (or `python -m bench.stage_scaling`). For every shape that
once made a stage quadratic (issue #16) a generator builds the input at n units, n = base x 1, 10, 100,
1,000, where the base is about what one real report holds (≈200 numbers in sentences, 40 headings,
10 small tables, a 12-cell row, a 4-deep style chain, a 30-row Markdown table, a 2,000-character
line). Each input runs once through the whole pipeline in this process (the not-a-report gate set to
accept everything, so every stage runs) and the CPU time per unit is reported: flat from 10x to
1,000x means linear (a quadratic stage would grow 100x). Past a cap the answer is the 422 that names
it, and its time is reported too: refusing must be cheap as well.
"""
from __future__ import annotations

import io
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

MULTIPLES = (1, 10, 100, 1000)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(body: str, styles: str | None = None) -> bytes:
    """A minimal stored (uncompressed) WordprocessingML package."""
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
             + ('<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' if styles else "")
             + "</Types>")
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>")
    doc_rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' if styles else "")
                + "</Relationships>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/_rels/document.xml.rels", doc_rels)
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{_W_NS}"><w:body>{body}</w:body></w:document>')
        if styles:
            z.writestr("word/styles.xml", f'<?xml version="1.0"?><w:styles xmlns:w="{_W_NS}">{styles}</w:styles>')
    return buf.getvalue()


def _p(text: str, ppr: str = "") -> str:
    return f"<w:p>{('<w:pPr>' + ppr + '</w:pPr>') if ppr else ''}<w:r><w:t>{text}</w:t></w:r></w:p>"


def numbers_in_sentences(n: int) -> tuple[str, bytes]:
    return "r.txt", ("一、总体情况\n" + "收到申请" + "".join(f"{i % 97}件" for i in range(n)) + "。\n").encode()


def headings(n: int) -> tuple[str, bytes]:
    numerals = "一二三四五六七八九十"
    return "r.txt", "".join(f"{numerals[i % 10]}、主动公开情况\n本年度主动公开信息{i}条。\n" for i in range(n)).encode()


def small_tables(n: int) -> tuple[str, bytes]:
    return "r.txt", "".join(f"\t收到申请数\n\t{i}\n\n说明{i}\n" for i in range(n)).encode()


def wide_row(n: int) -> tuple[str, bytes]:
    cells = "".join(f"<w:tc>{_p(str(i % 10))}</w:tc>" for i in range(n))
    return "r.docx", _docx(f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>" + _p("本年度收到申请12件。"))


def styles_chain(n: int) -> tuple[str, bytes]:
    styles = ['<w:style w:type="paragraph" w:styleId="s0"><w:name w:val="heading 1"/></w:style>']
    styles += [f'<w:style w:type="paragraph" w:styleId="s{i}"><w:name w:val="c{i}"/><w:basedOn w:val="s{i - 1}"/></w:style>' for i in range(1, n)]
    body = _p("一、总体情况", f'<w:pStyle w:val="s{n - 1}"/>') + _p("本年度收到申请12件。")
    return "r.docx", _docx(body, "".join(reversed(styles)))


def markdown_table(n: int) -> tuple[str, bytes]:
    cols = 8
    head = "|" + "|".join(f"列{c}" for c in range(cols)) + "|\n|" + "|".join("---" for _ in range(cols)) + "|\n"
    return "r.md", ("# 年度报告\n\n" + head + "".join("|" + "|".join(str((r + c) % 10) for c in range(cols)) + "|\n" for r in range(n))).encode()


def long_line(n: int) -> tuple[str, bytes]:
    unit = "本机关依法受理政府信息公开申请并按时答复"
    return "r.txt", (unit * (n // len(unit) + 1))[:n].encode()


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    unit: str
    base: int  # units in about one real report
    build: Callable[[int], tuple[str, bytes]]


SHAPES: tuple[Shape, ...] = (
    Shape("numbers in one sentence (narrative)", "number", 200, numbers_in_sentences),
    Shape("numbered headings (sections)", "heading", 40, headings),
    Shape("small TAB tables (text reader, tables)", "table", 10, small_tables),
    Shape("one wide DOCX row (DOCX table walk)", "cell", 12, wide_row),
    Shape("styles basedOn chain (DOCX styles)", "style", 4, styles_chain),
    Shape("long Markdown table (Markdown reader)", "row", 30, markdown_table),
    Shape("one long line of Chinese (text, normalise)", "character", 2000, long_line),
)


@dataclass(slots=True)
class StagePoint:
    shape: str
    unit: str
    multiple: int
    units: int
    input_bytes: int
    cpu_ms: float
    us_per_unit: float
    outcome: str  # "200" or the problem code (with the cap it names)


def measure(shape: Shape, multiple: int) -> StagePoint:
    from extractors import pipeline
    from extractors.errors import ExtractionError
    from extractors.gate import GateSettings

    options = pipeline.ExtractOptions(gate=GateSettings(threshold=float("-inf")))
    n = shape.base * multiple
    name, data = shape.build(n)
    t0 = time.process_time()
    try:
        pipeline.extract(data, name, options=options)
        outcome = "200"
    except ExtractionError as e:
        cap = e.extra.get("limit") or next((w.strip("().,") for w in e.detail.split() if w.startswith(("max_", "(max_"))), "")
        outcome = f"{e.code} {cap}".strip()
    cpu = time.process_time() - t0
    return StagePoint(shape.name, shape.unit, multiple, n, len(data), cpu * 1000, cpu * 1e6 / n, outcome)


def run(multiples: tuple[int, ...] = MULTIPLES) -> list[StagePoint]:
    points = []
    for shape in SHAPES:
        measure(shape, 1)  # warm caches and imports before the measured runs
        points += [measure(shape, m) for m in multiples]
    return points


def render(points: list[StagePoint]) -> str:
    """One markdown table: CPU µs per unit at each multiple, and the 1,000x/10x ratio (1.0 = linear)."""
    multiples = sorted({p.multiple for p in points})
    head = "| Shape (stage) | unit | " + " | ".join(f"{m:,}×" for m in multiples) + " | 1,000×÷10× per unit |"
    lines = ["### Stage scaling: CPU µs per unit (input size; answer)", "", head, "|" + "---|" * (len(multiples) + 3)]
    for shape in dict.fromkeys(p.shape for p in points):
        row = {p.multiple: p for p in points if p.shape == shape}
        cells = [f"{row[m].us_per_unit:,.1f} ({_size(row[m].input_bytes)}; {row[m].outcome})" for m in multiples]
        ratio = row[1000].us_per_unit / row[10].us_per_unit if 10 in row and 1000 in row and row[10].us_per_unit else float("nan")
        lines.append(f"| {shape} | {row[multiples[0]].unit} | " + " | ".join(cells) + f" | {ratio:.2f} |")
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} B"


if __name__ == "__main__":
    sys.path.insert(0, ".")
    print(render(run()))
