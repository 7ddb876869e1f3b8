"""``python -m driftwise`` runs the CLI."""

from driftwise.cli import main

main()
