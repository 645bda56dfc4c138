"""The HTTP face: FastAPI app factory, API-key auth, and one router per capability."""

from bankml.api.app import create_app

__all__ = ["create_app"]
