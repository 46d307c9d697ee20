"""`python -m scheduling.planner`: plan months offline from a roster file."""

from scheduling.planner.cli import main

raise SystemExit(main())
