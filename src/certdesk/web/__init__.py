"""The public web face: certificate verification pages, a PDF check and a JSON API.

``create_app(settings=None, engine=None)`` builds the FastAPI app; ``certdesk serve`` runs it.
"""

from certdesk.web.app import create_app

__all__ = ["create_app"]
