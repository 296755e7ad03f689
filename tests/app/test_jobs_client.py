"""The job flow through a client generated from the committed OpenAPI document (openapi-python-client):
create → poll → result, a failing input's problem, DELETE, and the 404 after it, against a live server."""
from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from app_live import LiveServer

from app import Settings


@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(Settings(workers=1, job_dir=str(tmp_path_factory.mktemp("client-jobs")))).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def generated(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    tmp = tmp_path_factory.mktemp("jobs-client")
    config = tmp / "config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: govreport_jobs_client\nproject_name_override: govreport-jobs-client\n")
    out = tmp / "client"
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec_path),
         "--config", str(config), "--output-path", str(out)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("govreport_jobs_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == "govreport_jobs_client"]:
            del sys.modules[name]


def test_generated_client_runs_the_job_flow(generated: ModuleType, job_server: LiveServer, corpus: Path) -> None:
    from govreport_jobs_client.api.jobs import create_job, delete_job, get_job
    from govreport_jobs_client.models import ExtractionResult, ExtractUpload, Job, JobStatus, Problem
    from govreport_jobs_client.types import File

    path = sorted((corpus / "pdf").glob("0*.pdf"))[0]
    gold = json.loads((corpus / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"))
    client = generated.Client(base_url=job_server.url, timeout=httpx.Timeout(120.0))

    created = create_job.sync_detailed(
        client=client, body=ExtractUpload(file=File(payload=io.BytesIO(path.read_bytes()), file_name=path.name))
    )
    assert created.status_code == 202
    assert isinstance(created.parsed, Job) and created.parsed.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    assert created.headers["location"] == f"/v1/jobs/{created.parsed.id}" and created.headers["retry-after"]

    end = time.monotonic() + 120
    job = created.parsed
    while job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        assert time.monotonic() < end, job
        time.sleep(0.2)
        job = get_job.sync(client=client, job_id=created.parsed.id)
        assert isinstance(job, Job)
    assert job.status == JobStatus.SUCCEEDED
    assert isinstance(job.result, ExtractionResult)
    assert job.result.document.report_year.value == gold["report_year"]
    assert job.result.document.template.value.value == gold["template"]
    assert job.progress.pages_done == job.progress.pages_total == job.result.document.pages

    broken = create_job.sync(client=client, body=File(payload=io.BytesIO(b"%PDF-1.4\n" + b"\x00" * 800), file_name="x.pdf"))
    assert isinstance(broken, Job)
    while broken.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        time.sleep(0.2)
        broken = get_job.sync(client=client, job_id=broken.id)
    assert broken.status == JobStatus.FAILED and isinstance(broken.problem, Problem)
    assert broken.problem.status == 422 and broken.problem.type_.endswith("/corrupt-file")

    forgotten = delete_job.sync(client=client, job_id=job.id)
    assert isinstance(forgotten, Job) and forgotten.id == job.id
    missing = get_job.sync(client=client, job_id=job.id)
    assert isinstance(missing, Problem) and missing.status == 404 and missing.type_.endswith("/job-not-found")
