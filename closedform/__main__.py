"""``python -m closedform``: the command line."""

from closedform.cli import main

raise SystemExit(main())
