"""`bankml serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import typer

from bankml.core.errors import ConfigError


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    log_json: bool = typer.Option(True, "--log-json/--log-text", help="JSON log lines."),
) -> None:
    """Serve the bankml API (docs at /docs). One process; run several behind a load balancer
    with a shared PostgreSQL database to scale out."""
    import uvicorn

    from bankml.api.app import create_app
    from bankml.app import build_services
    from bankml.core.logging import configure_logging
    from bankml.core.settings import load_settings

    services = build_services(load_settings())
    # A service logs its requests: at least INFO, whatever the CLI's quieter default.
    level = "INFO" if services.settings.log_level == "WARNING" else services.settings.log_level
    configure_logging(level, json_lines=log_json, background=True)
    uvicorn.run(create_app(services), host=host, port=port, log_config=None, access_log=False)


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
