"""`python -m bench.profile`: where `extract()` spends its time, per format (cProfile, stdlib only).

    python -m bench.profile --format pdf --top 25 [--sort tottime|cumulative] [--out pdf.prof]

Profiles warm calls only (each file is extracted once before profiling starts), so the
output shows steady-state hotspots, not import or first-call cost.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from pathlib import Path

from .__main__ import DEFAULT_CORPUS
from .corpus import FORMAT_ORDER, load
from .inprocess import engine_call


def profile(root: Path, fmt: str, repetitions: int) -> cProfile.Profile:
    files = [f for f in load(root) if f.fmt == fmt]
    if not files:
        raise SystemExit(f"no {fmt} files under {root}")
    for f in files:
        engine_call(f)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repetitions):
        for f in files:
            engine_call(f)
    prof.disable()
    return prof


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--format", choices=FORMAT_ORDER, default="pdf")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime")
    p.add_argument("--out", type=Path, help="also save the raw profile (for snakeviz / pstats)")
    args = p.parse_args(argv)
    prof = profile(args.corpus.resolve(), args.format, args.repetitions)
    if args.out:
        prof.dump_stats(args.out)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
