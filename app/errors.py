"""Failures that belong to the service, not to the document.

They extend the library's `ExtractionError` so that one table in
`app.problems` maps every failure (library or service) to an HTTP status, and
each carries the same `code`/`title`/`detail`/`extra` protocol.
"""
from __future__ import annotations

from extractors import ExtractionError


class ServiceError(ExtractionError):
    """Base of the failures the service itself produces."""

    code = "service-error"
    title = "The service could not complete the request"


class PoolSaturatedError(ServiceError):
    """Every worker is busy and the wait queue is full: try again later."""

    code = "pool-saturated"
    title = "The extraction pool is saturated"


class DeadlineExceededError(ServiceError):
    """The request ran past its deadline; its worker was killed."""

    code = "deadline-exceeded"
    title = "The request exceeded its deadline"


class WorkerCrashedError(ServiceError):
    """The worker process died while extracting (killed, segfault, out of memory)."""

    code = "worker-crashed"
    title = "The extraction worker crashed"


class WorkerBugError(ServiceError):
    """An unexpected exception inside the worker: a bug, reported without internals."""

    code = "internal-error"
    title = "Internal server error"


class NotReadyError(ServiceError):
    """The pool is down or memory is short: do not route traffic here yet."""

    code = "not-ready"
    title = "The service is not ready"


class JobNotFoundError(ServiceError):
    """No job with this id: never created, expired after its TTL, or deleted."""

    code = "job-not-found"
    title = "No such job"


class JobCancelledError(ServiceError):
    """The job was cancelled with DELETE before it finished."""

    code = "job-cancelled"
    title = "The job was cancelled"


class JobLostError(ServiceError):
    """The replica running the job stopped (crash, restart, scale-down) before the job finished."""

    code = "job-lost"
    title = "The job was lost with its replica"


class CallbackNotAllowedError(ServiceError):
    """`callback_url` is not an http(s) URL on an allow-listed host (or callbacks are off)."""

    code = "callback-not-allowed"
    title = "The callback URL is not allowed"


class UnauthorizedError(ServiceError):
    """The API key is missing or wrong."""

    code = "unauthorized"
    title = "A valid API key is required"


class UploadsSaturatedError(ServiceError):
    """Too many requests are sending or holding a body: refused before reading this one."""

    code = "too-many-uploads"
    title = "Too many uploads in flight"


class SpoolFullError(ServiceError):
    """The disk quota for in-flight uploads would be exceeded by this body."""

    code = "spool-full"
    title = "No room to receive the upload"


class RequestTimeoutError(ServiceError):
    """The client stopped sending its request (head or body) for too long."""

    code = "request-timeout"
    title = "The request was not received in time"


class HeaderFieldsTooLargeError(ServiceError):
    """The request head has more header fields, or more bytes, than the server reads."""

    code = "header-fields-too-large"
    title = "Request header fields too large"


class UriTooLongError(ServiceError):
    """The request target (path and query) is longer than the server reads."""

    code = "uri-too-long"
    title = "Request target too long"


class HttpVersionError(ServiceError):
    """The request is not HTTP/1.0 or HTTP/1.1 (e.g. an HTTP/2 preface sent without negotiation)."""

    code = "http-version-not-supported"
    title = "HTTP version not supported"
