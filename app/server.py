"""The HTTP server around the app: uvicorn's h11 protocol with the limits it lacks.

uvicorn answers a request head only once it is complete, never times out a
head that stops half-way, accepts connections until the process runs out of
file descriptors, and writes its own protocol errors as text/plain. The
subclass here is the one seam for all of that (`uvicorn.Config(http=...)`):

- a head must be complete `header_timeout_seconds` after the connection opens
  (or after the previous response): else 408 problem+json and close;
- at most `max_connections` open connections (kept below RLIMIT_NOFILE, with a
  listen backlog small enough that an accept burst cannot exhaust descriptors):
  one more is answered 503 problem+json and closed at once, without a log line each;
- a request head longer than `max_header_bytes` or with more than
  `max_header_fields` fields is 431 problem+json, a request target longer than
  `max_url_bytes` (or a request line that does not end within the head limit)
  414 problem+json; h11 holds at most `max_header_bytes` of an incomplete head;
- uvicorn's 400 for a malformed request is a problem+json document too, with
  the status h11 hints at (431 for an oversized head);
- the raw head is held to RFC 9110/9112 where h11 is lenient: a field value
  with a control character other than HTAB (h11 passes 0x01-0x08, 0x0E-0x1F,
  DEL) and obs-fold (a header line starting with SP/HTAB, which h11 joins into
  the previous value) are 400 with a `detail` naming the line and the byte;
  h11's own refusals (bad request line, bad field name, conflicting
  Content-Length) get the same precise `detail` (`head_violation`);
- a response that refuses a body still on its way (503 before the body, 413,
  408) is followed by a lingering close, as nginx does: the write side is shut
  (FIN after the answer) and the rest of the body is read and dropped for a
  bounded time, so the sender gets to read the answer and its `Retry-After`
  instead of a connection reset (closing with unread bytes makes the kernel
  send RST, which discards the answer at the client); a graceful stop ends it.

Responses written here bypass the app (there is no request yet), so they are
built with `app.problems.problem_response` and written raw.
"""
from __future__ import annotations

import asyncio
import logging
import re
import resource
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import (
    HeaderFieldsTooLargeError,
    HttpVersionError,
    RequestTimeoutError,
    ServiceError,
    UriTooLongError,
)
from .problems import PROBLEM_TYPE_BASE, problem_response
from .settings import Settings

log = logging.getLogger("app.server")

# Lingering close after a refused body: stop when the client closes, after this long in all, or this long silent.
LINGER_SECONDS = 15.0
LINGER_IDLE_SECONDS = 5.0
# Descriptors kept free beyond client connections: worker pipes, spool files, logs, the listening socket.
FD_RESERVE = 64


class ConnectionLimitError(ServiceError):
    """The server holds as many connections as it allows."""

    code = "too-many-connections"
    title = "Too many open connections"


