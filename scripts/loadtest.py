#!/usr/bin/env python3
"""Load and soak test of the HTTP service, on loopback only, bounded in count and time.

Starts the real service (`python -m app`) on a free 127.0.0.1 port (or uses
`--url`, which must be a loopback address), then:

* load: N concurrent clients post the mixed corpus for T seconds; every answer
  must be 200; latency percentiles are reported.
* soak: R requests; the RSS of each worker process is taken after a warm-up and
  at the end, and its growth is reported (workers are not recycled during the
  soak, so a leak would show).

`tests/reliability/test_load.py` runs a short version in CI (and the full one
with `GOVREPORT_LONG_TESTS=1`); by hand:

    .venv/bin/python scripts/loadtest.py --clients 16 --seconds 120 --soak 2000

The results and the machine are printed as Markdown for docs/limits.md
(`--json FILE` also writes them as JSON).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
FORMATS = {".pdf", ".docx", ".html", ".txt", ".md"}
MAX_REQUESTS = 200_000  # hard cap on any run, whatever the duration


# ---- the service under test ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_loopback(url: str) -> None:
    """Refuse any target that is not this machine's loopback interface."""
    host = urlsplit(url).hostname or ""
    addrs = {info[4][0] for info in socket.getaddrinfo(host, None)}
    bad = [a for a in addrs if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if not addrs or bad:
        raise SystemExit(f"refusing to load-test {url}: not a loopback address ({sorted(addrs)})")


def _children(pid: int) -> list[int]:
    """Child pids of `pid`, over all its threads (a child belongs to the thread that forked it)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    """Resident set size of `pid` in KiB (VmHWM for the peak); 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Service:
    """`python -m app` in a subprocess on 127.0.0.1:<free port>.

    Settings come only from `env` (GOVREPORT_* variables of the caller's
    environment are not inherited, so a run is reproducible); unset ones keep
    the service defaults.
    """

    def __init__(self, env: dict[str, str] | None = None, cwd: Path | None = None, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("GOVREPORT_")}
        self.env = {**inherited, "GOVREPORT_HOST": "127.0.0.1", "GOVREPORT_PORT": str(self.port),
                    "GOVREPORT_LOG_LEVEL": "warning", **(env or {})}
        self.cwd = cwd or REPO
        self.log_path = log or Path(tempfile.mkstemp(prefix="govreport-service-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> Self:
        pythonpath = os.pathsep.join(filter(None, [str(REPO), self.env.get("PYTHONPATH")]))
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app"], cwd=self.cwd, env={**self.env, "PYTHONPATH": pythonpath},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service not ready after {timeout} s: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """The extraction worker processes: forkserver children (or spawned children)."""
        out: list[int] = []
        for child in _children(self.pid):
            cmd = _cmdline(child)
            if "forkserver" in cmd:
                out.extend(_children(child))
            elif "spawn_main" in cmd:
                out.append(child)
        return sorted(out)

    def wait_workers(self, count: int, timeout: float = 30.0) -> list[int]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pids = self.worker_pids()
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise RuntimeError(f"expected {count} workers, found {self.worker_pids()}")


# ---- inputs -----------------------------------------------------------------------------------


def mixed_corpus(corpus: Path = CORPUS) -> list[tuple[str, bytes]]:
    """Every report of a supported format in the corpus (all formats, variants included)."""
    # reports only: the corpus also holds its README, blank templates and pages that are not reports
    # (refused as not-a-report), which are not load
    reports = {g.stem for g in (corpus / "gold").glob("*.json")}
    paths = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in FORMATS and "gold" not in p.parts
                   and p.name.split(".")[0] in reports)
    if not paths:
        raise SystemExit(f"no corpus files under {corpus}")
    return [(p.name, p.read_bytes()) for p in paths]


# ---- load ---------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int
    errors: int
    statuses: dict[str, int]
    error_samples: list[str]
    throughput_rps: float
    latency_ms: dict[str, float]
    latency_ms_by_format: dict[str, dict[str, float]] = field(default_factory=dict)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50": round(q[49], 1), "p90": round(q[89], 1), "p95": round(q[94], 1), "p99": round(q[98], 1),
            "max": round(max(values), 1), "mean": round(statistics.fmean(values), 1)}


def _post(client: httpx.Client, name: str, data: bytes) -> tuple[int | str, float, str]:
    """(status or the transport error's name, latency in ms, problem type or "")."""
    t0 = time.perf_counter()
    problem = ""
    try:
        r = client.post("/v1/extract", files={"file": (name, data)})
        status: int | str = r.status_code
        if r.headers.get("content-type") == "application/problem+json":
            problem = str(r.json().get("type", "")).rsplit("/", 1)[-1]
    except httpx.HTTPError as e:
        status = type(e).__name__
    return status, (time.perf_counter() - t0) * 1000, problem


def load(url: str, files: list[tuple[str, bytes]], clients: int = 16, seconds: float = 120.0,
         max_requests: int = MAX_REQUESTS) -> LoadResult:
    """`clients` threads post the corpus round-robin for `seconds` (and at most `max_requests` in all)."""
    assert_loopback(url)
    lock = threading.Lock()
    records: list[tuple[str, int | str, float, str]] = []
    stop_at = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        i = offset
        with httpx.Client(base_url=url, timeout=120) as client:
            while time.monotonic() < stop_at:
                with lock:
                    if len(records) >= max_requests:
                        return
                name, data = files[i % len(files)]
                status, ms, problem = _post(client, name, data)
                with lock:
                    records.append((name, status, ms, problem))
                i += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(k * len(files) // clients,), daemon=True)
               for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 180)
    elapsed = time.monotonic() - t0
    statuses: dict[str, int] = {}
    for _, status, _, problem in records:
        key = f"{status} {problem}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    bad = [(n, f"{s} {p}".strip()) for n, s, _, p in records if s != 200]
    by_fmt: dict[str, list[float]] = {}
    for name, status, ms, _ in records:
        if status == 200:
            by_fmt.setdefault(Path(name).suffix.lstrip("."), []).append(ms)
    return LoadResult(
        clients=clients, seconds=round(elapsed, 1), requests=len(records), errors=len(bad), statuses=statuses,
        error_samples=[f"{n}: {s}" for n, s in bad[:10]],
        throughput_rps=round(len(records) / elapsed, 2) if elapsed else 0.0,
        latency_ms=percentiles([ms for _, s, ms, _ in records if s == 200]),
        latency_ms_by_format={k: percentiles(v) for k, v in sorted(by_fmt.items())},
    )


# ---- soak ---------------------------------------------------------------------------------------


@dataclass
class SoakResult:
    requests: int
    errors: int
    error_samples: list[str]
    seconds: float
    warmup_requests: int
    rss_kib_after_warmup: dict[str, int]
    rss_kib_at_end: dict[str, int]
    peak_rss_kib: dict[str, int]
    growth_pct: dict[str, float]
    max_growth_pct: float
    total_growth_pct: float  # all workers together: what the host sees, and less noisy than one process
    same_workers: bool
    window_requests: int = 0  # one pass over the corpus: every window sees the same inputs
    window_rss_kib: list[int] = field(default_factory=list)  # workers' total RSS at the end of each window
    trend_kib_per_1000: float = 0.0  # least-squares slope of the window samples
    trend_growth_pct: float = 0.0  # that slope over the measured span, relative to the first window


def rss_trend(samples: list[int], window: int) -> tuple[float, float]:
    """(KiB per 1,000 requests, % growth over the span) of a least-squares line through the window samples.

    One difference between two instants moves with whichever file each worker read last; a line
    through several windows of the same inputs shows growth and ignores that noise.
    """
    if len(samples) < 2 or not samples[0]:
        return 0.0, 0.0
    xs = [i * window for i in range(len(samples))]
    slope, _ = statistics.linear_regression(xs, samples)
    return round(slope * 1000, 1), round(100.0 * slope * xs[-1] / samples[0], 2)


def soak(service: Service, files: list[tuple[str, bytes]], requests: int = 2000, clients: int = 2,
         warmup: int | None = None) -> SoakResult:
    """`requests` posts over `clients` connections; worker RSS sampled after each corpus pass past `warmup`.

    The service must run with `GOVREPORT_MAX_TASKS_PER_CHILD` above `requests`, so
    the same worker processes serve the whole soak and any leak accumulates. The
    warm-up is at least two passes over the corpus (caches fill, allocator settles);
    after it, one sample per pass gives the windows the trend is fitted to.
    """
    assert_loopback(service.url)
    window = len(files)
    warmup = warmup if warmup is not None else max(window * 2, requests // 5)
    counter = iter(range(requests))
    lock = threading.Lock()
    errors: list[str] = []
    done = 0
    warm_pids: list[int] = []
    warm_rss: dict[str, int] = {}
    windows: list[int] = []
    warm_event = threading.Event()

    def client_loop() -> None:
        nonlocal done
        with httpx.Client(base_url=service.url, timeout=120) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if i == warmup:
                    warm_event.wait(60)
                name, data = files[i % len(files)]
                status, _, problem = _post(client, name, data)
                with lock:
                    done += 1
                    if status != 200:
                        errors.append(f"{name}: {status} {problem}".strip())
                    if done == warmup:
                        warm_pids.extend(service.worker_pids())
                        warm_rss.update({str(p): rss_kib(p) for p in warm_pids})
                        windows.append(sum(warm_rss.values()))
                        warm_event.set()
                    elif done > warmup and (done - warmup) % window == 0:
                        windows.append(sum(rss_kib(p) for p in warm_pids))

    t0 = time.monotonic()
    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3600)
    elapsed = time.monotonic() - t0
    end_pids = service.worker_pids()
    end_rss = {str(p): rss_kib(p) for p in end_pids}
    growth = {p: round(100.0 * (end_rss.get(p, 0) - warm_rss[p]) / warm_rss[p], 2) for p in warm_rss if warm_rss[p]}
    slope, trend_pct = rss_trend(windows, window)
    return SoakResult(
        requests=done, errors=len(errors), error_samples=errors[:10], seconds=round(elapsed, 1),
        warmup_requests=warmup, rss_kib_after_warmup=warm_rss, rss_kib_at_end=end_rss,
        peak_rss_kib={str(p): rss_kib(p, "VmHWM") for p in end_pids},
        growth_pct=growth, max_growth_pct=max(growth.values(), default=float("nan")),
        total_growth_pct=round(100.0 * (sum(end_rss.get(p, 0) for p in warm_rss) - sum(warm_rss.values()))
                               / max(sum(warm_rss.values()), 1), 2),
        same_workers=sorted(warm_pids) == sorted(end_pids),
        window_requests=window, window_rss_kib=windows, trend_kib_per_1000=slope, trend_growth_pct=trend_pct,
    )


# ---- report -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": mem, "python": platform.python_version(),
            "os": platform.platform()}


def markdown(load_result: LoadResult | None, soak_result: SoakResult | None, settings: dict[str, str]) -> str:
    m = machine()
    lines = [f"Run {time.strftime('%Y-%m-%d')} on {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, "
             f"Python {m['python']}; service settings: " + ", ".join(f"`{k}={v}`" for k, v in settings.items()) + "."]
    if load_result:
        r = load_result
        lat = r.latency_ms
        lines += ["", (f"Load: {r.clients} clients for {r.seconds} s → {r.requests} requests, **{r.errors} errors** "
                       f"(statuses {r.statuses}), {r.throughput_rps} req/s."), "",
                  "| latency (ms) | p50 | p90 | p95 | p99 | max |", "|---|---|---|---|---|---|",
                  f"| all | {lat.get('p50')} | {lat.get('p90')} | {lat.get('p95')} | {lat.get('p99')} | {lat.get('max')} |"]
        for fmt, p in r.latency_ms_by_format.items():
            lines.append(f"| {fmt} | {p['p50']} | {p['p90']} | {p['p95']} | {p['p99']} | {p['max']} |")
    if soak_result:
        s = soak_result
        lines += ["", f"Soak: {s.requests} requests in {s.seconds} s, **{s.errors} errors**; worker RSS after "
                  f"{s.warmup_requests} warm-up requests → at the end (KiB): "
                  + ", ".join(f"{s.rss_kib_after_warmup[p]} → {s.rss_kib_at_end.get(p, 0)} ({s.growth_pct.get(p)} %)"
                              for p in s.rss_kib_after_warmup)
                  + f"; all workers together **{s.total_growth_pct} %** (largest single worker {s.max_growth_pct} %); "
                  f"same worker processes throughout: {s.same_workers}. Trend over {len(s.window_rss_kib)} windows of "
                  f"{s.window_requests} requests (least squares): **{s.trend_kib_per_1000} KiB per 1,000 requests, "
                  f"{s.trend_growth_pct} %** over the span."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an already running service (loopback only); default: start one")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--soak", type=int, default=2000, help="soak requests (0: no soak)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    files = mixed_corpus(args.corpus)
    settings = {"GOVREPORT_WORKERS": str(args.workers)}
    load_result = soak_result = None
    if args.url:
        assert_loopback(args.url)
        if args.clients and args.seconds:
            load_result = load(args.url, files, args.clients, args.seconds)
    else:
        if args.clients and args.seconds:
            with Service(settings) as svc:
                load_result = load(svc.url, files, args.clients, args.seconds)
        if args.soak:
            soak_settings = {**settings, "GOVREPORT_MAX_TASKS_PER_CHILD": str(args.soak * 2)}
            with Service(soak_settings) as svc:
                svc.wait_workers(args.workers)
                soak_result = soak(svc, files, args.soak, clients=args.workers)
    print(markdown(load_result, soak_result, settings))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "settings": settings,
                                         "load": asdict(load_result) if load_result else None,
                                         "soak": asdict(soak_result) if soak_result else None}, indent=2))
    failed = (load_result is not None and load_result.errors) or (soak_result is not None and soak_result.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
