"""A process that writes checklist notes as fast as it can, reporting each commit.

Run as ``python -m tests.labkit.checklist_writer WORKSPACE TAG COUNT``: for i in
0..COUNT-1 it sets the note of one item to ``TAG i`` (every tenth change also
adds an account) and, once the change is committed, prints ``i`` on its own
line. The crash test kills it with SIGKILL mid-stream; the concurrency test
runs two at once on one workspace.
"""

from __future__ import annotations

import sys
from pathlib import Path

from probes.mail.model import Security
from workspace.accounts.model import Account, AccountRole, MailEndpoint
from workspace.session import Workspace


def main(argv: list[str]) -> int:
    """Write COUNT notes; print each index once committed."""
    path, tag, count = Path(argv[0]), argv[1], int(argv[2])
    with Workspace.open(path) as ws:
        checklist = ws.checklists.get()
        ids = [item.item_id for item in checklist.items]
        for i in range(count):
            ws.checklists.set_note(checklist, ids[i % len(ids)], f"{tag} {i}", actor=tag)
            if i % 10 == 0:
                ws.accounts.add(
                    Account(
                        name=f"{tag}-{i}",
                        address=f"{tag}-{i}@example.com",
                        roles=(AccountRole.MONITORING,),
                        imap=MailEndpoint("127.0.0.1", 993, Security.TLS),
                    )
                )
            print(i, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
