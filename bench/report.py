"""Render the results as markdown tables and judge them against the targets (one rule table)."""
from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .coldworker import ColdWorker
from .http import Level, PoolComparison
from .inprocess import FormatResult, Timing, post_reader_median
from .scaling import ScalingPoint
from .settings import Targets
from .workers import Memory, Throughput


@dataclass(slots=True)
class Results:
    """Every section's output; a section that was skipped is None, one that failed has an entry in `errors`."""

    machine: dict[str, str]
    mode: str
    inprocess: list[FormatResult] | None = None
    throughput: list[Throughput] | None = None
    http: list[Level] | None = None
    http_pool: PoolComparison | None = None  # service vs bare pool at the target concurrency
    cold: ColdWorker | None = None
    memory: Memory | None = None
    scaling: list[ScalingPoint] | None = None
    ocr: FormatResult | None = None  # scanned pages through OCR (a row of the in-process table)
    ocr_peak_rss_mb: float | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "machine": self.machine,
            "mode": self.mode,
            "inprocess": None if self.inprocess is None else [r.to_json() for r in self.inprocess],
            "throughput": None if self.throughput is None else [t.to_json() for t in self.throughput],
            "http": None if self.http is None else [lv.to_json() for lv in self.http],
            "http_vs_pool": None if self.http_pool is None else self.http_pool.to_json(),
            "cold_worker": None if self.cold is None else self.cold.to_json(),
            "memory": None if self.memory is None else self.memory.to_json(),
            "scaling": None if self.scaling is None else [vars_of(p) for p in self.scaling],
            "ocr": None if self.ocr is None else {**self.ocr.to_json(), "peak_rss_mb": self.ocr_peak_rss_mb},
            "errors": self.errors,
            "targets": [c.to_json() for c in checks(self, Targets())],
        }


def vars_of(obj: object) -> dict[str, object]:
    return {k: getattr(obj, k) for k in obj.__slots__}  # type: ignore[attr-defined]


def machine() -> dict[str, str]:
    """What the numbers were measured on: they mean nothing without it."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        from extractors.version import __version__ as version
    except ImportError:
        version = "?"
    return {
        "load_average": load_average(),  # the machine may be shared: say how busy it was (again at the end)
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "extractor_version": version,
        "commit": _commit(),
    }


def load_average() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return " ".join(f"{x:.2f}" for x in load)


def _commit() -> str:
    """HEAD of the checkout, with "+dirty" when files differ from it (numbers belong to a code state)."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=repo, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], check=False, cwd=repo,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if head.returncode == 0 else "unknown"


def _busy(m: dict[str, str]) -> bool:
    try:
        load = max(float(m[k].split()[0]) for k in ("load_average", "load_average_end") if k in m)
        return load >= float(m["nproc"])
    except (KeyError, ValueError, IndexError):
        return False


def fmt_ms(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "—"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.1f}×"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return None
    return a / b


def _page_median(t: Timing | None) -> float | None:
    return None if t is None or not t.per_page else t.summary()["page_median_ms"]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


@dataclass(frozen=True, slots=True)
class Check:
    """One target: a measured number, its limit, and which side of the limit passes."""

    label: str
    measured: float | None
    limit: float
    at_least: bool = False  # True: measured must be ≥ limit; False: ≤ limit
    unit: str = "ms"

    @property
    def met(self) -> bool | None:
        if self.measured is None or math.isnan(self.measured):
            return None
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def to_json(self) -> dict[str, object]:
        return {"label": self.label, "measured": self.measured, "limit": self.limit, "at_least": self.at_least, "met": self.met}


def _failed_note(r: FormatResult | None) -> str:
    """Timing targets are judged on the files the engine read; say how many it could not."""
    if r is None or not r.engine.errors:
        return ""
    return f" ({len(r.engine.errors)} of {r.files} files failed)"


def checks(res: Results, t: Targets) -> list[Check]:
    """Every target of the issue as a Check; a section that did not run gives unmeasured checks."""
    out: list[Check] = []
    if res.inprocess is not None or "inprocess" in res.errors:
        out += _inprocess_checks(res, t)
    return out + _process_checks(res, t)


