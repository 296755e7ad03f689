"""Command line of the library.

    python -m extractors FILE... --out DIR                 one <file name>.json per input
    python -m extractors batch PATH... --out results.jsonl [--csv panel.csv] [--xlsx panel.xlsx]
    python -m extractors panel results.jsonl [--csv panel.csv] [--xlsx panel.xlsx]

Add `--server URL` to send the files to a running service instead of extracting
in this machine's processes. Progress and the summary go to stderr. Exit code:
0 when every file was extracted, 1 when some failed, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .batch import (
    BatchSettings,
    Engine,
    LocalEngine,
    ServerEngine,
    ServerSettings,
    available_cores,
    read_jsonl,
    run_to_dir,
    run_to_jsonl,
    slim,
)
from .errors import InputError
from .version import __version__

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
_SUBCOMMANDS = ("batch", "panel")
_BATCH_DEFAULTS = BatchSettings()
_SERVER_DEFAULTS = ServerSettings(url="")


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=available_cores(),
                   help="worker processes for local extraction (default: number of cores)")
    p.add_argument("--server", metavar="URL",
                   help="send files to a running service (POST URL/v1/extract) instead of extracting locally")
    p.add_argument("--concurrency", type=int, default=_SERVER_DEFAULTS.concurrency,
                   help=f"requests in flight with --server (default: {_SERVER_DEFAULTS.concurrency})")
    p.add_argument("--retries", type=int, default=_SERVER_DEFAULTS.max_attempts - 1,
                   help="retries per file on 503/429 or connection errors with --server, "
                        f"honouring Retry-After (default: {_SERVER_DEFAULTS.max_attempts - 1})")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_panel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", type=Path, metavar="PANEL.csv",
                   help="write the panel as CSV, with PANEL_review.csv and PANEL_dictionary.csv next to it")
    p.add_argument("--xlsx", type=Path, metavar="PANEL.xlsx",
                   help="write the panel as an Excel workbook (sheets panel, review, dictionary)")
    p.add_argument("--min-confidence", type=float, default=_BATCH_DEFAULTS.min_confidence,
                   help="values below this confidence are listed for review (default: %(default)s)")


def _parsers() -> dict[str, argparse.ArgumentParser]:
    prog = "python -m extractors"
    files = argparse.ArgumentParser(
        prog=prog, description="Extract government information-disclosure annual reports to JSON, one file per input.",
        epilog=f"Also: `{prog} batch --help` (many files to JSONL and a panel), `{prog} panel --help`.")
    files.add_argument("files", nargs="+", metavar="FILE", help="report files (folders and globs also work)")
    files.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for <input file name>.json")
    files.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_engine_options(files)
    files.add_argument("--min-confidence", type=float, default=_BATCH_DEFAULTS.min_confidence, help=argparse.SUPPRESS)

    batch = argparse.ArgumentParser(
        prog=f"{prog} batch",
        description="Extract many reports in parallel into one JSONL file (resumable: files whose content is "
                    "already in the output are skipped), optionally with a panel dataset.")
    batch.add_argument("paths", nargs="+", metavar="PATH", help="files, folders (searched recursively) and globs")
    batch.add_argument("--out", type=Path, required=True, metavar="RESULTS.jsonl", help="results, one line per file")
    _add_engine_options(batch)
    _add_panel_options(batch)

    panel = argparse.ArgumentParser(prog=f"{prog} panel", description="Build the panel dataset from a batch's JSONL results.")
    panel.add_argument("jsonl", type=Path, metavar="RESULTS.jsonl")
    _add_panel_options(panel)
    return {"files": files, "batch": batch, "panel": panel}


def _engine(args: argparse.Namespace, settings: BatchSettings) -> Engine:
    if args.server:
        return ServerEngine(ServerSettings(url=args.server, concurrency=max(1, args.concurrency),
                                           max_attempts=max(1, args.retries + 1)))
    return LocalEngine(settings)


def _write_panel(records: list[dict], args: argparse.Namespace) -> None:
    from .panel import PanelSettings, build_panel, write_csv, write_xlsx

    if not (args.csv or args.xlsx):
        return
    settings = PanelSettings(min_confidence=args.min_confidence)
    panel = build_panel(records, settings)
    written = write_csv(panel, args.csv, settings) if args.csv else []
    if args.xlsx:
        written.append(write_xlsx(panel, args.xlsx, settings))
    print(f"Panel: {len(panel.rows)} reports × {len(panel.columns)} columns, {len(panel.review)} cells to review -> "
          + ", ".join(str(p) for p in written), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m extractors` and the `govreport-extract` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv[0] if argv and argv[0] in _SUBCOMMANDS else "files"
    parser = _parsers()[mode]
    try:
        args = parser.parse_args(argv[1:] if mode != "files" else argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)

    if mode == "panel":
        if not args.jsonl.is_file():
            print(f"error: {args.jsonl}: no such results file", file=sys.stderr)
            return EXIT_USAGE
        if not (args.csv or args.xlsx):
            print("error: give --csv and/or --xlsx", file=sys.stderr)
            return EXIT_USAGE
        _write_panel([slim(r) for r in read_jsonl(args.jsonl)], args)
        return EXIT_OK

    settings = BatchSettings(workers=max(1, args.workers), min_confidence=args.min_confidence)
    engine = _engine(args, settings)
    try:
        if mode == "files":
            summary = run_to_dir(args.files, args.out, engine, settings, quiet=args.quiet)
        else:
            summary = run_to_jsonl(args.paths, args.out, engine, settings, quiet=args.quiet)
    except InputError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        again = "run the same command again to resume" if mode == "batch" else "finished files are in the folder"
        print(f"\ninterrupted: {again}", file=sys.stderr)
        return 130
    print(summary.render(), file=sys.stderr)
    if mode == "batch":
        _write_panel([slim(r) for r in read_jsonl(args.out)], args)
    return EXIT_FAILURES if summary.failures else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
