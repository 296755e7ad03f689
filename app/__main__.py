"""`python -m app`: serve the API with uvicorn on $HOST:$PORT (see `app.settings`).

uvicorn runs with the guarded h11 protocol (`app.server`). SIGTERM is a graceful
stop that ends with exit status 0 (SIGINT too): uvicorn re-raises the signal it
caught once it has shut down, which would kill the process before `atexit` runs
(and leave the forkserver's `pymp-*` directory behind), so the handlers installed
here just return.
"""
from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import uvicorn

from .main import create_app
from .server import server_config
from .settings import Settings


def _stopped(signum: int, frame: FrameType | None) -> None:
    """Runs when uvicorn re-raises the stop signal after its graceful shutdown: nothing left to do."""


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    config = server_config(create_app(settings), settings)
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(3)  # could not bind or start up; uvicorn has logged why


if __name__ == "__main__":
    main()
