"""HTTP service for the extraction engine: `python -m app` serves it, `create_app()` builds it."""
from __future__ import annotations

from .main import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
