"""The faces of certdesk: the ``certdesk`` CLI (Typer + rich) and, later, the web app."""
