"""Every probe is bounded: slow talkers, endless replies, huge replies and chained literals.

Real hostile peers on loopback, short timeouts (0.5 s: a phase may take 1 s, a probe 3 s),
so each test ends in a few seconds; the bounds asserted are the documented ones plus slack.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from probes.mail.bounds import MAX_REPLY_BYTES, PHASE_FACTOR, PROBE_FACTOR, cut
from probes.mail.model import PhaseName, ProbeResult, Protocol, Security, Target, Timeouts
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status
from tests.labkit.hostile import HostilePeer

Start = Callable[..., HostilePeer]
STEP = 0.5
SLACK = 1.5
OPTIONS = ProbeOptions(timeouts=Timeouts(STEP, STEP, STEP, STEP, STEP))


def target(peer: HostilePeer, protocol: Protocol, security: Security = Security.NONE) -> Target:
    return Target(peer.host, peer.port, protocol, security)


def failed(result: ProbeResult) -> tuple[str, str]:
    failure = result.failure
    assert failure is not None, [p.title for p in result.phases]
    return failure.kind, failure.summary


def test_deadlines_follow_the_timeout() -> None:
    timeouts = Timeouts(resolve=8, connect=8, tls=8, reply=8, detect=4)
    assert timeouts.phase_deadline == PHASE_FACTOR * 8 == 16
    assert timeouts.probe_deadline == PROBE_FACTOR * 8 == 48


def test_cut_says_what_it_cut() -> None:
    assert cut("short", 10) == "short"
    assert cut("A" * 1_048_576, 5) == "AAAAA… [cut: 1,048,576 characters, kept 5]"


async def test_smtp_line_every_fraction_of_the_timeout_ends_in_the_phase_deadline(
    hostile_peer: Start,
) -> None:
    peer = hostile_peer("talker", interval=0.2)
    started = time.monotonic()
    result = await run_probe(target(peer, Protocol.SMTP), OPTIONS)
    elapsed = time.monotonic() - started
    kind, summary = failed(result)
    assert kind == "io.endless_reply"
    assert "kept talking for 1 s without finishing its reply" in summary
    assert result.phase(PhaseName.GREETING).status is Status.FAIL  # type: ignore[union-attr]
    assert result.diagnoses[0].id == "io.endless_reply"
    assert elapsed < PHASE_FACTOR * STEP + SLACK


async def test_imap_untagged_line_every_fraction_of_the_timeout_ends(hostile_peer: Start) -> None:
    peer = hostile_peer("talker", interval=0.2, protocol="imap")
    started = time.monotonic()
    result = await run_probe(target(peer, Protocol.IMAP), OPTIONS)
    kind, summary = failed(result)
    assert kind == "io.endless_reply", summary
    assert result.failure.name is PhaseName.CAPABILITIES  # type: ignore[union-attr]
    assert "without finishing its reply" in summary
    assert time.monotonic() - started < PHASE_FACTOR * STEP + SLACK


@dataclass(frozen=True)
class ShortProbe(Timeouts):
    """Timeouts whose probe deadline comes before the phase deadline (to reach it in a test)."""

    @property
    def probe_deadline(self) -> float:
        return 0.6


async def test_the_probe_deadline_ends_the_probe_in_its_phase(hostile_peer: Start) -> None:
    peer = hostile_peer("talker", interval=0.1)
    options = ProbeOptions(timeouts=ShortProbe(STEP, STEP, STEP, STEP, STEP))
    result = await run_probe(target(peer, Protocol.SMTP), options)
    kind, summary = failed(result)
    assert kind == "probe.deadline"
    assert "did not finish within 0.6 s" in summary
    assert not result.cancelled
    assert result.diagnoses[0].id == "probe.deadline"
    assert result.duration < 0.6 + SLACK


async def test_chained_literals_hit_the_reply_budget_and_memory_stays_small(
    hostile_peer: Start,
) -> None:
    peer = hostile_peer("literals", size=4096)
    tracemalloc.start()
    try:
        result = await run_probe(target(peer, Protocol.IMAP), OPTIONS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kind, summary = failed(result)
    assert kind == "io.reply_too_big"
    assert "more than 64 KiB in one reply" in summary
    assert result.diagnoses[0].id == "io.reply_too_big"
    assert peak < 4 * 1024 * 1024, f"peak {peak:,} bytes"
    assert len(json.dumps(result.to_dict())) < 4 * MAX_REPLY_BYTES


async def test_a_huge_literal_is_refused_before_it_is_read(hostile_peer: Start) -> None:
    peer = hostile_peer("literals", size=50 * 1024 * 1024)
    started = time.monotonic()
    result = await run_probe(target(peer, Protocol.IMAP), OPTIONS)
    kind, summary = failed(result)
    assert kind == "io.reply_too_big"
    assert "a literal of 52,428,800 bytes" in summary
    assert time.monotonic() - started < STEP + SLACK


@pytest.mark.parametrize("total", [1024 * 1024, 12 * 1024 * 1024])
async def test_a_huge_ehlo_is_a_verdict_and_is_not_kept_whole(
    hostile_peer: Start, total: int
) -> None:
    peer = hostile_peer("huge_ehlo", total=total)
    result = await run_probe(target(peer, Protocol.SMTP), OPTIONS)
    kind, summary = failed(result)
    assert kind == "io.reply_too_big"
    assert summary == "the server sent more than 64 KiB in one reply"
    phase = result.failure
    assert phase is not None and phase.name is PhaseName.CAPABILITIES
    assert all(len(line) < 1100 for line in phase.transcript)
    assert len(phase.transcript) < 100
    assert len(json.dumps(result.to_dict())) < 2 * MAX_REPLY_BYTES


async def test_a_long_reply_under_budget_is_cut_in_summary_and_transcript(
    hostile_peer: Start,
) -> None:
    """An EHLO of 40 KB passes its budget; what the phase keeps of it is cut, saying so."""
    peer = hostile_peer("huge_ehlo", total=40_000)
    result = await run_probe(target(peer, Protocol.SMTP), OPTIONS)
    caps = result.phase(PhaseName.CAPABILITIES)
    assert caps is not None and caps.status is not Status.FAIL
    assert all(len(line) <= 1100 for line in caps.transcript)
    assert len(caps.summary) <= 2100
    assert len(json.dumps(caps.to_dict())) < 4 * 40_000
