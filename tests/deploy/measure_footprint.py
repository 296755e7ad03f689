"""Measure the service's memory and CPU per request on the corpus (sizing for k8s/).

Run:  python tests/deploy/measure_footprint.py [--workers N] [--rounds R]
Starts `python -m app` as the Dockerfile's CMD does, posts every corpus report
sequentially, and prints RSS (from `ps`) and CPU seconds per request.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_probe import REPO, measure, running_service, wait_for

CORPUS = REPO / ".." / "shared" / "corpus"
FORMAT_DIRS = ("pdf", "docx", "html", "txt", "variants")


def corpus_files() -> list[Path]:
    """Every report in the corpus (gold labels and templates excluded)."""
    return sorted(p for d in FORMAT_DIRS for p in (CORPUS / d).glob("*") if p.is_file())


def large_pdf(out: Path, max_pages: int) -> Path:
    """Concatenate the corpus PDFs, repeated, into one PDF just under `max_pages`.

    Real reports are 5-15 pages; this sizes the worst document the service accepts.
    """
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    sources = [pdfium.PdfDocument(p) for p in sorted((CORPUS / "pdf").glob("*.pdf"))]
    while True:
        for src in sources:
            if len(merged) + len(src) > max_pages:
                merged.save(out)
                return out
            merged.import_pages(src)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--large", action="store_true", help="also post a PDF near the page limit")
    args = parser.parse_args()
    files = corpus_files() * args.rounds
    with tempfile.TemporaryDirectory() as tmp, running_service(
        Path(tmp), {"GOVREPORT_WORKERS": str(args.workers)}
    ) as service:
        ready_s = wait_for(service, "/readyz")
        if args.large:
            from app.settings import Settings

            files.append(large_pdf(Path(tmp) / "large.pdf", Settings().max_pages - 10))
        fp = measure(service, files)
    print(f"ready after {ready_s:.1f}s, workers={fp.workers}")
    print(f"idle: server {fp.idle_server_mib:.0f} MiB, helpers {fp.idle_helpers_mib:.0f} MiB, "
          f"worker {fp.idle_worker_mib:.0f} MiB each, whole tree {fp.idle_total_mib:.0f} MiB")
    print(f"peak: server {fp.peak_server_mib:.0f} MiB, helpers {fp.peak_helpers_mib:.0f} MiB, "
          f"worker {fp.peak_worker_mib:.0f} MiB (address space {fp.peak_worker_vm_mib:.0f} MiB), "
          f"whole tree {fp.peak_total_mib:.0f} MiB")
    print("| file | KiB | status | wall s | CPU s |\n|---|---|---|---|---|")
    for r in fp.requests:
        print(f"| {r.file} | {r.size_bytes // 1024} | {r.status} | {r.wall_s:.2f} | {r.cpu_s:.2f} |")
    cpu = [r.cpu_s for r in fp.requests]
    wall = [r.wall_s for r in fp.requests]
    print(f"CPU s/request: mean {statistics.mean(cpu):.2f}, median {statistics.median(cpu):.2f}, max {max(cpu):.2f}")
    print(f"wall s/request: mean {statistics.mean(wall):.2f}, max {max(wall):.2f}")
    statuses = sorted({r.status for r in fp.requests})
    print(f"statuses: {statuses}")


if __name__ == "__main__":
    main()
