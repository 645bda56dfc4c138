"""``python -m bankml.cli`` runs the CLI (the tests use it to run as a user would)."""

from bankml.cli import main

main()
