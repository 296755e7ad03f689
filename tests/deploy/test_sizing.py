"""The pod's resources still fit the service, measured live on corpus reports.

Starts `python -m app` as the image does, posts the largest corpus report of each
format plus a PDF built from the corpus up to the page limit (the worst document
the service accepts), and checks the numbers against every kustomization:
the worker address-space cap holds the worst document with margin, the memory limit
holds every worker at its cap plus the server, and an idle pod can become ready.
If extraction grows heavier, this fails before pods start getting OOM-killed.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from kustomize_lite import render
from measure_footprint import large_pdf
from service_probe import Footprint, measure, running_service, wait_for
from test_manifests import KUSTOMIZATIONS, _config_map, _container, _memory

MiB = 1024 * 1024
SUFFIXES = (".pdf", ".docx", ".html", ".txt", ".md")
WORKER_CAP_MARGIN = 1.5  # worker RLIMIT_AS ≥ this × the worst measured address space
DEADLINE_MARGIN = 2.0  # deadline ≥ this × the worst measured wall time


@pytest.fixture(scope="module")
def footprint(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Footprint:
    from app.settings import Settings

    base = _config_map(render(KUSTOMIZATIONS[0]))
    files = []
    for suffix in SUFFIXES:
        candidates = [p for p in corpus.rglob(f"*{suffix}") if "templates" not in p.parts]
        files.append(max(candidates, key=lambda p: p.stat().st_size))
    work = tmp_path_factory.mktemp("sizing")
    files.append(large_pdf(work / "large.pdf", Settings().max_pages - 10))
    with running_service(work, dict(base)) as service:
        wait_for(service, "/readyz")
        return measure(service, files)


def test_every_measured_request_succeeds(footprint: Footprint) -> None:
    assert [r.status for r in footprint.requests] == [200] * len(footprint.requests)
    assert footprint.peak_worker_mib > footprint.idle_worker_mib, "the large PDF was really extracted"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_memory_fits_the_measured_footprint(directory: Path, footprint: Footprint) -> None:
    resources = render(directory)
    data = _config_map(resources)
    container = _container(resources)
    workers = int(data["GOVREPORT_WORKERS"])
    worker_cap_mib = int(data["GOVREPORT_WORKER_MEMORY_LIMIT_MB"])
    upload_mib = int(data["GOVREPORT_MAX_UPLOAD_BYTES"]) / MiB
    limit_mib = _memory(container["resources"]["limits"]["memory"]) / MiB
    request_mib = _memory(container["resources"]["requests"]["memory"]) / MiB

    assert worker_cap_mib >= WORKER_CAP_MARGIN * footprint.peak_worker_vm_mib
    # Every worker at its cap, the server holding one upload per worker, and the helpers.
    worst = footprint.peak_server_mib + workers * upload_mib + footprint.peak_helpers_mib + workers * worker_cap_mib
    assert limit_mib >= worst, f"{directory.name}: limit {limit_mib} MiB < worst case {math.ceil(worst)} MiB"
    idle = footprint.idle_server_mib + footprint.idle_helpers_mib + workers * footprint.idle_worker_mib
    assert request_mib >= idle, f"{directory.name}: request below the idle footprint {idle:.0f} MiB"
    from app.settings import Settings

    assert limit_mib - idle >= Settings.model_fields["ready_min_memory_mb"].default, "never ready"


def test_deadline_covers_the_worst_document(footprint: Footprint) -> None:
    deadline = float(_config_map(render(KUSTOMIZATIONS[0]))["GOVREPORT_REQUEST_DEADLINE_SECONDS"])
    assert deadline >= DEADLINE_MARGIN * max(r.wall_s for r in footprint.requests)
