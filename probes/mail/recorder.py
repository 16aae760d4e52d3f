"""Recording a probe's phases: each one timed, reported as events, failures kept.

``PhaseRecorder`` holds what one probe of one target has so far (its result,
its open channel) and the ``phase`` context manager that turns a step into a
recorded :class:`~probes.mail.model.Phase`: started and finished events, the
duration, and a failure (or a bug) recorded instead of raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from probes.mail.bounds import PROBE_FACTOR, SHOWN_ITEMS, SHOWN_LINE, SHOWN_TEXT, cut
from probes.mail.channel import Channel, PhaseFailed
from probes.mail.connect import open_channel
from probes.mail.imap import ImapDialect
from probes.mail.model import (
    Phase,
    PhaseFinished,
    PhaseName,
    PhaseStarted,
    ProbeEvent,
    ProbeResult,
    Protocol,
    Target,
)
from probes.mail.options import EventSink, ProbeOptions
from probes.mail.secrets_mask import SecretMask
from probes.mail.smtp import SmtpDialect
from probes.status import Status

_GREETING_KINDS = {
    "io.timeout": "greeting.timeout",
    "io.closed": "greeting.closed",
    "io.garbage": "greeting.garbage",
    "io.line_too_long": "greeting.too_long",
    "io.slow": "greeting.slow",
}


class StopProbe(Exception):
    """A phase failed and the probe ends here (the failure is already recorded)."""


class PhaseRecorder:
    """One probe of one target; ``result`` is filled in as phases complete."""

    def __init__(
        self, target: Target, options: ProbeOptions | None = None, sink: EventSink | None = None
    ) -> None:
        self.target = target
        self.options = options or ProbeOptions()
        self.sink = sink
        self.result = ProbeResult(target=target)
        self.address = target.host
        self.channel: Channel | None = None
        self._transcript: list[str] = []
        credentials = target.credentials
        self.mask = (
            SecretMask.of([credentials.secret], [credentials.username])
            if credentials is not None
            else SecretMask()
        )
        self._phase_started = 0.0
        self._phase_deadline: float | None = None
        self.probe_deadline_at: float | None = None

    def _dialect(self) -> SmtpDialect | ImapDialect:
        if self.target.protocol is Protocol.SMTP:
            return SmtpDialect(self.options.ehlo_name)
        return ImapDialect()

    def _emit(self, event: ProbeEvent) -> None:
        if self.sink is not None:
            self.sink(event)

    def _attach(self, channel: Channel) -> None:
        """Make ``channel`` record into the current phase, masked, within its deadline."""
        channel.transcript = self._transcript
        channel.mask = self.mask
        channel.start_phase(self._phase_started, self._phase_deadline)

    @asynccontextmanager
    async def _phase(self, name: PhaseName, label: str = "") -> AsyncIterator[Phase]:
        phase = Phase(name=name, label=label)
        self._emit(PhaseStarted(self.target, name, label))
        started = time.perf_counter()
        self._transcript = phase.transcript
        self._phase_started = asyncio.get_running_loop().time()
        self._phase_deadline = self._phase_started + self.options.timeouts.phase_deadline
        if self.channel is not None:
            self._attach(self.channel)
        try:
            yield phase
        except PhaseFailed as failure:
            record_failure(phase, failure)
            raise StopProbe from None
        except asyncio.CancelledError:
            phase.status = Status.SKIPPED
            phase.summary = "cancelled"
            if self._past_probe_deadline():
                self._deadline_passed(phase)
            raise
        except Exception as exc:  # a bug or an unforeseen peer: reported, never raised
            phase.status = Status.FAIL
            phase.kind = "internal.error"
            phase.summary = f"internal error: {exc.__class__.__name__}: {exc}"
            raise StopProbe from None
        finally:
            phase.duration = time.perf_counter() - started
            seal(phase, self.mask)
            self.result.phases.append(phase)
            self._emit(PhaseFinished(self.target, phase))

    def _past_probe_deadline(self) -> bool:
        at = self.probe_deadline_at
        return at is not None and asyncio.get_running_loop().time() >= at

    def _deadline_passed(self, phase: Phase) -> None:
        """The probe ran out of time in ``phase``: it fails with ``probe.deadline``."""
        timeouts = self.options.timeouts
        phase.status = Status.FAIL
        phase.kind = "probe.deadline"
        phase.summary = (
            f"the probe did not finish within {timeouts.probe_deadline:g} s "
            f"({PROBE_FACTOR:g} × the {timeouts.step:g} s timeout): the server answers "
            "each step, but too slowly for the probe to finish"
        )

    async def _close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await channel.close()

    async def _open(self, phase: Phase) -> Channel:
        timeouts = self.options.timeouts
        channel = await open_channel(
            self.address, self.target.port, timeouts.connect, timeouts.reply
        )
        self._attach(channel)
        return channel


def record_failure(phase: Phase, failure: PhaseFailed) -> None:
    """Mark ``phase`` failed with the failure's kind, summary, reply codes and facts."""
    kind = failure.kind
    if phase.name is PhaseName.GREETING:
        kind = _GREETING_KINDS.get(kind, kind)
    elif phase.name is PhaseName.TLS and kind == "io.closed":
        kind = "tls.closed"
    phase.status = Status.FAIL
    phase.kind = kind
    phase.summary = failure.summary
    phase.code = failure.code
    phase.enhanced = failure.enhanced
    phase.facts.update(failure.facts)


def seal(phase: Phase, mask: SecretMask) -> None:
    """What a phase keeps: its secrets masked, its texts and lists cut (each cut said)."""
    phase.summary = cut(mask(phase.summary), SHOWN_TEXT)
    phase.transcript[:] = [cut(mask(line), SHOWN_LINE) for line in phase.transcript]
    phase.facts = _bounded(mask.facts(phase.facts))


def _bounded(value: object) -> Any:
    if isinstance(value, str):
        return cut(value, SHOWN_TEXT)
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [_bounded(item) for item in value[:SHOWN_ITEMS]]
        if len(value) > SHOWN_ITEMS:
            kept.append(f"… [cut: {len(value):,} items, kept {SHOWN_ITEMS:,}]")
        return kept
    return value
