"""One session with a server: connect, TLS, greeting, capabilities, STARTTLS, login, inbox.

``ProbeSession`` talks to the port in one security mode, phase by phase. A
certificate that does not verify is read again over an unverified connection
(so the user learns who issued it: an antivirus, a proxy, an expired chain)
and the session goes on only when the user asked for ``--insecure``.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import suppress
from typing import Any

from probes.mail.channel import Channel, PhaseFailed
from probes.mail.connect import endpoint_facts, open_channel
from probes.mail.imap import ImapDialect
from probes.mail.model import Phase, PhaseName, Security
from probes.mail.recorder import PhaseRecorder
from probes.mail.smtp import Capabilities, SmtpDialect
from probes.mail.tls import (
    OLD_VERSIONS,
    TlsSettings,
    connection_facts,
    handshake,
    tls_verdict,
    version_words,
)
from probes.status import Status

_CERT_KINDS = frozenset({"tls.cert_expired", "tls.cert_untrusted", "tls.cert_hostname"})
_VERSION_SUSPECTS = frozenset({"tls.protocol_version", "tls.closed", "tls.handshake"})


class ProbeSession(PhaseRecorder):
    """The phases of one connection to the target, in one security mode."""

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
            greeting = phase.greeting
            phase.summary = (greeting.banner if greeting and greeting.banner else "")[:120]
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
            auth = phase.auth
            mechanism = auth.mechanism if auth else None
            phase.summary = f"logged in as {credentials.username} ({mechanism})"
        if target.check_inbox and isinstance(dialect, ImapDialect):
            async with self._phase(PhaseName.INBOX) as phase:
                phase.facts.update(await dialect.inbox(channel, target.mailbox))
                inbox = phase.inbox
                messages = inbox.messages if inbox else None
                phase.summary = f"{target.mailbox}: {messages} messages"

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
                if failure.kind in _VERSION_SUSPECTS:
                    await self._name_old_version(failure, starttls)
                if failure.kind not in _CERT_KINDS:
                    raise
                await self._after_verify_failure(phase, failure, starttls)
            tls_verdict(phase)

    async def _name_old_version(self, failure: PhaseFailed, starttls: bool) -> None:
        """After a handshake failure, learn whether the server only speaks an old version.

        A second handshake that allows TLS 1.0 and weak ciphers tells which
        version the server speaks; it is closed at once, never used to log in.
        """
        replay = await self._unverified_replay(starttls, TlsSettings.legacy_context())
        if replay is None:
            return
        ssl_object = replay.writer.get_extra_info("ssl_object")
        version = ssl_object.version() if ssl_object is not None else None
        await replay.close()
        if not version:
            return
        failure.facts["server_version"] = version
        if version in OLD_VERSIONS:
            failure.facts["handshake_error"] = failure.summary
            failure.kind = "tls.server_old_version"
            failure.summary = (
                f"the server only speaks {version_words(version)}, which current clients "
                "refuse (a diagnostic handshake allowing it succeeded, and was closed)"
            )

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
        tls = phase.tls
        cert = tls.certificate if tls else None
        if cert is not None and cert.interception_product:
            failure.kind = "tls.interception"
            failure.summary = (
                f"the certificate was issued by {cert.issuer} ({cert.interception_product}): "
                f"an antivirus or proxy is intercepting TLS on this machine or network; "
                f"{failure.summary}"
            )
        if not self.options.tls.insecure or replay is None:
            if replay is not None:
                await replay.close()
            raise failure
        await self._close()
        self.channel = replay
        self._attach(replay)
        self.result.verified = False
        phase.transcript.append(f"-- {failure.summary}; continuing UNVERIFIED (--insecure)")
        phase.status = Status.WARN
        phase.kind = failure.kind
        phase.summary = f"UNVERIFIED: {failure.summary}"

    async def _unverified_replay(
        self, starttls: bool, context: ssl.SSLContext | None = None
    ) -> Channel | None:
        """Reconnect and redo the handshake without verification (or with ``context``)."""
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
                used = context or TlsSettings.unverified_context()
                await handshake(channel, used, self.target.host, timeouts.tls)
                channel.transcript = []
                return channel
        except (PhaseFailed, OSError, TimeoutError):
            if channel is not None:
                await channel.close()
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
