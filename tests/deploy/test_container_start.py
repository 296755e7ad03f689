"""The service starts exactly as the image's CMD/ENV say and answers the probes the
Deployment uses; the image's HEALTHCHECK command works against it; SIGTERM (what
Kubernetes sends at the end of a pod) stops it cleanly within the grace period.

No Docker engine runs here, so the CMD runs as a plain process on a free loopback port:
once from the development install, once from a wheel built the way the image's builder
stage builds it (from the .dockerignore-filtered context), run from an empty folder.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from dockerfile_lite import copy_stage_sources, parse
from kustomize_lite import render
from service_probe import (
    REPO,
    free_port,
    healthcheck_command,
    http_status,
    post_file,
    running_service,
    wait_for,
)

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


def _deployment_probe_paths() -> dict[str, str]:
    deployment = next(r for r in render(REPO / "k8s" / "base") if r["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {probe: container[probe]["httpGet"]["path"] for probe in PROBES}


def test_cmd_serves_every_probe_and_healthcheck_then_stops_on_sigterm(tmp_path: Path) -> None:
    paths = _deployment_probe_paths()
    with running_service(tmp_path, {"GOVREPORT_WORKERS": "1"}) as service:
        startup = wait_for(service, paths["startupProbe"])
        ready = wait_for(service, paths["readinessProbe"])
        # The Deployment's startup probe allows 60 s; start-up must fit well inside it.
        assert startup < 60 and ready < 60, (startup, ready)
        for probe, path in paths.items():
            assert http_status(service.base_url + path) == 200, f"{probe} {path}"

        health = subprocess.run(
            healthcheck_command(), env=service.env, capture_output=True, text=True, timeout=30, check=False
        )
        assert health.returncode == 0, health.stderr

        service.process.send_signal(signal.SIGTERM)
        start = time.monotonic()
        service.process.wait(timeout=30)
        assert time.monotonic() - start < 30
        assert service.process.returncode in (0, -signal.SIGTERM), service.log()


def test_wheel_from_the_build_context_serves_a_report(tmp_path: Path, corpus: Path) -> None:
    """What the image would hold: only the wheel built from the COPYed files.

    Catches a module or data file that the source tree has but the wheel (or the
    Docker context) lacks. Dependencies come from the test environment, as the
    builder stage's venv would bring them from pyproject.toml.
    """
    dockerfile = parse(REPO / "Dockerfile")
    context = tmp_path / "src"
    copied = copy_stage_sources(REPO, dockerfile.stages[0], context)
    assert "pyproject.toml" in copied and any(p.startswith("extractors/data/") for p in copied)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(tmp_path / "wheels"), str(context)],
                   check=True, timeout=300, capture_output=True)
    [wheel] = (tmp_path / "wheels").glob("*.whl")
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, timeout=300, capture_output=True)
    workdir = tmp_path / "srv"
    workdir.mkdir()
    env = {"PYTHONPATH": str(site), "GOVREPORT_WORKERS": "1"}
    with running_service(workdir, env) as service:
        wait_for(service, "/readyz")
        where = subprocess.run(
            [sys.executable, "-c", "import app, extractors; print(app.__file__, extractors.__file__)"],
            env={**service.env}, cwd=workdir, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
        assert where.count(str(site)) == 2, f"not imported from the wheel: {where}"
        status, body = post_file(service.base_url, corpus / "docx" / "003_a1ca134a5abe9455.docx", 120)
        assert status == 200, body[:500]
        assert json.loads(body)["indicators"], "the packaged catalogue mapped indicators"


def test_healthcheck_fails_when_nothing_listens() -> None:
    import os

    env = {**os.environ, "PORT": str(free_port())}
    proc = subprocess.run(
        healthcheck_command(), env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode != 0
