"""Rewrite the full-output golden files from the current engine: `python -m tests.golden.regen_full`.

Run it only when a change of output is intended (never for a speed change); the
diff of `tests/golden/full/` is the review.
"""
from __future__ import annotations

from tests.golden.full_cases import FULL, cases, dumps, full, stored_name


def main() -> None:
    FULL.mkdir(exist_ok=True)
    keep = set()
    for rel in cases():
        name = stored_name(rel)
        keep.add(name)
        (FULL / name).write_text(dumps(full(rel)), encoding="utf-8")
        print("wrote", name)
    for stale in FULL.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()
            print("removed", stale.name)


if __name__ == "__main__":
    main()
