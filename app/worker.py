"""What runs inside a pool worker process: the extraction task and the process main loop.

The worker owns all CPU work so the event loop never parses a document. It
limits its own address space (a decompression bomb fails its request, not the
host) and the CPU time of each task (RLIMIT_CPU set to "used so far + the cap"
before the task: past it the kernel's SIGXCPU ends the process, even inside
native code, and the pool answers 422 naming the cap). Every job is answered
with a picklable `Reply` carrying the task's CPU seconds; library errors travel
as (class path, detail, extra) because exception pickling drops `extra`.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib
import logging
import math
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path

from extractors import (
    ExtractionError,
    ExtractionResult,
    ExtractOptions,
    ReadOptions,
    ResourceLimitError,
    UnsupportedFormatError,
    extract,
)
from extractors.pipeline import document_response
from extractors.readers import ocr, sniff
from extractors.readers import read as read_document

log = logging.getLogger("app.worker")


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """One extraction request as sent to a worker: the bytes, or the spooled file the worker reads them from."""

    data: bytes = b""
    filename: str | None = None
    content_type: str | None = None
    max_pages: int = 500
    path: str | None = None
    max_ocr_pages: int = 50
    ocr_threads: int = 1
    progress: bool = False  # send `Progress` messages while reading (async jobs show pages done/total)


@dataclass(frozen=True, slots=True)
class Progress:
    """Pages read so far of a running job; sent before its `Reply`, at most every `PROGRESS_INTERVAL_SECONDS`."""

    done: int
    total: int


PROGRESS_INTERVAL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Stage:
    """Where the worker's job is now, sent before each step: `read` (a reader, often native code: pdfium,
    lxml, calamine) or `stages` (everything after the reader). If the worker dies, the pool knows which."""

    name: str
    format: str | None = None


READING, LATER_STAGES = "read", "stages"


class _ProgressSender:
    """The reader's `on_page` in a worker: throttled `Progress` messages on the job's pipe (bounded traffic)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = now
        try:
            self._conn.send(Progress(done, total))
        except (OSError, ValueError):
            pass  # the parent went away or stopped listening: the result matters, not the progress


_progress: _ProgressSender | None = None  # set by `worker_main` for the job it runs (one job per process)
_stages: Connection | None = None  # the job's pipe, for `Stage` messages (set by `worker_main`)
_memory_limit_mb = 0  # this worker's address-space cap, for the error that names it


def report_stage(name: str, fmt: str | None = None) -> None:
    """Tell the parent which step the job is entering (a no-op outside a pool worker)."""
    if _stages is None:
        return
    try:
        _stages.send(Stage(name, fmt))
    except (OSError, ValueError):
        pass


@dataclass(frozen=True, slots=True)
class JobOutput:
    """A successful extraction: the contract JSON plus labels for metrics."""

    format: str
    template: str
    result_json: bytes
    ocr_pages: int = 0  # pages this job OCR'd, and the wall time they took
    ocr_seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time (user + system, all threads) the worker spent on this job


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A library error in transportable form."""

    module: str
    qualname: str
    detail: str
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """The worker's answer to one job; `recycle` asks the parent to replace this process."""

    output: JobOutput | None = None
    error: ErrorInfo | None = None
    bug: str | None = None
    recycle: bool = False
    cpu_seconds: float = 0.0  # CPU time of this job in the worker, whatever its outcome


Task = Callable[[ExtractJob], JobOutput]


def result_bytes(result: ExtractionResult) -> bytes:
    """The contract JSON as bytes, serialised once here: the service passes them through untouched."""
    return result.to_json()


def run_extract(job: ExtractJob) -> JobOutput:
    """The production task: sniff the bytes (for the format label), then run the whole pipeline."""
    fmt = sniff(job.data, job.filename, job.content_type)
    if fmt is None:
        raise UnsupportedFormatError(
            "The bytes are not a format the service reads (see GET /v1/formats).",
            hint="Save the report as .docx or as a PDF with a text layer.",
        )
    options = ExtractOptions(
        read=ReadOptions(
            max_pages=job.max_pages, max_ocr_pages=job.max_ocr_pages, ocr_threads=job.ocr_threads,
            on_page=_progress if job.progress else None,
        )
    )
    pages0, seconds0 = ocr.USAGE.pages, ocr.USAGE.seconds
    report_stage(READING, fmt)  # `extract` = read + the later stages, split so the pool can tell the steps apart
    doc = read_document(job.data, job.filename, job.content_type, options.read)
    report_stage(LATER_STAGES, fmt)
    # the response as plain data, serialised once: no result models are built in the worker
    response = document_response(doc, options)
    document = response.data["document"]
    return JobOutput(
        format=document["format"] or fmt,
        template=document["template"]["value"],
        result_json=response.to_json(),
        ocr_pages=ocr.USAGE.pages - pages0,
        ocr_seconds=ocr.USAGE.seconds - seconds0,
    )


