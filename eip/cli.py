"""The ``eip`` command line."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Run and inspect EIP routes."""
