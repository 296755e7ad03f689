"""Extract every gold-bearing input of ../shared and score it with the shared scorer.

    .venv/bin/python scripts/score_corpus.py [--out DIR] [--only SUBDIR,...] [--verbose]

Writes one `<input file name>.json` per input into DIR (a temporary folder by default), runs
`../shared/eval/score.py` over them and prints its per-format summary. Inputs the library refuses are
listed with their error code; `corpus/not_reports/` must all be refused as `not-a-report`.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors import ExtractionError, extract  # noqa: E402

SHARED = ROOT.parent / "shared"
FOLDERS = (
    "corpus/txt", "corpus/docx", "corpus/html", "corpus/pdf", "corpus/variants",
    "corpus/crawler", "corpus/markitdown", "formats",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--only", default="", help="comma-separated folders under ../shared, e.g. corpus/crawler")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="govreport-pred-"))
    out.mkdir(parents=True, exist_ok=True)
    gold = {p.stem for p in (SHARED / "corpus" / "gold").glob("*.json")}
    folders = tuple(f for f in args.only.split(",") if f) or FOLDERS
    for folder in folders:
        for p in sorted((SHARED / folder).iterdir()):
            if p.name.split(".")[0] not in gold:
                continue
            try:
                result = extract(p.read_bytes(), filename=p.name)
            except ExtractionError as exc:
                print(f"refused {folder}/{p.name}: {exc.code}: {exc.detail}")
                continue
            (out / f"{p.name}.json").write_text(result.model_dump_json(), encoding="utf-8")
    for p in sorted((SHARED / "corpus" / "not_reports").iterdir()):
        try:
            extract(p.read_bytes(), filename=p.name)
            print(f"NOT REFUSED not_reports/{p.name}")
        except ExtractionError as exc:
            if exc.code != "not-a-report":
                print(f"refused not_reports/{p.name} as {exc.code} (expected not-a-report)")
    cmd = [sys.executable, str(SHARED / "eval" / "score.py"), "--gold", str(SHARED / "corpus" / "gold"),
           "--pred", str(out)] + (["--verbose"] if args.verbose else [])
    print(f"predictions in {out}")
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