def warm_up() -> int:
    """Do the engine's one-time set-up now, not on a request: run every knowledge loader (catalogue, label
    aliases, forms, section titles, compiled rule sets: the zero-argument cached functions of the loaded
    `extractors` modules). The forkserver calls this (app.preload) before it forks any worker, so new and
    recycled workers inherit the result instead of paying it on their first request.

    Then it extracts one report composed from the packaged knowledge (`warm_up_files`: as Markdown, DOCX,
    HTML, and a small PDF): the memo caches of label keys, title matches and fuzzy scores fill with the
    statutory labels every report prints, and every reader's and stage's lazy state is built.

    Returns how many loaders ran. Never raises: a failing step only leaves its cost to the first request.
    """
    import inspect

    ran = 0
    for name, module in list(sys.modules.items()):
        if not (name == "extractors" or name.startswith("extractors.")) or module is None:
            continue
        for obj in list(vars(module).values()):
            if not isinstance(obj, functools._lru_cache_wrapper) or getattr(obj, "__module__", None) != name:
                continue
            try:
                params = inspect.signature(obj).parameters.values()
                if any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                    continue
                obj()
                ran += 1
            except Exception as e:  # noqa: BLE001 - warming is an optimisation, never a reason not to serve
                log.warning("warm-up of %s.%s failed: %r", name, obj.__name__, e)
    _extract_warm_up_files()
    return ran


def _extract_warm_up_files() -> None:
    for name, data in warm_up_files():
        try:
            extract(data, name)
        except ExtractionError:
            pass  # the stages ran up to the gate's verdict: that is all the warming needed
        except Exception as e:  # noqa: BLE001 - warming is an optimisation, never a reason not to serve
            log.warning("warm-up extraction of %s failed: %r", name, e)


READY = "ready"  # a worker's first message: it has settled and takes jobs


def settle() -> None:
    """A new worker's own pass over the warm-up inputs, before it reports ready.

    The forkserver built every cache before forking, but the child shares those pages copy-on-write: the
    first time it touches an object (a reference count is a write) the kernel copies the page. Doing that
    here, on the warm-up inputs that walk the paths every report takes, moves the copying and the remaining
    first-use costs to the worker's start instead of its first request (measured: a DOCX report's first
    request in a new worker cost 2.2x its tenth without this).
    """
    _extract_warm_up_files()


_NUMERALS = "一二三四五六七八九十"


def _warm_up_content() -> tuple[list[str], list[str]]:
    """(numbered section titles, statistics labels) from data/sections.toml (each section's first alias)
    and the catalogue (each label as a table prints it)."""
    import tomllib
    from importlib import resources

    from extractors.catalogue import catalogue

    sections = tomllib.loads(resources.files("extractors").joinpath("data/sections.toml").read_text(encoding="utf-8"))
    titles = [s["aliases"][0] for s in sections.get("section", []) if s.get("aliases")][: len(_NUMERALS)]
    labels = list(dict.fromkeys(d.label_zh.split("·")[-1] for d in catalogue().values()))
    return [f"{_NUMERALS[i]}、{t}" for i, t in enumerate(titles)], labels


def _markdown_report(titles: list[str], tables: dict[int, list[str]]) -> bytes:
    """A report title, a numbered heading and a sentence per section title, and under the section of each
    index of `tables` the Markdown lines given for it."""
    lines = ["# 政府信息公开工作年度报告", ""]
    for i, title in enumerate(titles):
        lines += [f"## {title}", "", f"本年度{title[2:]}如下。", "", *tables.get(i, ())]
    return "\n".join(lines).encode()


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def warm_up_report() -> bytes:
    """A Markdown report made of the package's own knowledge: a numbered heading per section and, under the
    second, a table of every catalogue label with a value. Not any real report: it only makes the warm-up
    walk the paths a report takes."""
    titles, labels = _warm_up_content()
    return _markdown_report(titles, {1: _markdown_table(["指标", "数量"], [[label, str(n % 7)] for n, label in enumerate(labels)])})


