"""Running a probe: the phases of one target, in order, each bounded in time.

``ProbeRun`` drives a dialect (SMTP or IMAP) through resolve, connect, TLS,
greeting, capabilities, STARTTLS, auth and inbox, reports every phase as an
event, finds the security mode a port really speaks when the one asked for
does not fit, and hands the result to the diagnosis catalogue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from probes.mail.channel import Channel, PhaseFailed
from probes.mail.connect import endpoint_facts, open_channel
from probes.mail.detect import guess_security, is_mode_mismatch, mode_kind, mode_words, other_mode
from probes.mail.imap import ImapDialect
from probes.mail.model import (
    Phase,
    PhaseFinished,
    PhaseName,
    PhaseStarted,
    ProbeEvent,
    ProbeFinished,
    ProbeResult,
    Protocol,
    Security,
    Target,
    Timeouts,
)
from probes.mail.resolve import Nameserver, resolve
from probes.mail.smtp import Capabilities, SmtpDialect
from probes.mail.tls import TlsSettings, connection_facts, handshake, tls_verdict
from probes.status import Status

EventSink = Callable[[ProbeEvent], None]
"""Receives probe events as they happen (called on the event loop)."""

_CERT_KINDS = frozenset({"tls.cert_expired", "tls.cert_untrusted", "tls.cert_hostname"})
_GREETING_KINDS = {
    "io.timeout": "greeting.timeout",
    "io.closed": "greeting.closed",
    "io.garbage": "greeting.garbage",
    "io.line_too_long": "greeting.too_long",
    "io.slow": "greeting.slow",
}


@dataclass(frozen=True)
class ProbeOptions:
    """How probes run: time limits, trust, DNS server and safety switches."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsSettings = field(default_factory=TlsSettings)
    nameserver: Nameserver | None = None
    allow_plaintext_auth: bool = False
    ehlo_name: str = ""
    lang: str = "en"


class _Stop(Exception):
    """Internal: a phase failed and the probe ends here."""


def diagnosis_context(target: Target, result: ProbeResult | None = None) -> dict[str, str]:
    """Values for the catalogue's fix templates, taken from the target (no secret)."""
    context = {
        "host": target.host,
        "port": str(target.port),
        "protocol": target.protocol.value,
        "security": target.security.value,
    }
    if target.credentials is not None:
        user = target.credentials.username
        context["user"] = user
        context["mailbox"] = user
        if "@" in user:
            context["domain"] = user.rpartition("@")[2]
    if result is not None:
        detect = result.phase(PhaseName.DETECT)
        if detect is not None and detect.facts.get("detected"):
            context["suggested_security"] = str(detect.facts["detected"])
            context["suggested_port"] = str(target.port)
    return context


