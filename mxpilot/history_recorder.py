"""Keep what ``mxpilot probe`` and ``mxpilot dns`` found in the workspace history.

The history answers "since when does this work" and is the evidence the
checklist links to. Keeping it is best effort: a workspace that cannot be
opened costs a one-line note on stderr, never the result itself.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.dns.audit import DnsAudit
    from probes.mail.model import ProbeResult


def add_history_option(parser: argparse.ArgumentParser) -> None:
    """``--no-history``: do not keep the results in the workspace."""
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not keep the results in the workspace history",
    )


def record_runs(
    args: argparse.Namespace,
    probes: Sequence[ProbeResult] = (),
    audit: DnsAudit | None = None,
    audit_seconds: float = 0.0,
) -> None:
    """Store probe results and a DNS audit in the workspace (unless ``--no-history``)."""
    if getattr(args, "no_history", False) or (not probes and audit is None):
        return
    from mxpilot.accounts_command import open_workspace
    from workspace.store import StoreError

    try:
        with open_workspace(args) as ws:
            for result in probes:
                ws.history.record_probe(result)
            if audit is not None:
                ws.history.record_dns(audit, audit_seconds)
    except (StoreError, OSError, sqlite3.Error) as exc:
        print(f"mxpilot: note: results not kept in the workspace history ({exc})", file=sys.stderr)