def warm_up_revised_report() -> bytes:
    """A Markdown report laid out as the 2019 revision's forms, from the package's own knowledge: 表二 (the
    catalogue's 本年制发/本年废止/现行有效 rows), 表三 (the newest printing's rows from data/forms.toml, one
    label cell per level, the seven applicant columns) and 表四 (the review and litigation groups), every
    value 0. `warm_up_report`'s flat table reads as the legacy form, so without this the 表三 reading and
    its memos were first filled by a worker's first revised report (measured: its first extraction
    1.48x its second in a warmed process, 1.26x with this)."""
    from extractors.catalogue import catalogue
    from extractors.forms import FORMS

    cat, forms = catalogue(), FORMS()

    def parts(indicator: str) -> list[str]:
        """The levels of the indicator's label on the newer form, form notes removed."""
        return cat[indicator].labels[-1].split("·")

    counts = forms.active_counts
    kinds = [i.removesuffix(f".{counts[0]}") for i in cat if i.startswith("active.") and i.endswith(f".{counts[0]}")]
    active = [[parts(f"{k}.{counts[0]}")[0], *("0" for c in counts if f"{k}.{c}" in cat)] for k in kinds]
    columns = forms.requests.columns
    form = forms.requests.forms[-1]
    requests = []
    for row in form.rows:
        levels = parts(f"{row}.{columns[0]}")[:-1]
        first, rest = (levels[0], "".join(levels[1:])) if levels else ("", "")
        requests.append([first, rest, *("0" for _ in columns)])
    review = [i for group in forms.review_groups for i in group]
    tables = {
        2: _markdown_table(["", "", *(parts(f"{form.rows[0]}.{c}")[-1] for c in columns)], requests),
        5: _markdown_table(["·".join(parts(i)) for i in review], [["0" for _ in review]]),
    }
    if kinds:
        tables[1] = _markdown_table(["", *(parts(f"{kinds[0]}.{c}")[-1] for c in counts)], active)
    return _markdown_report(_warm_up_content()[0], tables)


def _warm_up_docx() -> bytes:
    """The same report as a minimal WordprocessingML package (paragraphs and one table), for the DOCX reader."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    titles, labels = _warm_up_content()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def para(text: str) -> str:
        return f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>"

    def cell(text: str) -> str:
        return f"<w:tc><w:tcPr><w:tcW w:w=\"2000\" w:type=\"dxa\"/></w:tcPr>{para(text)}</w:tc>"

    body = [para("政府信息公开工作年度报告")]
    for i, title in enumerate(titles):
        body += [para(title), para(f"本年度{title[2:]}如下。")]
        if i == 1:
            rows = "".join(f"<w:tr>{cell(label)}{cell(str(n % 7))}</w:tr>" for n, label in enumerate(labels))
            body.append(f"<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>{rows}</w:tbl>")
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{w}"><w:body>{"".join(body)}</w:body></w:document>'
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", document)
    return out.getvalue()


def _warm_up_html() -> bytes:
    """The same report as an HTML page with one table, for the HTML reader."""
    from html import escape

    titles, labels = _warm_up_content()
    parts = ["<html><head><meta charset=\"utf-8\"><title>政府信息公开工作年度报告</title></head><body><h1>政府信息公开工作年度报告</h1>"]
    for i, title in enumerate(titles):
        parts.append(f"<h2>{escape(title)}</h2><p>本年度{escape(title[2:])}如下。</p>")
        if i == 1:
            rows = "".join(f"<tr><td>{escape(label)}</td><td>{n % 7}</td></tr>" for n, label in enumerate(labels))
            parts.append(f"<table>{rows}</table>")
    return ("".join(parts) + "</body></html>").encode()


def _warm_up_pdf() -> bytes:
    """A one-page PDF with a grid of numbers (standard font), so the PDF reader's lazy state is built."""
    import ctypes
    import io

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument.new()
    try:
        page = pdf.new_page(595, 842)
        for row in range(12):
            for col in range(3):
                obj = pdfium_c.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(11))
                text = f"{row * 3 + col + 1}\0".encode("utf-16-le")
                pdfium_c.FPDFText_SetText(obj, ctypes.cast(ctypes.c_char_p(text), ctypes.POINTER(ctypes.c_ushort)))
                pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72 + 150 * col, 760 - 20 * row)
                pdfium_c.FPDFPage_InsertObject(page.raw, obj)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        pdf.close()


@functools.lru_cache(maxsize=1)
def warm_up_files() -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) of the warm-up inputs, one per main reader; one that cannot be built is left out.

    Built once (in the forkserver) and inherited: a worker's `settle` reads the same bytes."""
    out = []
    for name, build in (("warm-up.md", warm_up_report), ("warm-up-revised.md", warm_up_revised_report),
                        ("warm-up.docx", _warm_up_docx),
                        ("warm-up.html", _warm_up_html), ("warm-up.pdf", _warm_up_pdf)):
        try:
            out.append((name, build()))
        except Exception as e:  # noqa: BLE001 - warming is an optimisation
            log.warning("warm-up input %s could not be built: %r", name, e)
    return tuple(out)


