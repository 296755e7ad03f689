"""Measure OCR values against gold on scans generated from the corpus (docs/calibration.md, OCR section).

    .venv/bin/python -m tests.readers.calibrate_ocr [--docs 000_32e6960542ba4ec5,...] [--kinds clean,bad,photo]
        [--dpi 150] [--pages tables|all] [--out FILE.jsonl]

For each corpus PDF (text layer) it renders the pages at 200 dpi, spoils them
(`tests.readers.scans`), reads the image-only PDF back through the whole
pipeline and compares every indicator value with the gold. It prints one line
per scan and a table of (character-score bucket, arithmetic) → values, wrong,
and the confidence range, which is what `confidence.OcrCapSettings` is set from.
CPU-heavy (about 5 CPU-s a page): run it on a few documents at a time.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from extractors.confidence import OCR_CAP
from extractors.model import Document
from extractors.pipeline import extract_document
from extractors.readers import read
from extractors.readers.ocr import DEFAULT_SETTINGS as OCR_SETTINGS
from tests.conftest import CORPUS
from tests.readers import scans

KINDS = {"clean": scans.CLEAN, "bad": scans.BAD, "bad-left": scans.BAD_LEFT, "photo": scans.PHOTO}


def _source_pdf(doc: str) -> Path:
    for folder in ("pdf", "variants"):
        p = CORPUS / folder / f"{doc}.pdf"
        if p.exists():
            return p
    raise SystemExit(f"no text-layer PDF for {doc}")


def cell_quality(doc: Document) -> dict[tuple[int, int, int], float | None]:
    """(table, row, col) → OCR quality of the cells the reader produced."""
    return {(t.index, c.row, c.col): c.quality for t in doc.tables for r in t.rows for c in r}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", default="000_32e6960542ba4ec5,dev05")
    ap.add_argument("--kinds", default="clean,bad")
    ap.add_argument("--pages", default="tables", choices=("tables", "all"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    for doc in args.docs.split(","):
        src = _source_pdf(doc).read_bytes()
        gold = json.loads((CORPUS / "gold" / f"{doc}.json").read_text(encoding="utf-8"))["indicators"]
        pages = scans.table_pages(src) if args.pages == "tables" else None
        clean_pages = scans.render(src, pages)
        for seed, kind in enumerate(args.kinds.split(",")):
            how = KINDS[kind]
            data = scans.to_pdf([scans.degrade(im, how, seed=seed + i) for i, im in enumerate(clean_pages)])
            t = time.process_time()
            document = read(data, f"{doc}.{kind}.pdf")
            result = extract_document(document)
            cpu = time.process_time() - t
            quality = cell_quality(document)
            got = {i.id: i for i in result.indicators if not i.id.startswith("ext.")}
            wrong = missing = 0
            for gid, gv in gold.items():
                ind = got.get(gid)
                if ind is None:
                    missing += gv is not None
                    continue
                ok = ind.value == gv
                wrong += not ok
                s = ind.source
                q = quality.get((s.table, s.row, s.col)) if s.table is not None else None
                rows.append(dict(doc=doc, kind=kind, id=gid, ok=ok, value=ind.value, gold=gv, quality=q,
                                 confidence=ind.confidence))
            extra = [i for i in got if i not in gold]
            print(f"{doc} {kind}: {len(clean_pages)} pages, {cpu / max(len(clean_pages), 1):.1f} CPU-s/page at "
                  f"{OCR_SETTINGS.dpi} dpi; values {len(got)}, wrong {wrong}, missing {missing}, not in gold {len(extra)}",
                  flush=True)
    buckets: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for r in rows:
        q = r["quality"]
        qb = "no score" if q is None else f">= {OCR_CAP.sure_chars}" if q >= OCR_CAP.sure_chars else f"< {OCR_CAP.sure_chars}"
        cb = "conf >= 0.9" if r["confidence"] >= 0.9 else "conf < 0.9"  # type: ignore[operator]
        buckets[(qb, cb)].append(r)
    print("| cell characters | confidence | values | wrong | confidence range |")
    print("|---|---|---|---|---|")
    for (qb, cb), rs in sorted(buckets.items()):
        cs = [r["confidence"] for r in rs]
        print(f"| {qb} | {cb} | {len(rs)} | {sum(not r['ok'] for r in rs)} | {min(cs)}–{max(cs)} |")  # type: ignore[type-var]
    for r in rows:
        if not r["ok"]:
            print("WRONG", r)
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
