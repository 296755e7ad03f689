"""`python -m bench`: run the benchmark sections and print one markdown report.

    python -m bench                    # full run, a few minutes
    python -m bench --quick            # under a minute: fewer repetitions, smaller runs
    python -m bench --corpus DIR --json out.json --sections inprocess,http
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from . import coldworker, corpus, http, inprocess, ocr, report, scaling, stage_scaling, workers
from .settings import FULL, QUICK, TARGETS, BenchSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT / ".." / "shared" / "corpus"
SECTIONS: tuple[str, ...] = ("inprocess", "ocr", "throughput", "http", "cold", "memory", "scaling")
OPTIONAL_SECTIONS: tuple[str, ...] = ("stage-scaling",)  # only when named: generated inputs up to 1,000x a report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: ../shared/corpus from the repo root)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions and smaller runs (under a minute)")
    p.add_argument("--json", type=Path, help="also write the raw numbers to this JSON file")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of sections to run (default: all of {','.join(SECTIONS)})")
    p.add_argument("--workers", type=int, help="N for the N-process throughput run (default: CPU count, at least 2)")
    p.add_argument("--max-files-per-format", type=int, help="use at most this many corpus files per format")
    p.add_argument("--rss-extractions", type=int, help="extractions in the memory section (default 500; 100 with --quick)")
    p.add_argument("--http-requests", type=int, help="requests per HTTP level and per service/pool slice (default 160; 48 with --quick)")
    p.add_argument("--app-cmd", default=http.DEFAULT_APP_CMD, help="command starting the service; {python} {host} {port} are filled in, and HOST/PORT and GOVREPORT_HOST/GOVREPORT_PORT are set")
    args = p.parse_args(argv)
    unknown = set(args.sections.split(",")) - set(SECTIONS) - set(OPTIONAL_SECTIONS)
    if unknown:
        p.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


def settings_from(args: argparse.Namespace) -> BenchSettings:
    s = QUICK if args.quick else FULL
    overrides = {
        "workers": args.workers,
        "max_files_per_format": args.max_files_per_format,
        "rss_extractions": args.rss_extractions,
        "http_requests_per_level": args.http_requests,
    }
    return replace(s, **{k: v for k, v in overrides.items() if v is not None})


def _progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> report.Results:
    s = settings_from(args)
    root = args.corpus.resolve()
    files = corpus.load(root, s.max_files_per_format)
    if not files:
        raise SystemExit(f"no report files under {root}")
    wanted = args.sections.split(",")
    res = report.Results(machine=report.machine(), mode="quick" if args.quick else "full")
    pdfs = [f for f in files if f.fmt == "pdf"]

    def do_inprocess() -> None:
        res.inprocess = inprocess.run(files, s)

    def do_ocr() -> None:
        res.ocr, res.ocr_peak_rss_mb = ocr.run(root, pdfs, s)

    def do_throughput() -> None:
        res.throughput = [
            workers.throughput(root, files, s.max_files_per_format, n, s.throughput_rounds) for n in sorted({1, s.workers})
        ]

    def do_http() -> None:
        res.http, res.http_pool = http.run(
            files, args.app_cmd, REPO_ROOT, s.http_concurrency, s.http_requests_per_level,
            s.http_seconds_per_level, s.http_ready_timeout, s.http_request_timeout,
            s.http_pool_slices, TARGETS.http_concurrency,
        )

    def do_cold() -> None:
        res.cold = coldworker.run(files, s.cold_trials)

    def do_memory() -> None:
        res.memory = workers.memory(root, s.max_files_per_format, s.rss_extractions)

    def do_scaling() -> None:
        if not pdfs:
            raise RuntimeError("the corpus has no PDF")
        res.scaling = scaling.run(pdfs, s.scaling_pages, s.scaling_repetitions)

    steps: dict[str, Callable[[], None]] = {
        "inprocess": do_inprocess, "ocr": do_ocr, "throughput": do_throughput, "http": do_http, "cold": do_cold,
        "memory": do_memory, "scaling": do_scaling,
    }
    for name in SECTIONS:
        if name not in wanted:
            continue
        _progress(f"{name} …")
        t0 = time.perf_counter()
        try:
            steps[name]()
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            res.errors[name] = f"{type(exc).__name__}: {exc}"[:600]
        _progress(f"{name} done in {time.perf_counter() - t0:.1f}s")
    res.machine["load_average_end"] = report.load_average()
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    res = run(args)
    print(report.render(res, TARGETS))
    if "stage-scaling" in args.sections.split(","):
        _progress("stage-scaling …")
        print("\n" + stage_scaling.render(stage_scaling.run()))
    if args.json:
        args.json.write_text(json.dumps(res.to_json(), ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
