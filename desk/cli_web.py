"""``certdesk serve``: the public verification web app under uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", "-p", min=1, max=65535,
                                 help="Port to listen on."),
    ) -> None:
        """Serve the public pages: /v/NUMBER, /verify, /api/v1, /docs.

        Put it behind a TLS reverse proxy and set CERTDESK_PUBLIC_URL to the address QR
        codes print. Rate limits count per client address; it is taken from X-Forwarded-For
        only when the proxy is listed in CERTDESK_FORWARDED_ALLOW_IPS (default: none).
        """
        import uvicorn

        from common.settings import get_settings
        from desk.web import create_app
        from signing.keys import ca_certificate
        from signing.sandbox import Limits, sandbox

        settings = get_settings()
        ca_certificate(settings)  # no keys yet: say so now, not as a 500 on the first visit
        sandbox(Limits.of(settings)).start()  # upload checks warm, forked before any thread
        trusted = settings.forwarded_allow_ips
        uvicorn.run(create_app(settings), host=host, port=port, server_header=False,
                    log_level="info", proxy_headers=bool(trusted),
                    forwarded_allow_ips=trusted or "")
