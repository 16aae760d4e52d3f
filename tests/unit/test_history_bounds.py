"""A stored result has a size limit: whatever a peer sent, the history keeps it small."""

from __future__ import annotations

import json

from probes.mail.model import Credentials, Phase, PhaseName, ProbeResult, Protocol, Target
from probes.status import Status
from workspace.session import Workspace
from workspace.stored_result import MAX_STORED_ITEMS, MAX_STORED_TEXT

SECRET = "Sup3r-Secret-Value-42"


def test_a_huge_reply_is_stored_cut_and_says_so(workspace: Workspace) -> None:
    target = Target(
        "127.0.0.1", 587, Protocol.SMTP, credentials=Credentials("ops@lab.test", SECRET)
    )
    ehlo = "250-" + "X" * (12 * 1024 * 1024)
    lines = [f"S: 250-LINE{n}" for n in range(5000)]
    # the secret sits right at the cut point: it is masked before the cut, never halved
    near_cut = "a" * (MAX_STORED_TEXT - 5) + SECRET + "b" * 100
    phase = Phase(
        PhaseName.CAPABILITIES,
        Status.FAIL,
        summary=ehlo,
        transcript=[*lines, near_cut],
        facts={"ehlo": ehlo},
    )
    run = workspace.history.record_probe(ProbeResult(target, [phase]))
    row = workspace.store.query("SELECT result, summary FROM runs WHERE id = ?", (run.id,))[0]
    assert len(row["result"]) < 200_000 and len(row["summary"]) < MAX_STORED_TEXT + 100
    assert SECRET not in row["result"] and SECRET[: len(SECRET) // 2] not in row["result"]
    stored = json.loads(row["result"])
    kept = stored["phases"][0]
    assert kept["summary"].endswith(f"[cut: {len(ehlo):,} characters, kept {MAX_STORED_TEXT:,}]")
    assert len(kept["transcript"]) == MAX_STORED_ITEMS + 1
    assert kept["transcript"][-1] == f"… [cut: 5,001 items, kept {MAX_STORED_ITEMS:,}]"


def test_a_small_result_is_stored_unchanged(workspace: Workspace) -> None:
    target = Target("127.0.0.1", 993, Protocol.IMAP)
    result = ProbeResult(target, [Phase(PhaseName.CONNECT, summary="connected")])
    run = workspace.history.record_probe(result)
    assert run.result(workspace.store) == result.to_dict()