class ProbeRun:
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

    def _dialect(self) -> SmtpDialect | ImapDialect:
        if self.target.protocol is Protocol.SMTP:
            return SmtpDialect(self.options.ehlo_name)
        return ImapDialect()

    def _emit(self, event: ProbeEvent) -> None:
        if self.sink is not None:
            self.sink(event)

    @asynccontextmanager
    async def _phase(self, name: PhaseName, label: str = "") -> AsyncIterator[Phase]:
        phase = Phase(name=name, label=label)
        self._emit(PhaseStarted(self.target, name, label))
        started = time.perf_counter()
        self._transcript = phase.transcript
        if self.channel is not None:
            self.channel.transcript = phase.transcript
        try:
            yield phase
        except PhaseFailed as failure:
            _record_failure(phase, failure)
            raise _Stop from None
        except asyncio.CancelledError:
            phase.status = Status.SKIPPED
            phase.summary = "cancelled"
            raise
        except Exception as exc:  # a bug or an unforeseen peer: reported, never raised
            phase.status = Status.FAIL
            phase.kind = "internal.error"
            phase.summary = f"internal error: {exc.__class__.__name__}: {exc}"
            raise _Stop from None
        finally:
            phase.duration = time.perf_counter() - started
            self.result.phases.append(phase)
            self._emit(PhaseFinished(self.target, phase))

    async def run(self) -> ProbeResult:
        """Run every phase; return the diagnosed result (cancellation re-raised)."""
        started = time.perf_counter()
        try:
            await self._run()
        except _Stop:
            pass
        except asyncio.CancelledError:
            self.result.cancelled = True
            raise
        finally:
            await self._close()
            self.result.duration = time.perf_counter() - started
            self._diagnose()
            self._emit(ProbeFinished(self.result))
        return self.result

    def _diagnose(self) -> None:
        from probes.diagnosis.catalogue import Catalogue

        context = diagnosis_context(self.target, self.result)
        found = Catalogue.load().diagnose(self.result, context, lang=self.options.lang)
        found.sort(key=lambda d: not d.id.startswith("mode."))
        self.result.diagnoses = found

    async def _close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await channel.close()

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
        except _Stop:
            failed = self.result.failure
            kind = failed.kind if failed else ""
            if not is_mode_mismatch(security, kind):
                self.result.security_used = security
                raise
        self.result.security_used = security
        detected = await self._detect(security, kind, auto)
        if not auto or detected is None:
            raise _Stop
        # Auto mode: the first attempt was only a guess; keep it inside the detect phase.
        detect_phase = self.result.phases.pop()
        attempt = self.result.phases[mark:]
        del self.result.phases[mark:]
        detect_phase.facts["first_attempt"] = [f"{p.title}: {p.summary}" for p in attempt]
        self.result.phases.append(detect_phase)
        await self._close()
        self.result.security_used = await self._session(detected, greeting_timeout=None, auto=True)

    async def _open(self, phase: Phase) -> Channel:
        timeouts = self.options.timeouts
        channel = await open_channel(
            self.address, self.target.port, timeouts.connect, timeouts.reply
        )
        channel.transcript = phase.transcript
        return channel

    async def _session(
        self, security: Security, greeting_timeout: float | None, auto: bool = False
    ) -> Security:
        """Connect and talk; returns the security mode actually used."""
        target = self.target
        dialect = self._dialect()
        async with self._phase(PhaseName.CONNECT) as phase:
            self.channel = await self._open(phase)
            phase.facts.update(endpoint_facts(self.channel))
            phase.summary = f"connected to {self.address}:{target.port}"
        channel = self.channel
        if security is Security.TLS:
            await self._tls(PhaseName.TLS, "implicit", starttls=False)
            channel = self.channel
        async with self._phase(PhaseName.GREETING) as phase:
            phase.facts.update(await _greet(dialect, channel, greeting_timeout))
            phase.summary = str(phase.facts.get("banner", ""))[:120]
        async with self._phase(PhaseName.CAPABILITIES) as phase:
            caps = await dialect.capabilities(channel)
            phase.facts.update(caps.to_facts())
            phase.summary = caps.summary()
            if security is Security.STARTTLS and not caps.starttls and auto:
                security = Security.NONE
            if security is Security.STARTTLS and not caps.starttls:
                raise PhaseFailed(
                    "starttls.not_offered",
                    "the server does not offer STARTTLS on this port",
                    facts=caps.to_facts(),
                )
            if security is Security.NONE and not caps.starttls:
                phase.status = Status.WARN
                phase.kind = f"{target.protocol.value}.no_starttls"
                phase.summary += "; no STARTTLS: everything travels in clear text"
        if security is Security.STARTTLS:
            async with self._phase(PhaseName.STARTTLS) as phase:
                phase.facts.update(await dialect.starttls(channel))
                phase.summary = "the server agreed to start TLS"
            await self._tls(PhaseName.TLS, "after STARTTLS", starttls=True)
            channel = self.channel
            async with self._phase(PhaseName.CAPABILITIES, "after TLS") as phase:
                caps = await dialect.capabilities(channel)
                phase.facts.update(caps.to_facts())
                phase.summary = caps.summary()
        await self._auth(dialect, channel, caps)
        with suppress(PhaseFailed, OSError):
            channel.transcript = self._transcript
            async with asyncio.timeout(2.0):
                await dialect.quit(channel)
        return security

    async def _auth(
        self, dialect: SmtpDialect | ImapDialect, channel: Channel, caps: Capabilities
    ) -> None:
        target = self.target
        credentials = target.credentials
        if credentials is None:
            return
        async with self._phase(PhaseName.AUTH) as phase:
            phase.facts["username"] = credentials.username
            if not channel.encrypted and not self.options.allow_plaintext_auth:
                phase.status = Status.WARN
                phase.kind = "auth.skipped_plaintext"
                phase.summary = (
                    "not sending the password over an unencrypted connection: use STARTTLS or "
                    "TLS (or --allow-plaintext-auth on a trusted network)"
                )
                return
            if isinstance(dialect, ImapDialect) and caps.login_disabled:
                raise PhaseFailed(
                    "imap.logindisabled",
                    "the server disables LOGIN on this connection (LOGINDISABLED): "
                    "use STARTTLS or implicit TLS",
                )
            if isinstance(dialect, SmtpDialect) and not caps.auth and channel.encrypted:
                raise PhaseFailed(
                    "auth.no_mechanism",
                    "the server offers no AUTH mechanism: SMTP AUTH is off for this "
                    "server or port (port 25 is for server-to-server relay)",
                )
            phase.facts.update(await dialect.authenticate(channel, credentials, caps))
            phase.summary = f"logged in as {credentials.username} ({phase.facts['mechanism']})"
        if target.check_inbox and isinstance(dialect, ImapDialect):
            async with self._phase(PhaseName.INBOX) as phase:
                phase.facts.update(await dialect.inbox(channel, target.mailbox))
                phase.summary = f"{target.mailbox}: {phase.facts['messages']} messages"

    async def _tls(self, name: PhaseName, label: str, *, starttls: bool) -> None:
        settings = self.options.tls
        timeouts = self.options.timeouts
        async with self._phase(name, label) as phase:
            assert self.channel is not None
            try:
                facts = await handshake(
                    self.channel, settings.verifying_context(), self.target.host, timeouts.tls
                )
                phase.facts.update(facts)
                phase.facts["verified"] = True
            except PhaseFailed as failure:
                if failure.kind not in _CERT_KINDS:
                    raise
                await self._after_verify_failure(phase, failure, starttls)
            tls_verdict(phase)

    async def _after_verify_failure(
        self, phase: Phase, failure: PhaseFailed, starttls: bool
    ) -> None:
        """Read the certificate over an unverified connection; go on only if insecure."""
        phase.facts["verified"] = False
        phase.facts["verify_error"] = failure.summary
        replay = await self._unverified_replay(starttls)
        if replay is not None:
            phase.facts.update(connection_facts(replay))
            phase.facts["verified"] = False
        cert = phase.facts.get("certificate", {})
        product = cert.get("interception_product") if isinstance(cert, dict) else None
        if product:
            failure.kind = "tls.interception"
            failure.summary = (
                f"the certificate was issued by {cert.get('issuer')} ({product}): an antivirus "
                f"or proxy is intercepting TLS on this machine or network; {failure.summary}"
            )
        if not self.options.tls.insecure or replay is None:
            if replay is not None:
                await replay.close()
            raise failure
        await self._close()
        self.channel = replay
        replay.transcript = phase.transcript
        self.result.verified = False
        phase.transcript.append(f"-- {failure.summary}; continuing UNVERIFIED (--insecure)")
        phase.status = Status.WARN
        phase.kind = failure.kind
        phase.summary = f"UNVERIFIED: {failure.summary}"

    async def _unverified_replay(self, starttls: bool) -> Channel | None:
        """Reconnect and redo the handshake without verification, quietly."""
        timeouts = self.options.timeouts
        channel: Channel | None = None
        try:
            async with asyncio.timeout(timeouts.connect + timeouts.tls + 3 * timeouts.reply):
                channel = await open_channel(
                    self.address, self.target.port, timeouts.connect, timeouts.reply
                )
                if starttls:
                    dialect = self._dialect()
                    await dialect.greet(channel)
                    await dialect.capabilities(channel)
                    await dialect.starttls(channel)
                context = TlsSettings.unverified_context()
                await handshake(channel, context, self.target.host, timeouts.tls)
                channel.transcript = []
                return channel
        except (PhaseFailed, OSError, TimeoutError):
            if channel is not None:
                await channel.close()
            return None

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
        except _Stop:
            return None


async def _greet(
    dialect: SmtpDialect | ImapDialect, channel: Channel, timeout: float | None
) -> dict[str, Any]:
    if timeout is None:
        return await dialect.greet(channel)
    saved = channel.read_timeout
    channel.read_timeout = timeout
    try:
        return await dialect.greet(channel)
    finally:
        channel.read_timeout = saved


def _record_failure(phase: Phase, failure: PhaseFailed) -> None:
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
