"""The web console: server-rendered pages for analysts, validators, reviewers and auditors.

Mounted at ``/ui`` by ``bankml.api.app.create_app``; every page calls the same service
methods as the CLI and the API (through ``bankml.web.actions``).
"""

from bankml.web.app import PAGE_ROLES, create_web_app

__all__ = ["PAGE_ROLES", "create_web_app"]
