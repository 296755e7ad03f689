"""Render the results as markdown tables and judge them against the targets (one rule table)."""
from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .http import Level
from .inprocess import FormatResult, Timing
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
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "load_average": " ".join(f"{x:.2f}" for x in load),  # the machine may be shared: say how busy it was
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "extractor_version": version,
        "commit": _commit(),
    }


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
        return float(m["load_average"].split()[0]) >= float(m["nproc"])
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
    out: list[Check] = []
    by_fmt = {r.fmt: r for r in res.inprocess or []}
    pdf = by_fmt.get("pdf")
    pdf_engine = pdf.engine.summary() if pdf and pdf.engine.per_file else None
    note = _failed_note(pdf)
    out.append(Check(f"PDF median per page{note}", pdf_engine["page_median_ms"] if pdf_engine else None, t.pdf_per_page_median_ms))
    out.append(Check("every corpus PDF (median per file)", pdf_engine["max_file_median_ms"] if pdf_engine else None, t.pdf_per_file_max_median_ms))
    eng = _page_median(pdf.engine) if pdf else None
    out.append(Check("PDF speed-up vs pdfplumber baseline", _ratio(_page_median(pdf.naive) if pdf else None, eng), t.pdf_min_speedup_vs_baseline, True, "×"))
    out.append(Check("PDF time ÷ pypdfium2 floor", _ratio(eng, _page_median(pdf.floor) if pdf else None), t.pdf_max_ratio_to_floor, unit="×"))
    for fmt, limit in t.per_file_median_ms:
        r = by_fmt.get(fmt)
        measured = r.engine.summary()["median_ms"] if r and r.engine.per_file else None
        if r is not None or fmt != "md":  # md is optional in a corpus; the core formats always show
            out.append(Check(f"{fmt.upper()} median per file{_failed_note(r)}", measured, limit))
    return out


def _process_checks(res: Results, t: Targets) -> list[Check]:
    out: list[Check] = []
    if res.scaling is not None or "scaling" in res.errors:
        ref = res.scaling[0].page_median_ms if res.scaling else None
        for p in (res.scaling or [])[1:]:
            out.append(Check(f"per-page cost at {p.pages} pages ÷ 10 pages", _ratio(p.page_median_ms, ref), t.max_per_page_growth, unit="×"))
    mem = res.memory
    if mem is not None or "memory" in res.errors:
        out.append(Check("peak RSS per worker", mem.peak_rss_mb if mem else None, t.max_rss_mb, unit="MB"))
        label = f"RSS growth over {mem.extractions if mem else '?'} extractions"
        out.append(Check(label, mem.growth_mb if mem else None, t.max_rss_growth_mb, unit="MB"))
    if res.http is not None or "http" in res.errors:
        lv = next((x for x in res.http or [] if x.concurrency == t.http_concurrency), None)
        out.append(Check(f"HTTP p99 at {t.http_concurrency} clients", lv.summary()["p99_ms"] if lv and lv.latencies_ms else None, t.http_p99_ms))
        out.append(Check(f"HTTP errors at {t.http_concurrency} clients", float(lv.errors) if lv else None, t.http_max_errors, unit=""))
    return out


def render(res: Results, t: Targets) -> str:
    m = res.machine
    lines = [
        (f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}. Load average at start: {m['load_average']}. "
        f"Engine {m['extractor_version']} at {m['commit']}. Mode: {res.mode}."),
        "",
    ]
    if _busy(m):
        lines += [("**The machine was busy** (load average ≥ CPU count): wall-clock numbers include waiting for a core; "
                  "the CPU/page column shows the work itself."), ""]
    if res.inprocess is not None or res.ocr is not None:
        lines += ["### In-process `extract()`, warm (ms)", ""]
        rows = []
        for r in [*(res.inprocess or []), *([res.ocr] if res.ocr is not None else [])]:
            e = r.engine.summary() if r.engine.per_file else None
            fl, nv, ep = _page_median(r.floor), _page_median(r.naive), _page_median(r.engine)
            rows.append([
                r.fmt.upper(), str(r.files), str(r.pages),
                fmt_ms(e["median_ms"] if e else None), fmt_ms(e["p95_ms"] if e else None),
                fmt_ms(e["page_median_ms"] if e and r.fmt.startswith("pdf") else None),
                fmt_ms(e["page_p95_ms"] if e and r.fmt.startswith("pdf") else None),
                fmt_ms(e["cpu_page_median_ms"] if e else None), fmt_ms(_page_median(r.reader)), fmt_ms(fl), fmt_ms(nv), fmt_ratio(_ratio(ep, fl)), fmt_ratio(_ratio(nv, ep)),
                str(len(r.engine.errors)),
            ])
        lines += _table(
            ["Format", "Files", "Pages", "Median/file", "p95/file", "Median/page", "p95/page",
             "CPU/page", "Reader/page", "Floor/page", "Naive/page", "Engine÷floor", "Naive÷engine", "Engine errors"],
            rows,
        )
        lines += ["", ("CPU/page: median thread CPU time of the same calls (wall time minus waiting for a core on a "
                  "busy machine). Reader: `extractors.readers.read()` alone (the rest of Median/page is the format-independent "
                  "pipeline after it). Floor: pypdfium2 text only (PDF), lxml parse of word/document.xml (DOCX), lxml.html parse (HTML), "
                  "UTF-8 decode (TXT/MD). Naive: pdfplumber extract_text + extract_tables per page (PDF), "
                  "python-docx Document() + every cell.text (DOCX). For non-PDF formats a file counts as one page."
                  + (f" PDF-SCAN (OCR): image-only pages read by the [ocr] extra (one warm call, then timed); peak RSS "
                     f"of the process after it {res.ocr_peak_rss_mb:.0f} MiB." if res.ocr is not None and res.ocr_peak_rss_mb else "")), ""]
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
            ["Pages", "Median/file", "Median/page", "Per page ÷ 10-page files"],
            [[str(p.pages), fmt_ms(p.file_median_ms), fmt_ms(p.page_median_ms),
              p.error or fmt_ratio(_ratio(p.page_median_ms, ref))] for p in res.scaling],
        )
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
