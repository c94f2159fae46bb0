"""The `kerasdream` command line. Importing it loads no Keras: `--help` is instant."""

from kerasdream.cli.commands import main

__all__ = ["main"]
