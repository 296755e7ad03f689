"""A small process pool that can stop work: one job per worker, one pipe per worker.

`concurrent.futures.ProcessPoolExecutor` cannot cancel a running task and a
dead worker breaks the whole executor, so the service keeps its own workers:
each is a `multiprocessing` process (spawn/forkserver, never fork under a
running event loop) with a duplex pipe. A job is sent, then the event loop
reads the pipe as it becomes readable (`loop.add_reader`, no thread per job)
up to the request deadline, a timer. Overdue → the process is killed;
EOF → it crashed; either way only that request fails and a fresh process takes
the slot. Workers are also replaced after `max_tasks_per_child` jobs. The
event loop only hands out idle workers (an asyncio queue) and counts waiters,
so saturation is a cheap, immediate 503. With forkserver (the default) the
forkserver imports `app.preload` before forking, which warms the engine once:
a new or recycled worker does not pay the engine's set-up on its first request.

Which step a job is in travels on the same pipe (`worker.Stage`): a worker that
dies by an abort-like signal while a reader runs under the memory cap (a native
allocation failing: pdfium, lxml, calamine) is answered 422 `resource-limit`
naming `worker_memory_limit_mb`; any other death stays 500 `worker-crashed`.
"""
from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import signal
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler

from extractors.errors import ResourceLimitError

from .errors import (
    DeadlineExceededError,
    NotReadyError,
    PoolSaturatedError,
    WorkerBugError,
    WorkerCrashedError,
)
from .worker import (
    READING,
    READY,
    ExtractJob,
    JobOutput,
    Progress,
    Reply,
    Stage,
    Task,
    rebuild_error,
    run_extract,
    worker_main,
)

log = logging.getLogger("app.pool")

