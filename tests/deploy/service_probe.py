"""Start the service the way the Dockerfile's CMD does, and measure its processes.

Used by the deploy tests and by `python tests/deploy/measure_footprint.py`, which
produced the sizing numbers in the README ("Deploying"). Everything stays on 127.0.0.1.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from dockerfile_lite import parse

REPO = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Bounds of the start-up wait and of each HTTP call."""

    start_timeout_s: float = 90.0
    poll_interval_s: float = 0.2
    request_timeout_s: float = 120.0
    stop_timeout_s: float = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dockerfile_command(dockerfile: Path = REPO / "Dockerfile") -> tuple[list[str], dict[str, str]]:
    """The final stage's CMD and ENV, with `python` mapped to this interpreter.

    In the image PATH starts with the venv, so `python` is the venv's; here the
    equivalent is the interpreter running the tests (the project is installed in it).
    """
    parsed = parse(dockerfile)
    cmd = parsed.final.last("CMD")
    assert cmd is not None, "Dockerfile has no CMD"
    argv = cmd.exec_form()
    assert argv, "CMD must be in exec form"
    env = parsed.final.env(parsed.args)
    env.pop("PATH", None)  # the image's venv path does not exist here
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]], env


def healthcheck_command(dockerfile: Path = REPO / "Dockerfile") -> list[str]:
    """The HEALTHCHECK's exec-form command, `python` mapped as in `dockerfile_command`."""
    health = parse(dockerfile).final.last("HEALTHCHECK")
    assert health is not None, "Dockerfile has no HEALTHCHECK"
    argv = health.exec_form()
    assert argv, "HEALTHCHECK CMD must be in exec form"
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


@dataclass
class Service:
    """A running `python -m app` and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """GET `url`: the status code, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def wait_for(service: Service, path: str, settings: ProbeSettings = ProbeSettings()) -> float:
    """Poll `path` until it answers 200; the seconds it took. Fails on exit or timeout."""
    start = time.monotonic()
    while time.monotonic() - start < settings.start_timeout_s:
        if service.process.poll() is not None:
            raise AssertionError(f"service exited with {service.process.returncode}:\n{service.log()}")
        if http_status(service.base_url + path) == 200:
            return time.monotonic() - start
        time.sleep(settings.poll_interval_s)
    raise AssertionError(f"{path} not 200 within {settings.start_timeout_s}s:\n{service.log()}")


@contextmanager
def running_service(
    workdir: Path, extra_env: dict[str, str] | None = None, settings: ProbeSettings = ProbeSettings()
) -> Iterator[Service]:
    """Run the Dockerfile's CMD with its ENV on a free loopback port; stop it afterwards."""
    argv, image_env = dockerfile_command()
    port = free_port()
    env = {**os.environ, **image_env, "HOST": "127.0.0.1", "PORT": str(port), **(extra_env or {})}
    for name in ("GOVREPORT_HOST", "GOVREPORT_PORT"):
        env.pop(name, None)  # would override HOST/PORT
    log_path = workdir / "service.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    service = Service(process=process, port=port, env=env, log_path=log_path)
    try:
        yield service
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=settings.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- process measurements ------------------------------------------------------------


def process_table() -> dict[int, tuple[int, int]]:
    """pid → (ppid, rss KiB) for every process, from `ps`."""
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    table: dict[int, tuple[int, int]] = {}
    for line in out.splitlines():
        pid, ppid, rss = (int(x) for x in line.split())
        table[pid] = (ppid, rss)
    return table


def process_tree(root: int, table: dict[int, tuple[int, int]]) -> tuple[list[int], list[int]]:
    """(helpers, workers) below the server `root`.

    With the forkserver start method (the default) the server's direct children are
    multiprocessing helpers (forkserver, resource tracker) and the workers are the
    forkserver's children. When there are no grandchildren (spawn), the children are
    the workers.
    """
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    direct = children.get(root, [])
    deeper: list[int] = []
    stack = [c for pid in direct for c in children.get(pid, [])]
    while stack:
        pid = stack.pop()
        deeper.append(pid)
        stack.extend(children.get(pid, []))
    return (direct, deeper) if deeper else ([], direct)


