"""``python -m bankml`` runs the CLI, like the ``bankml`` command."""

from bankml.cli import main

main()