def _inprocess_checks(res: Results, t: Targets) -> list[Check]:
    by_fmt = {r.fmt: r for r in res.inprocess or []}
    pdf = by_fmt.get("pdf")
    out = [Check(f"PDF engine ÷ char-box floor (paired CPU){_failed_note(pdf)}",
                 pdf.ratios.get("engine/charbox_floor") if pdf else None, t.pdf_max_ratio_to_charbox_floor, unit="×")]
    for fmt, limit in t.max_ratio_to_floor:
        r = by_fmt.get(fmt)
        out.append(Check(f"{fmt.upper()} engine ÷ parse+text floor (paired CPU){_failed_note(r)}",
                         r.ratios.get("engine/floor") if r else None, limit, unit="×"))
    out.append(Check("post-reader stages, median CPU per report", post_reader_median(res.inprocess or []),
                     t.post_reader_median_ms))
    return out


def _process_checks(res: Results, t: Targets) -> list[Check]:
    out: list[Check] = []
    if res.scaling is not None or "scaling" in res.errors:
        ref = res.scaling[0].page_median_ms if res.scaling else None
        for p in (res.scaling or [])[1:]:
            out.append(Check(f"per-page cost at {p.pages} pages ÷ 10 pages", _ratio(p.page_median_ms, ref), t.max_per_page_growth, unit="×"))
        big = next((p for p in (res.scaling or []) if p.pages == 300), None)
        out.append(Check("peak RSS extracting the 300-page PDF", big.peak_rss_mb if big else None,
                         t.max_peak_rss_mb_300_pages, unit="MiB"))
    if res.http is not None or "http" in res.errors:
        cmp = res.http_pool
        out.append(Check(f"HTTP ÷ bare pool throughput at {t.http_concurrency} clients (paired slices)",
                         cmp.ratio if cmp and cmp.ratios else None, t.http_min_ratio_to_pool, True, "×"))
        lv = next((x for x in res.http or [] if x.concurrency == t.http_concurrency), None)
        errors = None if lv is None else float(lv.errors + (cmp.errors if cmp else 0))
        out.append(Check(f"HTTP errors at {t.http_concurrency} clients", errors, t.http_max_errors, unit=""))
    if res.cold is not None or "cold" in res.errors:
        out.append(Check("cold worker: first request ÷ a warm worker's tenth", res.cold.ratio if res.cold and res.cold.samples else None,
                         t.cold_max_ratio, unit="×"))
    mem = res.memory
    if mem is not None or "memory" in res.errors:
        label = f"RSS growth over {mem.extractions if mem else '?'} extractions"
        out.append(Check(label, mem.growth_mb if mem else None, t.max_rss_growth_mb, unit="MiB"))
    return out


def _cpu(t: Timing | None, per_page: bool = False) -> float | None:
    if t is None or not t.cpu_per_file:
        return None
    return t.summary()["cpu_page_median_ms" if per_page else "cpu_median_ms"]


