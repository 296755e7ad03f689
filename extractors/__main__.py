"""Command line of the library.

    python -m extractors FILE... --out DIR                 one <file name>.json per input
    python -m extractors batch PATH... --out results.jsonl [--long long.parquet] [--csv panel.csv] [--xlsx panel.xlsx]
                                                           [--dta panel.dta] [--conf]
    python -m extractors panel results.jsonl [--csv panel.csv] [--xlsx panel.xlsx] [--dta panel.dta] [--long long.parquet]
    python -m extractors series PATH... --out series.csv [--agency NAME]
    python -m extractors compare A B ... --out DIR

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
_SUBCOMMANDS = ("batch", "panel", "series", "compare")
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
    p.add_argument("--problem-base-uri", default=_BATCH_DEFAULTS.problem_base, metavar="URI",
                   help="base of the problem `type` URIs written for failed files, e.g. a deployment's own "
                        "(as the service's GOVREPORT_PROBLEM_BASE_URI; default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_panel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", type=Path, metavar="PANEL.csv",
                   help="write the panel as CSV, with PANEL_review.csv and PANEL_dictionary.csv next to it")
    p.add_argument("--xlsx", type=Path, metavar="PANEL.xlsx",
                   help="write the panel as an Excel workbook (sheets panel, review, dictionary)")
    p.add_argument("--long", type=Path, metavar="LONG.parquet",
                   help="write the tidy long table (one row per report × indicator): .parquet, else CSV")
    p.add_argument("--dta", type=Path, metavar="PANEL.dta", help="write the wide panel as Stata .dta with variable labels")
    p.add_argument("--conf", action="store_true",
                   help="add a <variable>_conf confidence column after each value in the CSV, XLSX and .dta panels")
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
    series = argparse.ArgumentParser(
        prog=f"{prog} series", description="Per agency and year, the indicators comparable across the 2019 form "
                                           "revision (extractors/data/crosswalk.csv).")
    series.add_argument("paths", nargs="+", metavar="PATH", help="report files, folders, globs or results .jsonl files")
    series.add_argument("--out", type=Path, required=True, metavar="SERIES.csv")
    series.add_argument("--agency", help="keep only agencies whose key contains this name")
    _add_engine_options(series)
    series.add_argument("--min-confidence", type=float, default=_BATCH_DEFAULTS.min_confidence, help=argparse.SUPPRESS)

    comp = argparse.ArgumentParser(
        prog=f"{prog} compare", description="Year-over-year comparison of two or more reports of one agency.")
    comp.add_argument("paths", nargs="+", metavar="REPORT", help="report files or results .jsonl files")
    comp.add_argument("--out", type=Path, required=True, metavar="DIR",
                      help="folder for comparison.json, comparison.md and comparison.html")
    _add_engine_options(comp)
    comp.add_argument("--min-confidence", type=float, default=_BATCH_DEFAULTS.min_confidence, help=argparse.SUPPRESS)
    return {"files": files, "batch": batch, "panel": panel, "series": series, "compare": comp}


def _check_server(url: str) -> str | None:
    """None when `url` answers `GET /healthz` as the service does (2xx, a JSON object); else why not.

    So an unreachable or mis-typed --server (wrong host, port, scheme or path prefix)
    is a usage error before any file, not a failure or retries per file.
    """
    import httpx

    try:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return f"{url}: not an http(s) URL (e.g. http://127.0.0.1:8000)"
        host = parsed.host
        resp = httpx.get(url.rstrip("/") + "/healthz", timeout=5.0,
                         trust_env=host not in ("localhost", "::1") and not host.startswith("127."))
    except (httpx.HTTPError, ValueError) as e:
        return f"{url}: cannot be reached ({type(e).__name__})"
    try:
        body = resp.json() if resp.is_success else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return (f"{url}: GET /healthz answered HTTP {resp.status_code} "
                f"{resp.headers.get('content-type', '')}, not the extraction service's health JSON (wrong URL?)")
    return None


def _engine(args: argparse.Namespace, settings: BatchSettings) -> Engine:
    if args.server:
        return ServerEngine(ServerSettings(url=args.server, concurrency=max(1, args.concurrency),
                                           max_attempts=max(1, args.retries + 1), problem_base=settings.problem_base))
    return LocalEngine(settings)


def _write_panel(records: list[dict], args: argparse.Namespace) -> None:
    """The long table and the wide panel files asked for; all from the one `wide_table`, so the same columns."""
    from .dataset import DatasetSettings, long_rows, wide_table, write_dta, write_long

    ds = DatasetSettings(min_confidence=args.min_confidence)
    if args.long:
        rows = long_rows(records, ds)
        write_long(rows, args.long, ds)
        print(f"Long table: {len(rows)} values -> {args.long}", file=sys.stderr)
    if args.dta:
        write_dta(records, args.dta, ds, conf=args.conf)
        print(f"Stata panel -> {args.dta}", file=sys.stderr)
    if not (args.csv or args.xlsx):
        return
    from .panel import write_csv, write_xlsx

    wide = wide_table(records, ds, conf=args.conf)
    written = write_csv(wide, args.csv) if args.csv else []
    if args.xlsx:
        written.append(write_xlsx(wide, args.xlsx))
    outside = f"; {wide.outside} values of ids outside the column set are in the long table only" if wide.outside else ""
    print(f"Panel: {len(wide.rows)} reports × {len(wide.columns)} columns, {len(wide.review)} cells to review"
          f"{outside} -> " + ", ".join(str(p) for p in written), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m extractors` and the `govreport-extract` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv[0] if argv and argv[0] in _SUBCOMMANDS else "files"
    parser = _parsers()[mode]
    try:
        args = parser.parse_args(argv[1:] if mode != "files" else argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)

    import signal

    def _stop(signum: int, _frame: object) -> None:  # SIGTERM behaves like Ctrl-C: workers are stopped, output flushed
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return _run(mode, args)
    except KeyboardInterrupt:
        again = "run the same command again to resume" if mode == "batch" else "finished files are kept"
        print(f"\ninterrupted: {again}", file=sys.stderr)
        return 130
    except Exception as e:
        from .dataset import MissingExtraError

        if isinstance(e, MissingExtraError):
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(mode: str, args: argparse.Namespace) -> int:
    if mode == "panel":
        if not args.jsonl.is_file():
            print(f"error: {args.jsonl}: no such results file", file=sys.stderr)
            return EXIT_USAGE
        if not (args.csv or args.xlsx or args.long or args.dta):
            print("error: give --csv, --xlsx, --long and/or --dta", file=sys.stderr)
            return EXIT_USAGE
        _write_panel([slim(r) for r in read_jsonl(args.jsonl)], args)
        return EXIT_OK

    settings = BatchSettings(workers=max(1, args.workers), min_confidence=args.min_confidence,
                             problem_base=getattr(args, "problem_base_uri", _BATCH_DEFAULTS.problem_base))
    if args.server and (why := _check_server(args.server)):
        print(f"error: --server {why}", file=sys.stderr)
        return EXIT_USAGE
    engine = _engine(args, settings)
    try:
        if mode in ("series", "compare"):
            return _analyse(mode, args, engine, settings)
        if mode == "files":
            summary = run_to_dir(args.files, args.out, engine, settings, quiet=args.quiet)
        else:
            summary = run_to_jsonl(args.paths, args.out, engine, settings, quiet=args.quiet)
    except InputError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.render(), file=sys.stderr)
    if mode == "batch":
        _write_panel([slim(r) for r in read_jsonl(args.out)], args)
    return EXIT_FAILURES if summary.failures or summary.stopped else EXIT_OK


def _analyse(mode: str, args: argparse.Namespace, engine: Engine, settings: BatchSettings) -> int:
    import csv

    import orjson

    from .batch import records_for

    records = records_for(args.paths, engine, settings, quiet=args.quiet)
    failed = [r for r in records if "result" not in r]
    for r in failed:
        err = r.get("error") or {}
        print(f"  {r['file']}: {err.get('title', 'failed')} ({err.get('status', '?')}) {err.get('detail', '')}", file=sys.stderr)
    if mode == "series":
        from .series import series_columns, series_rows

        rows = series_rows(records, args.agency)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.DictWriter(f, series_columns(), extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        print(f"Series: {len(rows)} agency-years, {len({r['agency_key'] for r in rows})} agencies -> {args.out}",
              file=sys.stderr)
        return EXIT_FAILURES if failed else EXIT_OK
    from .compare import compare, to_html, to_markdown

    results = [r["result"] for r in records if "result" in r]
    if len(results) < 2:
        print("error: a comparison needs at least two extracted reports", file=sys.stderr)
        return EXIT_USAGE
    report = compare(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comparison.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    (args.out / "comparison.md").write_text(to_markdown(report), encoding="utf-8")
    (args.out / "comparison.html").write_text(to_html(report), encoding="utf-8")
    print(f"Comparison: {len(report['pairs'])} pairs -> {args.out}/comparison.{{json,md,html}}", file=sys.stderr)
    return EXIT_FAILURES if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
