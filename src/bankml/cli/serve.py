"""`bankml serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import typer

from bankml.core.errors import ConfigError


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Worker processes sharing the port. More than one needs shared state: a "
        "PostgreSQL database and BANKML_ONLINE_STORE=redis.",
    ),
    log_json: bool = typer.Option(True, "--log-json/--log-text", help="JSON log lines."),
) -> None:
    """Serve the bankml API (docs at /docs). Scale out with --workers on one host, or run
    several hosts behind a load balancer on a shared PostgreSQL database and Redis."""
    import uvicorn

    from bankml.core.settings import load_settings

    settings = load_settings()
    if workers > 1:
        if settings.online_store != "redis":
            raise ConfigError(
                "--workers > 1 needs a shared online feature store: set "
                "BANKML_ONLINE_STORE=redis (each worker would otherwise drift apart)"
            )
        if not (settings.database_url or "").startswith("postgresql"):
            raise ConfigError("--workers > 1 needs a shared PostgreSQL BANKML_DATABASE_URL")
        # Each worker process builds its own services from the environment.
        os.environ["BANKML_LOG_JSON"] = "true" if log_json else "false"
        uvicorn.run(
            "bankml.cli.serve:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
        )
        return
    uvicorn.run(_build_app(log_json), host=host, port=port, log_config=None, access_log=False)


def _build_app(log_json: bool) -> Any:
    from bankml.api.app import create_app
    from bankml.app import build_services
    from bankml.core.logging import configure_logging

    services = build_services()
    # A service logs its requests: at least INFO, whatever the CLI's quieter default.
    level = "INFO" if services.settings.log_level == "WARNING" else services.settings.log_level
    configure_logging(level, json_lines=log_json, background=True)
    return create_app(services)


def worker_app() -> Any:
    """The app of one `bankml serve --workers N` process (a uvicorn factory)."""
    from bankml.core.settings import load_settings

    return _build_app(load_settings().log_json)


class BackgroundServer:
    """A uvicorn server on a free loopback port in a background thread (demo and tests)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise ConfigError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
