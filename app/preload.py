"""Imported by the multiprocessing forkserver before it forks any worker (see `app.pool`).

Importing this module is its purpose: it imports the engine and runs `app.worker.warm_up()`, so every
worker the forkserver forks, new or recycled, starts with the catalogue, aliases, forms, compiled rule
sets and memo caches already built. `gc.freeze()` then moves those objects out of the collector's reach,
so the children's collections do not touch (and copy) the pages they share with the forkserver.
"""
from __future__ import annotations

import gc

from .worker import warm_up

LOADERS_RUN = warm_up()
gc.freeze()
