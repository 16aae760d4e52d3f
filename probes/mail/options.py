"""How probes run: time limits, trust, DNS server, safety switches, and where events go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from probes.mail.model import ProbeEvent, Timeouts
from probes.mail.resolve import Nameserver
from probes.mail.tls import TlsSettings

EventSink = Callable[[ProbeEvent], None]
"""Receives probe events as they happen (called on the event loop)."""


@dataclass(frozen=True)
class ProbeOptions:
    """How probes run: time limits, trust, DNS server and safety switches."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsSettings = field(default_factory=TlsSettings)
    nameserver: Nameserver | None = None
    allow_plaintext_auth: bool = False
    ehlo_name: str = ""
    lang: str = "en"