def proc_status_kib(pid: int, key: str) -> int:
    """A `VmXxx:` figure (KiB) from /proc/<pid>/status; 0 when the process has gone.

    VmHWM is the kernel's RSS high-water mark (catches peaks between `ps` samples);
    VmPeak the largest address space, which is what RLIMIT_AS limits.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return 0
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class RssSampler:
    """Samples the RSS of the server, helpers and workers in a thread; keeps the peaks (KiB)."""

    root: int
    interval_s: float = 0.05
    server: int = 0
    helpers: int = 0
    worker: int = 0
    worker_vm: int = 0
    total: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        table = process_table()
        if self.root not in table:
            return
        helpers, workers = process_tree(self.root, table)
        server = max(table[self.root][1], proc_status_kib(self.root, "VmHWM"))
        helper_rss = sum(table[p][1] for p in helpers if p in table)
        worker_rss = [max(table[p][1], proc_status_kib(p, "VmHWM")) for p in workers if p in table]
        self.server = max(self.server, server)
        self.helpers = max(self.helpers, helper_rss)
        self.worker = max([self.worker, *worker_rss])
        self.worker_vm = max([self.worker_vm, *(proc_status_kib(p, "VmPeak") for p in workers)])
        self.total = max(self.total, table[self.root][1] + helper_rss + sum(table[p][1] for p in workers if p in table))

    def __enter__(self) -> Self:
        def loop() -> None:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sample()


def post_file(base_url: str, path: Path, timeout: float) -> tuple[int, bytes]:
    """POST one report to /v1/extract as multipart field `file`."""
    boundary = "govreport-deploy-probe"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        base_url + "/v1/extract",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One measured request."""

    file: str
    size_bytes: int
    status: int
    wall_s: float
    cpu_s: float


@dataclass(frozen=True, slots=True)
class Footprint:
    """Memory (MiB) and CPU of the service around a series of sequential requests.

    `helpers` are the multiprocessing forkserver and resource tracker; `worker` is
    the largest single extraction worker; `worker_vm` its largest address space.
    """

    workers: int
    idle_server_mib: float
    idle_helpers_mib: float
    idle_worker_mib: float
    idle_total_mib: float
    peak_server_mib: float
    peak_helpers_mib: float
    peak_worker_mib: float
    peak_worker_vm_mib: float
    peak_total_mib: float
    requests: tuple[RequestSample, ...]


def _tree_cpu(root: int) -> float:
    helpers, workers = process_tree(root, process_table())
    return cpu_seconds(root) + sum(cpu_seconds(pid) for pid in helpers + workers)


def measure(service: Service, files: list[Path], settings: ProbeSettings = ProbeSettings()) -> Footprint:
    """Post `files` one at a time to a ready service; RSS via `ps`/VmHWM, CPU via /proc."""
    root = service.process.pid
    idle = RssSampler(root)
    idle.sample()
    table = process_table()
    _, idle_workers = process_tree(root, table)
    idle_total = table[root][1] + sum(table[p][1] for p in process_tree(root, table)[0] + idle_workers)
    samples: list[RequestSample] = []
    with RssSampler(root) as peak:
        for path in files:
            cpu_before, start = _tree_cpu(root), time.monotonic()
            status, _ = post_file(service.base_url, path, settings.request_timeout_s)
            wall = time.monotonic() - start
            peak.sample()
            samples.append(
                RequestSample(path.name, path.stat().st_size, status, wall, _tree_cpu(root) - cpu_before)
            )
    mib = 1 / 1024
    return Footprint(
        workers=len(idle_workers),
        idle_server_mib=idle.server * mib,
        idle_helpers_mib=idle.helpers * mib,
        idle_worker_mib=idle.worker * mib,
        idle_total_mib=idle_total * mib,
        peak_server_mib=peak.server * mib,
        peak_helpers_mib=peak.helpers * mib,
        peak_worker_mib=peak.worker * mib,
        peak_worker_vm_mib=peak.worker_vm * mib,
        peak_total_mib=peak.total * mib,
        requests=tuple(samples),
    )
