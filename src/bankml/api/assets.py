"""Where the API documentation's browser assets (Swagger UI, ReDoc) come from.

They are served by the service itself, so ``/docs`` and ``/redoc`` work on a machine with no
internet access. The files come from the ``fastapi-offline`` package on PyPI (MIT), which
vendors Swagger UI (Apache-2.0) and ReDoc (MIT); they are installed with bankml, never
fetched at run time.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

__all__ = ["ASSETS_DIR", "ASSET_FILES"]


def _static_dir() -> Path:
    spec = find_spec("fastapi_offline")
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency of bankml
        raise RuntimeError("fastapi-offline is not installed; reinstall bankml")
    return Path(spec.origin).parent / "static"


ASSETS_DIR: Path = _static_dir()
ASSET_FILES: tuple[str, ...] = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "redoc.standalone.js",
    "favicon.png",
)
"""The files ``/docs`` and ``/redoc`` load (all under ``/docs-static/``)."""
