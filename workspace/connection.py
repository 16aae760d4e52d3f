"""How a front end reaches servers: trust, DNS server, time limits (one place for CLI and TUI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine is imported when a probe or audit first runs (start-up time)
    import ssl

    from probes.dns.client import DnsClient
    from probes.dns.sts import HttpsOptions
    from probes.mail.resolve import Nameserver
    from probes.mail.runner import ProbeOptions


@dataclass(frozen=True)
class ConnectionSettings:
    """The network options a session uses for probes and DNS audits.

    ``ca_file`` adds a trusted CA (a lab, a TLS-inspecting proxy);
    ``nameserver`` asks one DNS server instead of the system resolver;
    ``https_port`` is where MTA-STS policies are fetched (443 except in labs).
    """

    ca_file: Path | None = None
    nameserver: Nameserver | None = None
    timeout: float = 8.0
    insecure: bool = False
    allow_plaintext_auth: bool = False
    https_port: int = 443
    authoritative_port: int | None = None  # where a zone's own servers listen (53; labs: high)
    lang: str = "en"

    def probe_options(self) -> ProbeOptions:
        """Options for the probe runner."""
        from probes.mail.model import Timeouts
        from probes.mail.runner import ProbeOptions
        from probes.mail.tls import TlsSettings

        t = self.timeout
        return ProbeOptions(
            timeouts=Timeouts(resolve=t, connect=t, tls=t, reply=t, detect=min(t, 4.0)),
            tls=TlsSettings(ca_file=self.ca_file, insecure=self.insecure),
            nameserver=self.nameserver,
            allow_plaintext_auth=self.allow_plaintext_auth,
            lang=self.lang,
        )

    def dns_client(self) -> DnsClient:
        """A fresh DNS client (its cache lives as long as one audit)."""
        from probes.dns.client import client_for

        return client_for(self.nameserver, min(self.timeout, 10.0))

    def oauth_verify(self) -> ssl.SSLContext | bool:
        """How identity platforms' certificates are checked (an added CA, or the system's)."""
        from probes.mail.tls import TlsSettings

        return TlsSettings(ca_file=self.ca_file).verifying_context() if self.ca_file else True

    def https(self) -> HttpsOptions:
        """How MTA-STS policies are fetched."""
        from probes.dns.sts import HttpsOptions
        from probes.mail.tls import TlsSettings

        verify = TlsSettings(ca_file=self.ca_file).verifying_context() if self.ca_file else True
        return HttpsOptions(verify=verify, timeout=self.timeout, port=self.https_port)