def render(res: Results, t: Targets) -> str:
    m = res.machine
    lines = [
        (f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}. "
         f"Load average (1, 5, 15 min) at start: {m['load_average']}; at the end: {m.get('load_average_end', '?')}. "
         f"Engine {m['extractor_version']} at {m['commit']}. Mode: {res.mode}."),
        "",
    ]
    if _busy(m):
        lines += [("**The machine was busy** (load average ≥ CPU count): wall-clock numbers include waiting for a core "
                  "and even CPU times are inflated by contention; the paired ratios compare candidates under the same load."), ""]
    if res.inprocess is not None or res.ocr is not None:
        lines += ["### In-process, warm, every candidate round-robin in one run (ms; CPU = thread CPU time)", ""]
        rows = []
        for r in res.inprocess or []:
            pdf = r.fmt == "pdf"
            e = r.engine.summary() if r.engine.per_file else None
            rows.append([
                r.fmt.upper(), str(r.files), str(r.pages),
                fmt_ms(_cpu(r.engine)), fmt_ms(e["median_ms"] if e else None),
                fmt_ms(_cpu(r.engine, True) if pdf else None),
                fmt_ms(_cpu(r.reader, pdf)), fmt_ms(_cpu(r.post_reader)),
                fmt_ms(_cpu(r.floor, pdf)), fmt_ms(_cpu(r.charbox_floor, pdf)), fmt_ms(_cpu(r.naive, pdf)),
                fmt_ratio(r.ratios.get("engine/floor")), fmt_ratio(r.ratios.get("engine/charbox_floor")),
                fmt_ratio(r.ratios.get("naive/engine")), str(len(r.engine.errors)),
            ])
        lines += _table(
            ["Format", "Files", "Pages", "Engine CPU/file", "Engine wall/file", "Engine CPU/page", "Reader CPU",
             "Post-reader CPU", "Floor CPU", "Char-box floor CPU", "Naive CPU", "Engine÷floor", "Engine÷char-box",
             "Naive÷engine", "Engine errors"],
            rows,
        )
        lines += ["", ("Medians over every (file, round). Reader, floors and naive are per page for PDF, per file otherwise; "
                  "ratios are medians of per-(file, round) ratios of CPU time. Reader: `extractors.readers.read()`. "
                  "Post-reader: `extract_document()` on a freshly read document. Floor: pypdfium2 text (PDF), unzip + lxml "
                  "parse + text of word/document.xml (DOCX), lxml.html parse + text (HTML), UTF-8 decode (TXT/MD). "
                  "Char-box floor: pypdfium2 text + `FPDFText_GetLooseCharBox` for every character. Naive: pdfplumber "
                  "extract_text + extract_tables per page (PDF), python-docx Document() + every cell.text (DOCX)."), ""]
        if res.ocr is not None:
            o = res.ocr.engine
            lines += [(f"OCR (`[ocr]` extra, scanned pages, timed alone: seconds a page): {res.ocr.files} files, "
                       f"{res.ocr.pages} pages, {fmt_ms(_cpu(o, True))} ms CPU and {fmt_ms(o.summary()['page_median_ms'] if o.per_page else None)} "
                       f"ms wall per page, {len(o.errors)} errors"
                       + (f"; peak RSS of the process after it {res.ocr_peak_rss_mb:.0f} MiB." if res.ocr_peak_rss_mb else ".")), ""]
        everything = [*(res.inprocess or []), *([res.ocr] if res.ocr is not None else [])]
        failed = {f"{r.fmt}/{name}": err for r in everything for name, err in r.engine.errors.items()}
        for key, err in list(failed.items())[:10]:
            lines.append(f"- engine error on `{key}`: {err}")
        if failed:
            lines.append("")
    if res.throughput is not None:
        lines += ["### Throughput (warm worker processes)", ""]
        lines += _table(
            ["Workers", "Files", "Seconds", "Files/s", "Failures"],
            [[str(x.workers), str(x.files), f"{x.seconds:.2f}", f"{x.files_per_second:.1f}", str(x.failures)] for x in res.throughput],
        )
        lines.append("")
    if res.http is not None:
        lines += ["### HTTP `POST /v1/extract` end to end (ms)", ""]
        rows = []
        for lv in res.http:
            s = lv.summary()
            rows.append([str(lv.concurrency), str(lv.requests), str(lv.errors), fmt_ms(s["p50_ms"]), fmt_ms(s["p95_ms"]),
                         fmt_ms(s["p99_ms"]), f"{s['requests_per_second']:.1f}"])
        lines += _table(["Clients", "Requests", "Errors", "p50", "p95", "p99", "Req/s"], rows)
        lines += ["", ("Where the time goes (medians, ms): the service's `Server-Timing` parts, latency by format, "
                  "and the share of a core the benchmark client itself used."), ""]
        parts = sorted({k for lv in res.http for k in lv.server_ms})
        fmts = [f for f in ("pdf", "docx", "html", "txt", "md") if any(f in lv.by_format_ms for lv in res.http)]
        rows = []
        for lv in res.http:
            sm, fm = lv.server_medians(), lv.format_medians()
            rows.append([str(lv.concurrency), *(fmt_ms(sm.get(k)) for k in parts), *(fmt_ms(fm.get(f)) for f in fmts),
                         f"{lv.summary()['client_cpu_share']:.0%}"])
        lines += _table(["Clients", *(f"server {k}" for k in parts), *(f"{f.upper()} p50" for f in fmts), "client CPU"], rows)
        kinds = {k: v for lv in res.http for k, v in lv.error_kinds.items()}
        if kinds:
            lines += ["", "Errors: " + ", ".join(f"{k} ×{v}" for k, v in kinds.items())]
        lines.append("")
    if res.http_pool is not None:
        cmp = res.http_pool
        lines += [f"### Service vs bare worker pool at {cmp.concurrency} clients ({cmp.workers} workers each, alternating slices)", ""]
        rows = []
        for i, (h, p) in enumerate(zip(cmp.http, cmp.pool, strict=False)):
            hs, ps = h.summary(), p.summary()
            rows.append([str(i + 1), f"{hs['requests_per_second']:.1f}", f"{ps['requests_per_second']:.1f}",
                         fmt_ratio(_ratio(hs["requests_per_second"], ps["requests_per_second"])), str(h.errors), str(p.errors),
                         fmt_ms(hs["p50_ms"]), fmt_ms(ps["p50_ms"])])
        lines += _table(["Slice", "HTTP req/s", "Pool req/s", "HTTP÷pool", "HTTP errors", "Pool errors", "HTTP p50", "Pool p50"], rows)
        lines += ["", ("Bare pool: the service's own `app.pool.WorkerPool` with the service's settings, driven in the benchmark "
                  "process by the same closed loop of clients over the same files (bytes in the job, no HTTP, no spooling). "
                  "Slices alternate ABBA; the target is judged on the median of the per-slice ratios."), ""]
    if res.cold is not None:
        c = res.cold
        lines += [f"### Cold worker: a new worker's first request ÷ a warm worker's {c.warm_index}th (ms)", ""]
        lines += _table(["Format", "Trials", "First: worker CPU", f"Warm ({c.warm_index}th): worker CPU", "Ratio (CPU)",
                         "First: round trip", "Warm: round trip"],
                        [[fmt.upper(), f"{v['trials']:.0f}", fmt_ms(v["first_ms"]), fmt_ms(v["warm_ms"]), fmt_ratio(v["ratio"]),
                          fmt_ms(v["first_wall_ms"]), fmt_ms(v["warm_wall_ms"])]
                         for fmt, v in c.by_format().items()])
        lines += ["", (f"`{c.start_method}` workers, one at a time, replaced after {c.warm_index} jobs (`max_tasks_per_child`); "
                       f"starting the pool (forkserver start, preload and warm-up, first fork) took {c.pool_start_ms:.0f} ms. "
                       f"The warm reference is a report the worker has not seen in any format (after {c.warm_index - 2} "
                       "other reports). Ratio: median of per-trial ratios; overall median "
                       f"{fmt_ratio(c.ratio)}." + (f" Errors: {c.errors}" if c.errors else "")), ""]
    if res.memory is not None:
        mem = res.memory
        lines += ["### Memory of one worker (MB)", ""]
        lines += _table(
            ["Extractions", "RSS after warm-up", f"RSS after {mem.extractions}", "Growth", "Peak RSS", "Failures"],
            [[str(mem.extractions), f"{mem.rss_after_warmup_mb:.1f}", f"{mem.rss_after_mb:.1f}", f"{mem.growth_mb:+.1f}",
              f"{mem.peak_rss_mb:.1f}", str(mem.failures)]],
        )
        lines.append("")
    if res.scaling is not None:
        lines += ["### Cost growth: synthetic PDFs from corpus pages (ms)", ""]
        ref = res.scaling[0].page_median_ms if res.scaling else None
        lines += _table(
            ["Pages", "Median/file", "Median/page", "Per page ÷ 10-page files", "Peak RSS before (MiB)", "Peak RSS after (MiB)"],
            [[str(p.pages), fmt_ms(p.file_median_ms), fmt_ms(p.page_median_ms),
              p.error or fmt_ratio(_ratio(p.page_median_ms, ref)),
              "—" if p.peak_rss_before_mb is None else f"{p.peak_rss_before_mb:.0f}",
              "—" if p.peak_rss_mb is None else f"{p.peak_rss_mb:.0f}"] for p in res.scaling],
        )
        lines += ["", ("Peak RSS: VmHWM of a fresh spawned process after one extraction of a 10-page corpus PDF (before) and "
                  "after one extraction of the synthetic PDF (after).")]
        lines.append("")
    for section, err in res.errors.items():
        lines += [f"- section `{section}` failed: {err}"]
    if res.errors:
        lines.append("")
    lines += ["### Targets", ""]
    rows = []
    for c in checks(res, t):
        measured = "not measured" if c.met is None else (f"{c.measured:.0f}" if c.unit == "" else f"{fmt_ms(c.measured)} {c.unit}")
        limit = f"{'≥' if c.at_least else '≤'} {c.limit:g} {c.unit}".rstrip()
        rows.append([c.label, measured, limit, {True: "met", False: "**not met**", None: "—"}[c.met]])
    lines += _table(["Target", "Measured", "Limit", "Status"], rows)
    return "\n".join(lines) + "\n"
