"""`python -m promptls` runs the CLI."""

from promptls.cli import main

raise SystemExit(main())
