"""The ``nuage`` command line (Typer + Rich); ``main`` is the console-script entry point."""

from nuage.cli._app import app, main

__all__ = ["app", "main"]
