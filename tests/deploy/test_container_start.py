"""The service starts exactly as the image's CMD/ENV say and answers the probes the
Deployment uses; the image's HEALTHCHECK command works against it; SIGTERM (what
Kubernetes sends at the end of a pod) stops it cleanly within the grace period.

No Docker engine runs here, so the CMD runs as a plain process on a free loopback port.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from kustomize_lite import render
from service_probe import (
    REPO,
    free_port,
    healthcheck_command,
    http_status,
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


def test_healthcheck_fails_when_nothing_listens() -> None:
    import os

    env = {**os.environ, "PORT": str(free_port())}
    proc = subprocess.run(
        healthcheck_command(), env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode != 0
