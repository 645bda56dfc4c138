"""`bankml serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import typer


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
    configure_logging(level, json_lines=log_json)
    uvicorn.run(create_app(services), host=host, port=port, log_config=None, access_log=False)
