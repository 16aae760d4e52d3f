"""Hostile peers: each yields the right diagnosis within its timeout — no crash, no hang.

The bounds asserted here are hang checks (a phase never runs far past its
own time limit), not speed measurements; speed lives in ``bench/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mxlab.certs import LabCertificates
from probes.mail.model import PhaseName, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, ProbeRun, run_probe, run_probes
from probes.status import Status
from tests.labkit.hostile import HostilePeer

Start = Callable[..., HostilePeer]
HANG_SLACK = 3.0


def target(peer: HostilePeer, security: Security, protocol: Protocol = Protocol.SMTP) -> Target:
    return Target(peer.host, peer.port, protocol, security)


def assert_bounded(result: object, options: ProbeOptions) -> None:
    limit = max(options.timeouts.connect, options.timeouts.reply, options.timeouts.tls) + HANG_SLACK
    for phase in result.phases:  # type: ignore[attr-defined]
        assert phase.duration < limit, f"{phase.title} ran {phase.duration:.1f}s"


@pytest.mark.parametrize(
    ("behaviour", "options", "kind"),
    [
        ("silent", {}, "greeting.timeout"),
        ("drip", {"interval": 0.2}, "greeting.slow"),
        ("endless_line", {}, "greeting.too_long"),
        ("garbage", {}, "greeting.garbage"),
        ("close", {}, "greeting.closed"),
        ("close", {"reset": True}, "greeting.closed"),
    ],
)
@pytest.mark.parametrize("protocol", [Protocol.SMTP, Protocol.IMAP])
async def test_misbehaving_greeting(
    hostile_peer: Start,
    lab_options: ProbeOptions,
    behaviour: str,
    options: dict[str, object],
    kind: str,
    protocol: Protocol,
) -> None:
    peer = hostile_peer(behaviour, **options)
    result = await run_probe(target(peer, Security.STARTTLS, protocol), lab_options)
    greeting = result.phase(PhaseName.GREETING)
    assert greeting is not None and greeting.status is Status.FAIL
    assert greeting.kind == kind, greeting.summary
    assert result.status is Status.FAIL
    assert result.diagnoses, "every failure is explained"
    assert_bounded(result, lab_options)


async def test_tls_spoken_to_a_plain_port(hostile_peer: Start, lab_options: ProbeOptions) -> None:
    peer = hostile_peer("tls_on_plain")
    result = await run_probe(target(peer, Security.TLS), lab_options)
    assert result.phase(PhaseName.TLS).kind == "tls.wrong_version"  # type: ignore[union-attr]
    detect = result.phase(PhaseName.DETECT)
    assert detect is not None and detect.kind == "mode.starttls"


async def test_plain_spoken_to_a_tls_port(
    hostile_peer: Start, lab_options: ProbeOptions, lab_certs: LabCertificates
) -> None:
    peer = hostile_peer("plain_on_tls", ssl_context=lab_certs.server_context())
    result = await run_probe(target(peer, Security.STARTTLS), lab_options)
    assert result.phase(PhaseName.GREETING).kind == "greeting.timeout"  # type: ignore[union-attr]
    detect = result.phase(PhaseName.DETECT)
    assert detect is not None and detect.kind == "mode.implicit_tls"
    imap_peer = hostile_peer(
        "plain_on_tls", ssl_context=lab_certs.server_context(), protocol="imap"
    )
    result = await run_probe(target(imap_peer, Security.NONE, Protocol.IMAP), lab_options)
    assert result.phase(PhaseName.DETECT).kind == "mode.implicit_tls"  # type: ignore[union-attr]


async def test_silent_peer_in_auto_mode_finds_no_mode(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    peer = hostile_peer("silent")
    result = await run_probe(target(peer, Security.AUTO), lab_options)
    assert result.status is Status.FAIL
    assert result.failure is not None
    assert_bounded(result, lab_options)


async def test_refused_and_dropped_syn_are_told_apart(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    refused = hostile_peer("refused")
    dropped = hostile_peer("dropped_syn")
    results = await run_probes(
        [target(refused, Security.STARTTLS), target(dropped, Security.STARTTLS)], lab_options
    )
    assert [r.failure.kind for r in results] == [  # type: ignore[union-attr]
        "connect.refused",
        "connect.timeout",
    ]
    timed_out = results[1].phase(PhaseName.CONNECT)
    assert timed_out is not None
    assert lab_options.timeouts.connect * 0.9 <= timed_out.duration
    assert_bounded(results[1], lab_options)
    assert all(r.diagnoses for r in results)


async def test_a_dropped_port_does_not_hold_back_the_others(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    """The refused probe finishes while the dropped one still waits for its timeout."""
    refused = hostile_peer("refused")
    dropped = hostile_peer("dropped_syn")
    finished: list[str] = []

    def sink(event: object) -> None:
        from probes.mail.model import ProbeFinished

        if isinstance(event, ProbeFinished):
            finished.append(event.result.failure.kind)  # type: ignore[union-attr]

    await run_probes(
        [target(dropped, Security.STARTTLS), target(refused, Security.STARTTLS)], lab_options, sink
    )
    assert finished == ["connect.refused", "connect.timeout"]


async def test_cancel_stops_every_probe_and_keeps_partial_results(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    peers = [hostile_peer("silent") for _ in range(3)]
    runs = [ProbeRun(target(p, Security.STARTTLS), lab_options) for p in peers]
    tasks = [asyncio.ensure_future(run.run()) for run in runs]
    await asyncio.sleep(0.3)
    for task in tasks:
        task.cancel()
    _, pending = await asyncio.wait(tasks, timeout=5)
    assert not pending
    for run in runs:
        assert run.result.cancelled
        assert run.result.phase(PhaseName.CONNECT).status is Status.PASS  # type: ignore[union-attr]
        assert run.result.phases[-1].status is Status.SKIPPED


async def test_run_probes_cancelled_from_outside(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    peers = [hostile_peer("silent") for _ in range(2)]
    job = asyncio.ensure_future(
        run_probes([target(p, Security.STARTTLS) for p in peers], lab_options)
    )
    await asyncio.sleep(0.3)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(job, timeout=5)


async def test_cancelled_batch_reports_partial_results_through_events(
    hostile_peer: Start, lab_options: ProbeOptions
) -> None:
    from probes.mail.model import ProbeFinished, ProbeResult

    peers = [hostile_peer("silent") for _ in range(2)]
    finished: list[ProbeResult] = []

    def sink(event: object) -> None:
        if isinstance(event, ProbeFinished):
            finished.append(event.result)

    job = asyncio.ensure_future(
        run_probes([target(p, Security.STARTTLS) for p in peers], lab_options, sink)
    )
    await asyncio.sleep(0.3)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert len(finished) == 2
    assert all(r.cancelled and r.phase(PhaseName.CONNECT) is not None for r in finished)