def raw_problem(status: int, code: str, title: str, detail: str, base: str = PROBLEM_TYPE_BASE, **extra: object) -> bytes:
    """A complete HTTP/1.1 problem response that closes the connection, as bytes (`type` under `base`)."""
    response = problem_response(status, code, title, detail, instance=None, request_id=None, extra=extra, base=base)
    head = [b"HTTP/1.1 %d %s" % (status, _phrase(status))]
    head += [b"%s: %s" % (k, v) for k, v in response.raw_headers]
    head.append(b"connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + bytes(response.body)


class PerRequestWarningLimit(logging.Filter):
    """Lets uvicorn's one-line-per-bad-request warnings through at most `per_minute` times a minute.

    "Invalid HTTP request received." is logged for every unparsable request, so a client can write the
    log as fast as it can send garbage; past the limit the rest of the minute is counted, and the count is
    logged with the first such warning of a later minute.
    """

    MESSAGES = frozenset({"Invalid HTTP request received."})

    def __init__(self, per_minute: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_minute = per_minute
        self._clock = clock
        self._window = clock()
        self._passed = 0
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg not in self.MESSAGES:
            return True
        now = self._clock()
        if now - self._window >= 60.0:
            if self._dropped:
                log.warning("%d more invalid requests in the last minute were not logged", self._dropped)
            self._window, self._passed, self._dropped = now, 0, 0
        if self._passed < self.per_minute:
            self._passed += 1
            return True
        self._dropped += 1
        return False


def _phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Error"


# RFC 9110 §5.6.2 token (field names, methods); §5.5 field value: VCHAR, obs-text, SP and HTAB only.
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_VALUE_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_CTL = re.compile(rb"[\x00-\x1f\x7f]")
_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
_HEAD_END = re.compile(rb"\n\r?\n")


def _show(raw: bytes, limit: int = 60) -> str:
    """`raw` as readable text for a `detail`: ASCII kept, other bytes escaped, cut at `limit` characters."""
    text = repr(bytes(raw))[2:-1]
    return text if len(text) <= limit else text[:limit] + "…"


def head_violation(head: bytes) -> str | None:
    """Why `head` (a raw request head, up to its blank line) breaks RFC 9110/9112, or None.

    The first violation found, in a sentence a client developer can act on: the line, the field and the
    byte. Lines end at LF with an optional CR before it, as h11 splits them (RFC 9112 §2.2 allows a bare LF).
    """
    if head[:1] == b"\x16" and head[1:2] == b"\x03":
        return "The connection began with a TLS handshake; this port speaks plain HTTP."
    lines = [line[:-1] if line.endswith(b"\r") else line for line in head.split(b"\n")]
    while lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return "The request has no request line."
    request_line, fields = lines[0], lines[1:]
    ctl = _LINE_CTL.search(request_line)
    if ctl is not None:
        where = "request target" if b" " in request_line[: ctl.start()] else "request line"
        return f"The {where} holds control character 0x{ctl.group()[0]:02X} at byte {ctl.start()}."
    parts = request_line.split(b" ")
    if len(parts) != 3 or not all(parts):
        return (
            f"The request line `{_show(request_line)}` is not `method SP target SP HTTP-version` "
            "with single spaces (RFC 9112 §3)."
        )
    method, _target, version = parts
    if _TOKEN.fullmatch(method) is None:
        return f"The method `{_show(method)}` is not a token (RFC 9110 §9.1)."
    if _VERSION.fullmatch(version) is None:
        return f"`{_show(version)}` is not an HTTP version such as HTTP/1.1."
    for number, line in enumerate(fields, start=1):
        if line[:1] in (b" ", b"\t"):
            return (
                f"Header line {number} starts with whitespace: obs-fold (a folded continuation line) is not "
                "accepted (RFC 9112 §5.2); send the value on one line."
            )
        name, colon, value = line.partition(b":")
        if not colon:
            return f"Header line {number} (`{_show(line)}`) has no colon."
        if _TOKEN.fullmatch(name) is None:
            return (
                f"The header field name `{_show(name)}` (line {number}) is not a token: no spaces, separators, "
                "control or non-ASCII characters (RFC 9110 §5.1)."
            )
        ctl = _VALUE_CTL.search(value)
        if ctl is not None:
            return (
                f"The value of header field `{_show(name)}` holds control character 0x{ctl.group()[0]:02X}; "
                "only HTAB is allowed among controls (RFC 9110 §5.5)."
            )
    return None


class HeadSyntaxError(h11.RemoteProtocolError):
    """A request head that breaks RFC 9110/9112; its message is the problem's `detail` as it stands."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error_status_hint=400)


class HeadLimitedConnection(h11.Connection):
    """h11's server side plus caps on a head's size, its number of header fields and its target length.

    h11 itself bounds the bytes of a head still incomplete after a read (`max_incomplete_event_size`,
    hint 431) but not a head that arrived whole in one read, nor how many fields it has or how long
    its target is. The protocol error raised
    here carries the status to answer with (`error_status_hint`), like h11's own; the last one is
    kept in `error` because uvicorn catches it without passing it on.
    """

    def __init__(self, max_header_bytes: int, max_header_fields: int, max_url_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_header_bytes)
        self.max_header_bytes = max_header_bytes
        self.max_header_fields = max_header_fields
        self.max_url_bytes = max_url_bytes
        self.error: h11.RemoteProtocolError | None = None
        self._line_seen = False  # the current head's request line has ended (so a long head is not a long URL)
        # The raw bytes of the head being received (h11 keeps only what it parsed, obs-fold already joined),
        # at most one head's worth: checked by `head_violation` once h11 has parsed or refused the head.
        self._raw_head = bytearray()
        self._raw_head_cap = max_header_bytes + 4

    def receive_data(self, data: bytes) -> None:
        if self.their_state is h11.IDLE and data:
            if not self._line_seen:
                self._line_seen = b"\n" in data
            room = self._raw_head_cap - len(self._raw_head)
            if room > 0:
                self._raw_head += data[:room]
        super().receive_data(data)

    def start_next_cycle(self) -> None:
        super().start_next_cycle()
        self._line_seen = False
        self._raw_head = bytearray(self.trailing_data[0][: self._raw_head_cap])  # a pipelined next head

    def _head_bytes(self) -> tuple[bytes, bool]:
        """The raw head received so far, up to its blank line; and whether that line was seen."""
        end = _HEAD_END.search(self._raw_head)
        return (bytes(self._raw_head[: end.end()]), True) if end else (bytes(self._raw_head), False)

    def next_event(self) -> object:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as e:
            if e.error_status_hint == 431:  # h11's "receive buffer too long": the head did not end in time
                where = "request head" if self._line_seen else "request line"
                e = h11.RemoteProtocolError(
                    f"The {where} passed {self.max_header_bytes} bytes before it ended.",
                    error_status_hint=431 if self._line_seen else 414,
                )
            elif e.error_status_hint == 400:  # h11's message quotes a bytearray repr: say what is wrong instead
                head, complete = self._head_bytes()
                if not complete:  # refused early on its first line: judge that line only
                    head = head.split(b"\n", 1)[0] if b"\n" in head else head
                said = head_violation(head)
                if said is not None:
                    e = HeadSyntaxError(said)
            self.error = e
            raise e from None
        if isinstance(event, h11.Request):
            if event.http_version not in (b"1.0", b"1.1"):  # h11 parses any d.d, e.g. the HTTP/2 preface
                self.error = h11.RemoteProtocolError(
                    f"HTTP/{event.http_version.decode()} is not served here; use HTTP/1.1.", error_status_hint=505
                )
                raise self.error
            # h11 only bounds a head still incomplete after a read; one that arrived whole in one read is measured here
            size = len(event.method) + len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
            if size > self.max_header_bytes:
                self.error = h11.RemoteProtocolError(
                    f"The request head is about {size} bytes; at most {self.max_header_bytes} are read.",
                    error_status_hint=414 if len(event.target) > self.max_url_bytes else 431,
                )
                raise self.error
            if len(event.headers) > self.max_header_fields:
                self.error = h11.RemoteProtocolError(
                    f"The request has {len(event.headers)} header fields; at most {self.max_header_fields} are read.",
                    error_status_hint=431,
                )
                raise self.error
            if len(event.target) > self.max_url_bytes:
                self.error = h11.RemoteProtocolError(
                    f"The request target is {len(event.target)} bytes; at most {self.max_url_bytes} are read.",
                    error_status_hint=414,
                )
                raise self.error
            head, complete = self._head_bytes()
            self._raw_head = bytearray()
            if not complete:  # the raw head ran past the cap (whitespace, folds): longer than is read
                self.error = h11.RemoteProtocolError(
                    f"The request head is more than {self.max_header_bytes} bytes; at most that many are read.",
                    error_status_hint=431,
                )
                raise self.error
            said = head_violation(head)  # what h11 lets through: control characters in values, obs-fold
            if said is not None:
                self.error = HeadSyntaxError(said)
                raise self.error
        return event


def accept_backlog() -> int:
    """The listen backlog, which asyncio also uses as the number of sockets it accepts in one go.

    Sockets refused by the cap hold a descriptor until their close runs a loop iteration later, so a
    burst of accepts must stay small next to the descriptor limit.
    """
    soft = _raise_fd_limit()
    return 2048 if soft == resource.RLIM_INFINITY else max(16, min(2048, soft // 16))


def _raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def connection_limit(wanted: int) -> int:
    """`wanted`, or less if the descriptor limit cannot hold that many plus the reserve and accept bursts."""
    soft = _raise_fd_limit()
    if soft == resource.RLIM_INFINITY:
        return wanted
    room = soft - FD_RESERVE - 4 * accept_backlog()
    if room < wanted:
        log.warning("max_connections %d lowered to %d by the file-descriptor limit %d", wanted, room, soft)
    return max(1, min(wanted, room))


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: `close()` becomes a lingering close when a body is unread,
    and the writes of one event-loop step go out as one `send`.

    Everything else is the real transport's. uvicorn closes after a response with `Connection: close`;
    if the client is still sending the body that response refused, the protocol drains it instead.
    uvicorn writes a response's head and its body separately; on loopback or a LAN each `send` costs about
    as much CPU as the rest of the response's HTTP handling, and the client wakes up once per segment.
    So writes are gathered until the loop's next step (or a close/EOF, which flushes first) and sent
    together: the same bytes in the same order, one system call.
    """

    def __init__(self, transport: asyncio.Transport, protocol: GuardedH11Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._protocol.loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Hand the gathered writes to the real transport (which sends at once or buffers)."""
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def close(self) -> None:
        self._protocol.close_or_linger()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus head caps and timeout, a connection cap, lingering close, problem+json errors."""

    header_timeout: float = 10.0
    max_connections: int = 256
    max_header_bytes: int = 16 * 1024
    max_header_fields: int = 100
    max_url_bytes: int = 8 * 1024
    problem_base: str = PROBLEM_TYPE_BASE
    refused = 0  # connections answered 503 by the cap (class-wide, for tests and logs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = HeadLimitedConnection(self.max_header_bytes, self.max_header_fields, self.max_url_bytes)
        self._head_timer: asyncio.TimerHandle | None = None
        self._raw: asyncio.Transport | None = None
        self.lingering = False
        self._lost = False
        self._stopping = False  # the server is shutting down: no lingering, it would only delay the exit
        self._linger_end = 0.0
        self._linger_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            cls = type(self)
            cls.refused += 1
            if cls.refused in (1, 10, 100, 1000) or cls.refused % 10000 == 0:
                log.warning("connection limit %d reached; %d connections refused so far", self.max_connections, cls.refused)
            err = ConnectionLimitError(f"The server already holds {self.max_connections} connections.")
            transport.write(raw_problem(503, err.code, err.title, err.detail, self.problem_base, retry_after=1))
            transport.close()
            self.transport = transport
            return
        super().connection_made(transport)
        self._raw = transport
        self.transport = _LingeringTransport(transport, self)  # type: ignore[assignment]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._lost = True
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        if self.flow is None:  # refused in connection_made: nothing was set up
            return
        super().connection_lost(exc)

    def close_or_linger(self) -> None:
        """Close; but if the client is still sending a body, first let it read the answer (see the module doc)."""
        if isinstance(self.transport, _LingeringTransport):
            self.transport.flush()  # what was written goes out before the FIN
        raw = self._raw
        if raw is None or self.lingering:
            if raw is not None:
                raw.close()
            return
        if (
            self._lost
            or self._stopping
            or raw.is_closing()
            or self.conn.their_state is not h11.SEND_BODY
            or not raw.can_write_eof()
        ):
            raw.close()
            return
        self.lingering = True
        self._cancel_head_timer()
        try:
            raw.write_eof()  # FIN once the answer is flushed; the client's side stays open
        except (OSError, RuntimeError):
            raw.close()
            return
        raw.resume_reading()  # uvicorn pauses reading at its high-water mark
        self._linger_end = self.loop.time() + LINGER_SECONDS
        self._linger_timer = self.loop.call_later(LINGER_IDLE_SECONDS, self._linger_check)

    def shutdown(self) -> None:
        """uvicorn's graceful stop of this connection; a lingering close ends now."""
        self._stopping = True
        if self.lingering:
            self.close_or_linger()
            return
        super().shutdown()

    def _linger_check(self) -> None:
        """Called after a silence (or at the end): the client had its chance to read the answer."""
        self._linger_timer = None
        if self._raw is not None:
            self._raw.close()

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # the refused body: dropped; the timer is pushed back while it keeps coming
            if self._linger_timer is not None:
                self._linger_timer.cancel()
            delay = min(LINGER_IDLE_SECONDS, self._linger_end - self.loop.time())
            self._linger_timer = self.loop.call_later(max(0.0, delay), self._linger_check)
            return
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._head_timer is None:
                self._arm_head_timer()
        else:
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn's keep-alive timer covers an idle connection; once bytes of a next head arrive it is
        # cancelled, and data_received arms the head timer instead.

    def _unsupported_upgrade_warning(self) -> None:
        """uvicorn logs two warnings per `Upgrade:` request it cannot honour: a client could flood the log."""
        log.debug("unsupported upgrade request ignored")

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being produced (pipelining): not a stalled head
        err = RequestTimeoutError(f"The request head was not complete within {self.header_timeout:g} s.")
        if self.conn.our_state is h11.IDLE or self.conn.our_state is h11.DONE:
            self.transport.write(raw_problem(408, err.code, err.title, err.detail, self.problem_base))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request h11 cannot parse or that passes a head cap, as problem+json."""
        self._cancel_head_timer()
        error = self.conn.error if isinstance(self.conn, HeadLimitedConnection) else None
        status = error.error_status_hint if error is not None else 400
        if status == 431:
            err: ServiceError | None = HeaderFieldsTooLargeError(
                str(error),
                max_header_fields=self.max_header_fields,
                max_header_bytes=self.max_header_bytes,
            )
        elif status == 505:
            err = HttpVersionError(str(error))
        elif status == 414:
            err = UriTooLongError(
                str(error), max_url_bytes=self.max_url_bytes
            )
        else:
            status, err = 400, None
        if err is not None:
            code, title, detail = err.code, err.title, err.detail
        elif isinstance(error, HeadSyntaxError):
            code, title, detail = "bad-request", "Bad Request", str(error)
        else:
            code, title = "bad-request", "Bad Request"
            said = str(error or msg).rstrip(".")
            said = said if len(said) <= 200 else said[:200] + "…"  # h11 quotes the offending line: keep it short
            detail = f"The request could not be parsed as HTTP/1.1: {said}."
        extra = err.extra if err is not None else None
        response = problem_response(
            status, code, title, detail, instance=None, request_id=None, extra=extra, base=self.problem_base
        )
        headers = [*response.raw_headers, (b"connection", b"close")]
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers, reason=_phrase(status))))
            self.transport.write(self.conn.send(h11.Data(data=bytes(response.body))))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:  # h11 cannot frame a response in this state: close without one
            pass
        self.transport.close()


def protocol_class(settings: Settings) -> type[GuardedH11Protocol]:
    """A protocol class carrying this service's limits (uvicorn instantiates it per connection).

    Also limits uvicorn's per-bad-request warning (`PerRequestWarningLimit`), once per process.
    """
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, PerRequestWarningLimit) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(PerRequestWarningLimit())
    return type(
        "ServiceH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "max_connections": connection_limit(settings.max_connections),
            "max_header_bytes": settings.max_header_bytes,
            "max_header_fields": settings.max_header_fields,
            "max_url_bytes": settings.max_url_bytes,
            "problem_base": settings.problem_base_uri,
            "refused": 0,
        },
    )


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration the service runs with: the guarded protocol and this module's limits.

    One place for it, so that `python -m app` and the tests' live server run the same server
    (a test server on uvicorn's plain protocol would reset a client whose body a 4xx refused).
    """
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": not settings.access_log,  # the JSON access log (app.gateway) replaces uvicorn's line
        "http": protocol_class(settings),
        "ws": "none",  # no WebSocket route: an Upgrade is a plain request whatever websocket library is installed
        "backlog": accept_backlog(),
        "timeout_graceful_shutdown": max(1, int(settings.request_deadline_seconds)),
    }
    return uvicorn.Config(app, **(options | overrides))
