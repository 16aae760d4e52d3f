"""Running a probe: the phases of one target, in order, each bounded in time.

``ProbeRun`` drives a dialect (SMTP or IMAP) through resolve and then one
session (connect, TLS, greeting, capabilities, STARTTLS, auth and inbox: see
:mod:`probes.mail.session`), reports every phase as an event, finds the
security mode a port really speaks when the one asked for does not fit, and
hands the result to the diagnosis catalogue (:mod:`probes.mail.diagnose`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from probes.mail.detect import guess_security, is_mode_mismatch, mode_kind, mode_words, other_mode
from probes.mail.diagnose import attach_diagnoses
from probes.mail.model import PhaseName, ProbeFinished, ProbeResult, Security, Target
from probes.mail.options import EventSink, ProbeOptions
from probes.mail.recorder import StopProbe
from probes.mail.resolve import resolve
from probes.mail.session import ProbeSession
from probes.status import Status

__all__ = ["EventSink", "ProbeOptions", "ProbeRun", "run_probe", "run_probes"]


class ProbeRun(ProbeSession):
    """One probe of one target; ``result`` is filled in as phases complete."""

    async def run(self) -> ProbeResult:
        """Run every phase; return the diagnosed result (cancellation re-raised)."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        self.probe_deadline_at = loop.time() + self.options.timeouts.probe_deadline
        try:
            async with asyncio.timeout_at(self.probe_deadline_at) as scope:
                await self._run()
        except StopProbe:
            pass
        except TimeoutError:
            if not scope.expired():
                raise  # not ours: a bug, reported as one
        except asyncio.CancelledError:
            self.result.cancelled = True
            raise
        finally:
            await self._close()
            self.result.duration = time.perf_counter() - started
            attach_diagnoses(self.result, self.options.lang)
            self._emit(ProbeFinished(self.result))
        return self.result

    async def _run(self) -> None:
        target, timeouts = self.target, self.options.timeouts
        async with self._phase(PhaseName.RESOLVE) as phase:
            addresses = await resolve(target.host, timeouts.resolve, self.options.nameserver)
            phase.facts["addresses"] = addresses
            self.address = addresses[0]
            phase.facts["used"] = self.address
            phase.summary = f"{target.host} -> {', '.join(addresses)} (using {self.address})"
        security = target.security
        auto = security is Security.AUTO
        if auto:
            security = guess_security(target.port)
        mark = len(self.result.phases)
        try:
            self.result.security_used = await self._session(
                security, greeting_timeout=timeouts.detect if auto else None, auto=auto
            )
            return
        except StopProbe:
            failed = self.result.failure
            kind = failed.kind if failed else ""
            if not is_mode_mismatch(security, kind):
                self.result.security_used = security
                raise
        self.result.security_used = security
        detected = await self._detect(security, kind, auto)
        if not auto or detected is None:
            raise StopProbe
        # Auto mode: the first attempt was only a guess; keep it inside the detect phase.
        detect_phase = self.result.phases.pop()
        attempt = self.result.phases[mark:]
        del self.result.phases[mark:]
        detect_phase.facts["first_attempt"] = [f"{p.title}: {p.summary}" for p in attempt]
        self.result.phases.append(detect_phase)
        await self._close()
        self.result.security_used = await self._session(detected, greeting_timeout=None, auto=True)

    async def _detect(self, tried: Security, kind: str, auto: bool) -> Security | None:
        """Find the mode the port really speaks after a mismatch-looking failure."""
        try:
            async with self._phase(PhaseName.DETECT, "auto" if auto else "") as phase:
                detected, evidence = await other_mode(
                    self._dialect(),
                    self.address,
                    self.target,
                    tried,
                    self.options.timeouts,
                    phase.transcript,
                )
                phase.facts["tried"] = tried.value
                if detected is None:
                    phase.status = Status.SKIPPED
                    phase.summary = f"no other security mode answered either ({evidence})"
                    return None
                phase.facts["detected"] = detected.value
                phase.summary = (
                    f"port {self.target.port} speaks {mode_words(detected)} ({evidence})"
                )
                if not auto:
                    phase.status = Status.FAIL
                    phase.kind = mode_kind(detected)
                    phase.summary = (
                        f"security mode mismatch: {mode_words(tried)} was used, but port "
                        f"{self.target.port} speaks {mode_words(detected)} ({evidence})"
                    )
                return detected
        except StopProbe:
            return None


async def run_probe(
    target: Target, options: ProbeOptions | None = None, sink: EventSink | None = None
) -> ProbeResult:
    """Probe one target and return its diagnosed result."""
    return await ProbeRun(target, options, sink).run()


async def run_probes(
    targets: Sequence[Target], options: ProbeOptions | None = None, sink: EventSink | None = None
) -> list[ProbeResult]:
    """Probe every target concurrently; results come back in the order of ``targets``.

    Cancelling the caller cancels every probe and re-raises; each probe still
    reports its partial result through ``sink`` (a ``ProbeFinished`` whose
    result is marked ``cancelled``), which is how the CLI and TUI show it.
    """
    runs = [ProbeRun(target, options, sink) for target in targets]
    tasks = [asyncio.ensure_future(run.run()) for run in runs]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return [run.result for run in runs]
