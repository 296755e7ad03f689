"""The full-output golden set: every gold-bearing input of ../shared and its whole `extract()` result.

A speed change must change no result. `tests/test_golden_full.py` compares the
complete response (every field, confidences included) of each input here with
the JSON stored in `tests/golden/full/`; only `extractor_version` is left out,
because it moves with releases and says nothing about the extraction.

Scans are left out: OCR takes seconds per page and is covered by its own tests.
"""
from __future__ import annotations

import json
from pathlib import Path

from extractors import extract

FULL = Path(__file__).resolve().parent / "full"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FOLDERS = (
    "corpus/txt", "corpus/docx", "corpus/html", "corpus/pdf", "corpus/variants",
    "corpus/crawler", "corpus/markitdown", "formats",
)
VARYING = ("extractor_version",)


def cases() -> list[str]:
    """../shared-relative paths of every gold-bearing input except scans."""
    gold = {p.stem for p in (SHARED / "corpus" / "gold").glob("*.json")}
    out = []
    for folder in FOLDERS:
        for p in sorted((SHARED / folder).iterdir()):
            if p.name.split(".")[0] in gold and ".scan" not in p.name:
                out.append(f"{folder}/{p.name}")
    return out


def stored_name(rel: str) -> str:
    """One file per input, named after its folder and file so the renderings of a report don't collide."""
    return rel.replace("/", "__") + ".json"


def full(rel: str) -> dict[str, object]:
    """The complete response for one input as plain JSON data, minus the fields that legitimately vary."""
    path = SHARED / rel
    out = json.loads(extract(path.read_bytes(), filename=path.name).model_dump_json())
    for key in VARYING:
        out.pop(key, None)
    return out


def dumps(data: dict[str, object]) -> str:
    """Canonical text: sorted keys, one indicator/section/finding per line for a readable diff."""
    lines = ["{"]
    items = sorted(data.items())
    for n, (key, value) in enumerate(items):
        sep = "," if n < len(items) - 1 else ""
        if isinstance(value, list):
            inner = ",\n".join("  " + json.dumps(v, ensure_ascii=False, sort_keys=True) for v in value)
            body = f"[\n{inner}\n ]" if value else "[]"
        else:
            body = json.dumps(value, ensure_ascii=False, sort_keys=True)
        lines.append(f" {json.dumps(key)}: {body}{sep}")
    lines.append("}")
    return "\n".join(lines) + "\n"