_KILL_JOIN_SECONDS = 5.0
_RETIRE_JOIN_SECONDS = 2.0
_READY_SECONDS = 60.0  # a new worker's settle pass takes ~20-100 ms; this only bounds a broken start
_RESPAWN_BACKOFF_SECONDS = 1.0
# A job up to this size is written to its worker's pipe on the event loop (an idle worker is reading, and the
# socket buffer holds it whole, so the write cannot block); a bigger one (bytes in the job) from a thread.
_INLINE_SEND_BYTES = 64 * 1024
_READ_BYTES = 64 * 1024  # below glibc's mmap threshold: a read buffer is a plain malloc
# how a process dies when an allocation fails in native code under RLIMIT_AS: pdfium, Rust (calamine) and C++
# abort(); a NULL malloc result used anyway is SIGSEGV/SIGBUS; a trap instruction (IMMEDIATE_CRASH) SIGTRAP/SIGILL.
# SIGKILL is not among them: that is an operator, the kernel's OOM killer or this pool itself.
_ALLOCATION_FAILURE_SIGNALS = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGTRAP, signal.SIGILL})


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Pool knobs (filled from `Settings`)."""

    size: int = 1
    max_queue: int = 16
    max_tasks_per_child: int = 100
    memory_limit_bytes: int = 0
    start_method: str = "forkserver"
    cpu_limit_seconds: float = 0.0  # CPU time one task may use in its worker (0: no limit)


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    pid: int
    tasks: int = 0
    retire: bool = False
    retire_reason: str = "recycled"


@dataclass(frozen=True, slots=True)
class _Outcome:
    reply: Reply | None = None
    timed_out: bool = False
    crashed: bool = False
    exitcode: int | None = None
    seconds: float = 0.0
    stage: Stage | None = None  # the last step the worker said it entered


@dataclass
class PoolStats:
    size: int
    alive: int
    busy: int
    waiting: int
    restarts: dict[str, int] = field(default_factory=dict)


class WorkerPool:
    """Run jobs in worker processes with a deadline; see the module docstring."""

    def __init__(self, config: PoolConfig, task: Task = run_extract) -> None:
        self.config = config
        self._task = task
        self._ctx = multiprocessing.get_context(config.start_method)
        if config.start_method == "forkserver":
            self._ctx.set_forkserver_preload(["app.preload"])  # imports and warms the engine once, before forking
        self._threads = ThreadPoolExecutor(max_workers=2 * config.size + 2, thread_name_prefix="pool-io")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: set[_Worker] = set()
        self._busy: dict[int, _Worker] = {}
        self._waiting = 0
        self._closed = False
        self._mean_seconds = 1.0
        self.restarts: Counter[str] = Counter()

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Spawn every worker (in threads: process start blocks)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        spawned = await asyncio.gather(
            *(self._loop.run_in_executor(self._threads, self._spawn) for _ in range(self.config.size))
        )
        for w in spawned:
            self._workers.add(w)
            self._idle.put_nowait(w)

    async def close(self) -> None:
        """Stop idle workers politely, kill the rest."""
        self._closed = True
        workers = list(self._workers)
        self._workers.clear()
        if self._loop is not None:
            await asyncio.gather(
                *(self._loop.run_in_executor(self._threads, self._stop, w, w.pid not in self._busy) for w in workers)
            )
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=worker_main,
            args=(child, self._task, self.config.memory_limit_bytes, self.config.cpu_limit_seconds),
            name="govreport-worker",
            daemon=True,
        )
        proc.start()
        child.close()
        worker = _Worker(proc, parent, proc.pid or -1)
        # taken as idle only once it has settled (`app.worker.settle`): its first request then costs what a
        # warm worker's does. A worker that dies or hangs on the way is killed and the spawn fails (retried).
        try:
            ready = parent.poll(_READY_SECONDS) and parent.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop(worker, polite=False)
            raise RuntimeError(f"worker {worker.pid} did not report ready (exit code {proc.exitcode})")
        return worker

    @staticmethod
    def _stop(worker: _Worker, polite: bool) -> None:
        if polite and worker.process.is_alive():
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(_RETIRE_JOIN_SECONDS)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(_KILL_JOIN_SECONDS)
        worker.conn.close()

    # ---- state -----------------------------------------------------------------------------
    def stats(self) -> PoolStats:
        # A busy worker's process is watched by its own thread; polling it here too could race on its sentinel.
        idle_alive = sum(
            1 for w in list(self._workers) if w.pid not in self._busy and not w.retire and w.process.is_alive()
        )
        alive = idle_alive + sum(1 for w in self._busy.values() if not w.retire)
        return PoolStats(self.config.size, alive, len(self._busy), self._waiting, dict(self.restarts))

    def kill(self, pid: int, reason: str = "cancelled") -> bool:
        """Kill the busy worker `pid` (a cancelled job): its run fails, a fresh process takes the slot."""
        worker = self._busy.get(pid)
        if worker is None:
            return False
        worker.retire, worker.retire_reason = True, reason
        worker.process.kill()
        return True

    def busy_pids(self) -> list[int]:
        """Pids of the processes running a job now (operators and fault tests)."""
        return list(self._busy)

    def worker_pids(self) -> list[int]:
        return [w.pid for w in list(self._workers)]

    @property
    def started(self) -> bool:
        return self._idle is not None and not self._closed

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: queued work over pool width, at least 1."""
        backlog = self._waiting + len(self._busy)
        return max(1, min(60, math.ceil(self._mean_seconds * backlog / self.config.size)))

    # ---- running jobs ----------------------------------------------------------------------
    async def run(
        self,
        job: ExtractJob,
        deadline: float,
        deadline_seconds: float,
        on_worker: Callable[[int], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> JobOutput:
        """Run `job` on a worker before `deadline` (loop time) or raise a service/library error.

        `on_worker(pid)` is told which worker took the job (async jobs use it to cancel with `kill`);
        `on_progress(done, total)` gets the worker's `Progress` messages (on the event loop)."""
        if not self.started or self._idle is None or self._loop is None:
            raise NotReadyError("The worker pool is not running.")
        worker = await self._acquire(deadline, deadline_seconds)
        self._busy[worker.pid] = worker
        if on_worker is not None:
            on_worker(worker.pid)
        remaining = max(0.0, deadline - self._loop.time())
        fut = _Exchange(self, worker, remaining, on_progress).start(job)
        fut.add_done_callback(lambda f, w=worker: self._release(w, f))
        try:
            outcome: _Outcome = await asyncio.shield(fut)
        except asyncio.CancelledError:
            self._abandon(worker)
            raise
        return self._result(outcome, worker, deadline_seconds)

    def _abandon(self, worker: _Worker) -> None:
        """The request was cancelled (its client went away): stop its work now so the slot frees at once.

        Killing the process makes the waiting thread see EOF; the worker is then replaced like any other.
        """
        worker.retire, worker.retire_reason = True, "cancelled"
        try:
            worker.process.kill()
        except (OSError, ValueError):
            pass  # already gone

    async def _acquire(self, deadline: float, deadline_seconds: float) -> _Worker:
        """An idle live worker: at once if one is free, else after queueing (bounded) until the deadline."""
        assert self._idle is not None and self._loop is not None
        while True:
            if not self._idle.empty():
                worker = self._idle.get_nowait()
            elif self._waiting >= self.config.max_queue:
                raise PoolSaturatedError(
                    f"All {self.config.size} workers are busy and {self._waiting} requests are waiting.",
                    retry_after=self.retry_after(),
                )
            else:
                worker = await self._wait_for_worker(deadline, deadline_seconds)
            if worker.process.is_alive():
                return worker
            worker.retire, worker.retire_reason = True, "died-idle"  # never hand a dead worker a job
            self._replace_later(worker)

    async def _wait_for_worker(self, deadline: float, deadline_seconds: float) -> _Worker:
        assert self._idle is not None and self._loop is not None
        self._waiting += 1
        try:
            return await asyncio.wait_for(self._idle.get(), timeout=max(0.0, deadline - self._loop.time()))
        except TimeoutError:
            raise DeadlineExceededError(
                f"No worker became free within the {deadline_seconds:g} s deadline.",
                deadline_seconds=deadline_seconds,
            ) from None
        finally:
            self._waiting -= 1

    def _off_loop(self, fn: Callable[[], _Outcome], then: Callable[[_Outcome], None]) -> None:
        """Run blocking `fn` (a join after a kill) in a thread, then `then(outcome)` on the loop.

        Inline once the pool is closing and its threads are gone (the process was killed: the join is short).
        """
        assert self._loop is not None
        try:
            fut = self._loop.run_in_executor(self._threads, fn)
        except RuntimeError:  # the executor is shut down
            then(fn())
            return
        fut.add_done_callback(lambda f: then(self._reaped(f)))

    @staticmethod
    def _reaped(fut: asyncio.Future[_Outcome]) -> _Outcome:
        """The thread's outcome; a thread that failed (or was cancelled at close) still ends the job, as a crash."""
        if not fut.cancelled() and fut.exception() is None:
            return fut.result()
        return _Outcome(crashed=True)

    def _overdue(self, worker: _Worker, t0: float) -> _Outcome:
        """Thread body: the job passed its deadline; kill the worker."""
        worker.retire, worker.retire_reason = True, "deadline"
        worker.process.kill()
        worker.process.join(_KILL_JOIN_SECONDS)
        return _Outcome(timed_out=True, seconds=time.monotonic() - t0)

    def _crashed(self, worker: _Worker, stage: Stage | None, t0: float) -> _Outcome:
        """Thread body: the pipe broke (EOF); reap the process and say how it died."""
        if not worker.retire:  # a cancelled job's worker was killed on purpose
            worker.retire, worker.retire_reason = True, "crashed"
        worker.process.join(_KILL_JOIN_SECONDS)
        if worker.process.is_alive():  # pipe broke but the process lingers
            worker.process.kill()
            worker.process.join(_KILL_JOIN_SECONDS)
        if worker.process.exitcode == -signal.SIGXCPU:
            worker.retire_reason = "cpu-limit"  # the task passed its CPU cap (see worker.limit_cpu)
        elif self._out_of_memory_reading(worker.process.exitcode, stage) and worker.retire_reason == "crashed":
            worker.retire_reason = "memory-limit"
        return _Outcome(crashed=True, exitcode=worker.process.exitcode, seconds=time.monotonic() - t0, stage=stage)

    def _replied(self, worker: _Worker, reply: Reply, t0: float) -> _Outcome:
        worker.tasks += 1
        if reply.recycle:
            worker.retire, worker.retire_reason = True, "recycled-after-error"
        elif worker.tasks >= self.config.max_tasks_per_child:
            worker.retire, worker.retire_reason = True, "max-tasks"
        return _Outcome(reply=reply, seconds=time.monotonic() - t0)

    def _result(self, outcome: _Outcome, worker: _Worker, deadline_seconds: float) -> JobOutput:
        if outcome.timed_out:
            raise DeadlineExceededError(
                f"Extraction did not finish within the {deadline_seconds:g} s deadline; the work was stopped.",
                deadline_seconds=deadline_seconds,
            )
        if outcome.crashed and outcome.exitcode == -signal.SIGXCPU and self.config.cpu_limit_seconds > 0:
            cap = self.config.cpu_limit_seconds
            err = ResourceLimitError(
                f"The extraction used more than the {cap:g} s of CPU time one file may use (limit worker_cpu_seconds); "
                "the work was stopped.",
                limit="worker_cpu_seconds",
                cpu_seconds=cap,
            )
            err.worker_cpu_seconds = cap  # type: ignore[attr-defined]
            raise err
        if outcome.crashed and self._out_of_memory_reading(outcome.exitcode, outcome.stage):
            mb = self.config.memory_limit_bytes // (1024 * 1024)
            name = signal.Signals(-outcome.exitcode).name if outcome.exitcode else "?"  # type: ignore[operator]
            fmt = outcome.stage.format if outcome.stage is not None else None
            what = f"the {fmt.upper()} file" if fmt else "the file"
            err = ResourceLimitError(
                f"The worker stopped ({name}) while reading {what} under its {mb} MiB memory limit "
                "(limit worker_memory_limit_mb): the file needs more memory than one extraction may use; "
                "the pool has been repaired.",
                limit="worker_memory_limit_mb",
                worker_memory_limit_mb=mb,
            )
            err.worker_cpu_seconds = outcome.seconds  # type: ignore[attr-defined]  # the worker is gone: its wall time bounds its CPU
            raise err
        if outcome.crashed:
            raise WorkerCrashedError(
                f"The worker process exited unexpectedly (exit code {outcome.exitcode}) while reading this file; "
                "the pool has been repaired.",
                exitcode=outcome.exitcode,
            )
        reply = outcome.reply
        assert reply is not None
        if reply.output is not None:
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * outcome.seconds
            return reply.output
        if reply.error is not None:
            err = rebuild_error(reply.error)
            if err is not None:
                err.worker_cpu_seconds = reply.cpu_seconds  # type: ignore[attr-defined]  # for Server-Timing
                raise err
        raise WorkerBugError(f"Unexpected failure in the worker ({reply.bug or 'unknown'}).")

    def _out_of_memory_reading(self, exitcode: int | None, stage: Stage | None) -> bool:
        """A death that is an allocation failing under the memory cap: while a reader ran, by an abort-like signal."""
        return (
            self.config.memory_limit_bytes > 0
            and stage is not None
            and stage.name == READING
            and exitcode is not None
            and exitcode < 0
            and -exitcode in _ALLOCATION_FAILURE_SIGNALS
        )

    # ---- returning / replacing workers (event loop thread) ---------------------------------
    def _release(self, worker: _Worker, _fut: asyncio.Future[_Outcome]) -> None:
        self._busy.pop(worker.pid, None)
        if self._closed:
            return
        if worker.retire or not worker.process.is_alive():
            self._replace_later(worker)
        else:
            assert self._idle is not None
            self._idle.put_nowait(worker)

    def _replace_later(self, worker: _Worker) -> None:
        """Retire `worker` and start its successor off the event loop."""
        assert self._loop is not None
        self._workers.discard(worker)
        self.restarts[worker.retire_reason] += 1
        fut = self._loop.run_in_executor(self._threads, self._swap, worker)
        fut.add_done_callback(self._adopt)

    def _swap(self, old: _Worker) -> _Worker:
        self._stop(old, polite=True)
        return self._spawn()

    def _adopt(self, fut: asyncio.Future[_Worker]) -> None:
        assert self._loop is not None and self._idle is not None
        if fut.cancelled():  # the pool is closing (its threads drop a queued start), else start it again
            if not self._closed:
                self._loop.call_later(_RESPAWN_BACKOFF_SECONDS, self._respawn)
            return
        if fut.exception() is not None:
            log.error("could not start a replacement worker: %r; retrying", fut.exception())
            if not self._closed:
                self._loop.call_later(_RESPAWN_BACKOFF_SECONDS, self._respawn)
            return
        worker = fut.result()
        if self._closed:
            self._threads.submit(self._stop, worker, True)
            return
        self._workers.add(worker)
        self._idle.put_nowait(worker)

    def _respawn(self) -> None:
        if self._closed or self._loop is None:
            return
        fut = self._loop.run_in_executor(self._threads, self._spawn)
        fut.add_done_callback(self._adopt)


class _Exchange:
    """One job's conversation with its worker, all on the event loop.

    The job is written to the worker's pipe, the pipe is read when it becomes readable (`loop.add_reader`)
    and its messages (`Stage`, `Progress`, the `Reply`) are unframed here, and the deadline is a timer:
    no thread hand-off per job (a waiting thread cost ~0.3 ms of CPU and a loop wake-up per request).
    Only the rare blocking steps, a join after a kill, run in the pool's threads. The framing is
    `multiprocessing.connection`'s (a 4-byte big-endian length, -1 plus 8 bytes for huge messages, then
    the pickle), read from a duplicate of the pipe's descriptor with `MSG_DONTWAIT`, so a reply arriving
    in pieces never blocks the loop.
    """

    def __init__(self, pool: WorkerPool, worker: _Worker, timeout: float,
                 on_progress: Callable[[int, int], None] | None) -> None:
        assert pool._loop is not None
        self.pool = pool
        self.worker = worker
        self.loop = pool._loop
        self.timeout = timeout
        self.on_progress = on_progress
        self.future: asyncio.Future[_Outcome] = self.loop.create_future()
        self.t0 = time.monotonic()
        self.stage: Stage | None = None
        self.buf = bytearray()
        self.sock: socket.socket | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.settled = False  # an outcome is decided (or being decided off the loop)

    def start(self, job: ExtractJob) -> asyncio.Future[_Outcome]:
        try:
            data = ForkingPickler.dumps(job)
        except Exception:
            log.exception("job for worker %s could not be pickled", self.worker.pid)
            self.worker.retire, self.worker.retire_reason = True, "bad-reply"
            self._finish(_Outcome(reply=Reply(bug="UnreadableReply"), seconds=0.0))
            return self.future
        self.sock = socket.socket(fileno=os.dup(self.worker.conn.fileno()))
        self.loop.add_reader(self.sock.fileno(), self._readable)
        self.timer = self.loop.call_later(self.timeout, self._overdue)
        if len(data) <= _INLINE_SEND_BYTES:
            try:
                self.worker.conn.send_bytes(data)
            except Exception as exc:  # noqa: BLE001 - every failure ends the job, none may leak the worker
                self._send_failed(exc)
        else:
            try:
                sent = self.loop.run_in_executor(self.pool._threads, self.worker.conn.send_bytes, data)
            except RuntimeError as exc:  # the pool is closing
                self._send_failed(exc)
            else:
                sent.add_done_callback(self._sent)
        return self.future

    def _sent(self, fut: asyncio.Future[None]) -> None:
        exc = RuntimeError("send cancelled") if fut.cancelled() else fut.exception()
        if exc is not None:
            self._send_failed(exc)

    def _send_failed(self, exc: BaseException) -> None:
        """A broken pipe is the worker's death (EOF); anything else an unusable worker, as a bad reply was."""
        if isinstance(exc, OSError):
            self._crash()
            return
        log.error("could not send a job to worker %s: %r", self.worker.pid, exc)
        self.worker.retire, self.worker.retire_reason = True, "bad-reply"
        self._finish(_Outcome(reply=Reply(bug="UnreadableReply"), seconds=time.monotonic() - self.t0))

    def _readable(self) -> None:
        assert self.sock is not None
        while not self.settled:
            try:
                chunk = self.sock.recv(_READ_BYTES, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._crash()
                return
            if not chunk:
                self._crash()
                return
            self.buf += chunk
            self._messages()
            if len(chunk) < _READ_BYTES:
                return  # drained; the next bytes wake the reader again

    def _messages(self) -> None:
        """Handle every complete message in the buffer."""
        while not self.settled:
            buf = self.buf
            if len(buf) < 4:
                return
            (size,) = struct.unpack_from("!i", buf)
            head = 4
            if size == -1:
                if len(buf) < 12:
                    return
                (size,) = struct.unpack_from("!Q", buf, 4)
                head = 12
            if len(buf) < head + size:
                return
            payload = bytes(buf[head:head + size])
            del buf[:head + size]
            try:
                if size < 0:
                    raise ValueError(f"bad message length {size}")
                reply = ForkingPickler.loads(payload)
            except Exception:
                log.exception("unreadable reply from worker %s", self.worker.pid)
                self.worker.retire, self.worker.retire_reason = True, "bad-reply"
                self._finish(_Outcome(reply=Reply(bug="UnreadableReply"), seconds=time.monotonic() - self.t0))
                return
            if isinstance(reply, Stage):
                self.stage = reply
            elif isinstance(reply, Progress):
                if self.on_progress is not None:
                    self.loop.call_soon(self.on_progress, reply.done, reply.total)
            else:
                self._finish(self.pool._replied(self.worker, reply, self.t0))

    def _overdue(self) -> None:
        self.timer = None
        if self.settled:
            return
        self._settle()
        self.pool._off_loop(lambda: self.pool._overdue(self.worker, self.t0), self._finish)

    def _crash(self) -> None:
        if self.settled:
            return
        self._settle()
        stage = self.stage
        self.pool._off_loop(lambda: self.pool._crashed(self.worker, stage, self.t0), self._finish)

    def _settle(self) -> None:
        """Stop reading and timing: the outcome is decided."""
        self.settled = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _finish(self, outcome: _Outcome) -> None:
        self._settle()
        if not self.future.done():
            self.future.set_result(outcome)
