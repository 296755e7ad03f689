"""Rewrite the golden summaries from the current engine: `python -m tests.golden.regen`.

Run it only after checking that a change in output is intended; the diff of
the JSON files is the review.
"""
from __future__ import annotations

import json

from tests.golden.cases import CASES, CORPUS, GOLDEN, summary

from extractors import extract


def main() -> None:
    for rel in CASES:
        path = CORPUS / rel
        out = summary(extract(path.read_bytes(), filename=path.name))
        target = GOLDEN / f"{path.name}.json"
        target.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print("wrote", target.name)


if __name__ == "__main__":
    main()