def _plain(value: object) -> object:
    """Keep error extras picklable and JSON-able."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def error_info(exc: ExtractionError) -> ErrorInfo:
    cls = type(exc)
    extra = {str(k): _plain(v) for k, v in exc.extra.items()}
    return ErrorInfo(cls.__module__, cls.__qualname__, exc.detail, extra)


def rebuild_error(info: ErrorInfo) -> ExtractionError | None:
    """The exception `info` describes, or None when its class cannot be resolved safely."""
    try:
        obj: object = importlib.import_module(info.module)
        for part in info.qualname.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, type) and issubclass(obj, ExtractionError):
            return obj(info.detail, **info.extra)
    except Exception:  # noqa: BLE001 - a broken reply becomes a bug report upstream
        return None
    return None


def run_job(task: Task, job: ExtractJob) -> Reply:
    """Run one job and turn every outcome into a `Reply` that says how much CPU it took."""
    t0 = cpu_seconds_used()
    reply = _run_job(task, job)
    cpu = cpu_seconds_used() - t0
    if reply.output is not None:
        return replace(reply, output=replace(reply.output, cpu_seconds=cpu), cpu_seconds=cpu)
    return replace(reply, cpu_seconds=cpu)


def _run_job(task: Task, job: ExtractJob) -> Reply:
    try:
        if job.path is not None:  # the upload was spooled by the server: read it here, not in the server
            job = replace(job, data=Path(job.path).read_bytes(), path=None)
        return Reply(output=task(job))
    except ExtractionError as e:
        return Reply(error=error_info(e))
    except MemoryError:
        cap = f" ({_memory_limit_mb} MiB, limit worker_memory_limit_mb)" if _memory_limit_mb else ""
        err = ResourceLimitError(f"The document needed more memory than the worker allows{cap}.",
                                 **({"limit": "worker_memory_limit_mb", "worker_memory_limit_mb": _memory_limit_mb}
                                    if _memory_limit_mb else {}))
        return Reply(error=error_info(err), recycle=True)
    except RecursionError:
        return Reply(error=error_info(ResourceLimitError("The document needed more nesting than the worker allows.")),
                     recycle=True)
    except Exception as e:  # noqa: BLE001 - reported as a 500 without internals
        log.error("worker bug: %s", "".join(traceback.format_exception(e)))
        return Reply(bug=type(e).__name__, recycle=True)


def cpu_seconds_used() -> float:
    """CPU time of this process so far (user + system, every thread: pdfium and onnxruntime included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def limit_cpu(seconds: float) -> None:
    """Let this process use at most `seconds` more CPU (whole seconds, rounded up); 0 lifts the limit.

    The soft RLIMIT_CPU is set to the CPU used so far plus the cap; the hard limit is left alone, so the soft
    one can be raised again for the next task. Past it the kernel sends SIGXCPU, whose default action ends
    the process wherever it is (Python or native code); the pool turns that exit into a 422.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = resource.RLIM_INFINITY if seconds <= 0 else math.ceil(cpu_seconds_used() + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = hard if soft == resource.RLIM_INFINITY else min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def limit_memory(max_bytes: int) -> None:
    """Cap this process's address space; 0 means no cap."""
    if max_bytes > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


_PR_SET_PDEATHSIG = 1
WATCHDOG_INTERVAL_SECONDS = 0.5


def die_with_parent() -> None:
    """Never outlive the process that started this one, even when it is SIGKILLed.

    On Linux the kernel sends SIGKILL when the parent exits (prctl PR_SET_PDEATHSIG); the parent of a
    forkserver worker is the forkserver, which itself exits when the server goes. Elsewhere a watchdog
    thread polls the parent pid (not on Linux: a thread costs the worker a malloc arena of address
    space, which counts against its RLIMIT_AS).
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the prctl took effect
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(WATCHDOG_INTERVAL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def worker_main(conn: Connection, task: Task, memory_limit_bytes: int, cpu_limit_seconds: float = 0.0) -> None:
    """Process entry point: serve jobs from `conn` until it closes or a `None` arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)  # past the CPU cap the kernel ends the process
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))  # and leaves no core file
    die_with_parent()
    limit_memory(memory_limit_bytes)
    global _memory_limit_mb, _stages
    _memory_limit_mb = memory_limit_bytes // (1024 * 1024)
    settle()
    try:
        conn.send(READY)
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        global _progress
        _progress = _ProgressSender(conn) if job.progress else None
        _stages = conn
        limit_cpu(cpu_limit_seconds)
        reply = run_job(task, job)
        limit_cpu(0)
        try:
            conn.send(reply)
        except (MemoryError, ValueError) as e:  # the result itself was too big to send
            conn.send(Reply(error=error_info(ResourceLimitError(f"The result could not be returned ({type(e).__name__}).")), recycle=True))
        except (BrokenPipeError, OSError):
            return
