"""`python -m sevadesk` is the `seva` command."""

from sevadesk.cli import app

app()
