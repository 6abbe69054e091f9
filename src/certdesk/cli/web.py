"""``certdesk serve``: the public verification web app under uvicorn."""

from __future__ import annotations

import signal

import typer

from certdesk.common.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", "-p", min=1, max=65535,
                                 help="Port to listen on."),
        workers: int = typer.Option(1, "--workers", "-w", min=1,
                                    help="Server processes sharing the port (up to the cores)."),
        access_log: bool = typer.Option(
            False, "--access-log/--no-access-log",
            help="Log every request (the reverse proxy in front usually does already)."),
    ) -> None:
        """Serve the public pages: /v/NUMBER, /verify, /api/v1, /docs.

        Put it behind a TLS reverse proxy and set CERTDESK_PUBLIC_URL to the address QR
        codes print. Rate limits count per client address; it is taken from X-Forwarded-For
        only when the proxy is listed in CERTDESK_FORWARDED_ALLOW_IPS (default: none).

        Each server process also runs the staff desk's background jobs (batches, the
        sweep) unless CERTDESK_QUEUE_IN_PROCESS=false, where `certdesk worker` runs them.
        """
        # lazy: certdesk.signing.keys at module top adds ~0.1 s to `certdesk --help`
        import uvicorn

        from certdesk.signing.keys import ca_certificate

        settings = get_settings()
        ca_certificate(settings)  # no keys yet: say so now, not as a 500 on the first visit
        trusted = settings.forwarded_allow_ips
        # Each worker process builds its own app (and engine) from the environment.
        # The access log is off by default: a line per request cost ~20% of the page's CPU.
        uvicorn.run("certdesk.cli.web:app_from_environment", factory=True, workers=workers,
                    host=host, port=port, server_header=False, log_level="info",
                    access_log=access_log, proxy_headers=bool(trusted),
                    forwarded_allow_ips=trusted or "")


def app_from_environment():
    """The app ``certdesk serve`` runs in each worker process."""
    # lazy: certdesk.web at module top adds ~3.5 s to `certdesk --help`
    from certdesk.signing.sandbox import Limits, sandbox
    from certdesk.web import create_app

    settings = get_settings()
    # Upload checks warm, forked while this process has a single thread (before the
    # server's loop starts any) — with the default signal handlers: uvicorn has installed
    # its own by now, and workers inheriting them would ignore SIGTERM and outlive it.
    stops = (signal.SIGTERM, signal.SIGINT)
    handlers = [signal.signal(s, signal.SIG_DFL) for s in stops]
    try:
        sandbox(Limits.of(settings)).start()
    finally:
        for s, handler in zip(stops, handlers, strict=True):
            signal.signal(s, handler)
    return create_app(settings)
