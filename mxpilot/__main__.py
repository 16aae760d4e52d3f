"""``python -m mxpilot``: the same as the ``mxpilot`` command."""

from __future__ import annotations

from mxpilot.cli import main

raise SystemExit(main())
