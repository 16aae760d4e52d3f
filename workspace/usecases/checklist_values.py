"""The values a checklist's commands and help are filled with: domain, tenant, mailboxes."""

from __future__ import annotations

from workspace.accounts.model import Side
from workspace.checklist.model import Checklist
from workspace.session import Workspace


def checklist_values(ws: Workspace, checklist: Checklist) -> dict[str, str]:
    """Placeholder values: the checklist's own, and the first target and source mailboxes.

    The target mailbox is the first target account, else the first Microsoft 365
    service account; the source mailbox is the first source account.
    """
    accounts = ws.accounts.list()
    target = next((a.address for a in accounts if a.side is Side.TARGET), "")
    target = target or next(
        (a.address for a in accounts if a.side is Side.SERVICE and a.provider == "office365"), ""
    )
    source = next((a.address for a in accounts if a.side is Side.SOURCE), "")
    return checklist.values(target, source)
