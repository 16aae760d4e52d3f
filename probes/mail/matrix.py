"""A matrix run: every port of a preset probed at once, with conclusions across them.

One port alone cannot tell "the server is down" from "this network blocks
587"; the matrix can: 587 timing out while 465 answers on the same host
means outbound 587 is dropped here (antivirus mail shield, firewall).

Some conclusions call a failed port normal on a client network (port 25,
which ISPs and corporate networks block, is for server-to-server relay):
:data:`NORMAL_ON_CLIENT_NETWORKS` names them, and the matrix's status counts
such a failure as a warning. ``mxpilot probe --preset`` exits with that
status, so a run whose only failure is port 25 blocked exits 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.model import Diagnosis
from probes.mail.model import Credentials, PhaseName, ProbeResult
from probes.mail.presets import Endpoint, Preset, Role
from probes.mail.runner import EventSink, ProbeOptions, run_probes
from probes.status import Status, worst

NORMAL_ON_CLIENT_NETWORKS: dict[str, Role] = {"net.port25_blocked": Role.RELAY}
"""Conclusions that call the failure of a port normal on a client network, and its role."""


@dataclass
class MatrixResult:
    """The results of every endpoint and what they say together."""

    preset: Preset
    endpoints: list[Endpoint]
    results: list[ProbeResult]
    conclusions: list[Diagnosis] = field(default_factory=list)

    @property
    def expected_failures(self) -> list[Role]:
        """Roles whose failure a conclusion calls normal on a client network (port 25)."""
        concluded = {NORMAL_ON_CLIENT_NETWORKS.get(c.id) for c in self.conclusions}
        return [
            e.role
            for e, r in zip(self.endpoints, self.results, strict=True)
            if e.role in concluded and r.status is Status.FAIL
        ]

    @property
    def status(self) -> Status:
        """The worst status of any probe or conclusion.

        A failure that a conclusion calls normal on a client network
        (:data:`NORMAL_ON_CLIENT_NETWORKS`) counts as a warning.
        """
        expected = set(self.expected_failures)
        statuses = [
            Status.WARN if e.role in expected else r.status
            for e, r in zip(self.endpoints, self.results, strict=True)
        ]
        return worst(statuses + [c.severity for c in self.conclusions])

    def by_role(self) -> dict[Role, ProbeResult]:
        """Each role's result."""
        return {e.role: r for e, r in zip(self.endpoints, self.results, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the matrix."""
        return {
            "preset": self.preset.name,
            "status": self.status.value,
            "probes": [
                {"role": e.role.value, **r.to_dict()}
                for e, r in zip(self.endpoints, self.results, strict=True)
            ],
            "conclusions": [c.to_dict() for c in self.conclusions],
            "expected_failures": [role.value for role in self.expected_failures],
        }


def _connect_kind(result: ProbeResult | None) -> str | None:
    """``ok`` when TCP connected, else the connect or resolve failure kind."""
    if result is None:
        return None
    connect = result.phase(PhaseName.CONNECT)
    if connect is not None and connect.status is Status.PASS:
        return "ok"
    failure = result.failure
    return failure.kind if failure else None


def conclude(
    by_role: dict[Role, ProbeResult], context: dict[str, str], lang: str = "en"
) -> list[Diagnosis]:
    """Conclusions that only the set of ports together can support."""
    catalogue = Catalogue.load()
    kinds = {role: _connect_kind(result) for role, result in by_role.items()}
    found: list[Diagnosis] = []
    timed_out = [r for r, k in kinds.items() if k == "connect.timeout"]
    reached = [r for r, k in kinds.items() if k == "ok"]

    def add(entry: str, evidence: str, **extra: str) -> None:
        found.append(catalogue.get(entry, {**context, **extra}, evidence=evidence, lang=lang))

    if timed_out and not reached and len(timed_out) == len(kinds):
        add("net.all_blocked", "every port timed out: " + ", ".join(r.value for r in timed_out))
        return found
    submission, smtps = kinds.get(Role.SUBMISSION), kinds.get(Role.SMTPS)
    if submission == "connect.timeout" and smtps == "ok":
        port587 = str(by_role[Role.SUBMISSION].target.port)
        port465 = str(by_role[Role.SMTPS].target.port)
        add(
            "net.port_blocked_587",
            f"port {port587} timed out while port {port465} answered on the same server",
            port=port587,
            suggested_port=port465,
            suggested_security="tls",
        )
    if kinds.get(Role.RELAY) == "connect.timeout" and reached:
        add("net.port25_blocked", "port 25 timed out while other ports answered")
    imap_roles = [r for r in (Role.IMAPS, Role.IMAP) if r in kinds]
    smtp_ok = any(kinds.get(r) == "ok" for r in (Role.SUBMISSION, Role.SMTPS, Role.RELAY))
    if imap_roles and all(kinds[r] == "connect.timeout" for r in imap_roles) and smtp_ok:
        add("net.imap_blocked", "every IMAP port timed out while SMTP answered")
    return found


async def run_matrix(
    preset: Preset,
    credentials: Credentials | None = None,
    options: ProbeOptions | None = None,
    sink: EventSink | None = None,
    check_inbox: bool = False,
    endpoints: Sequence[Endpoint] | None = None,
) -> MatrixResult:
    """Probe every endpoint of ``preset`` concurrently and draw the conclusions."""
    chosen = list(endpoints if endpoints is not None else preset.endpoints)
    targets = [e.target(credentials, check_inbox) for e in chosen]
    results = await run_probes(targets, options, sink)
    matrix = MatrixResult(preset, chosen, results)
    host = chosen[0].host if chosen else ""
    context = {"host": host, "preset": preset.name}
    if credentials is not None:
        context["mailbox"] = context["user"] = credentials.username
    lang = options.lang if options else "en"
    matrix.conclusions = conclude(matrix.by_role(), context, lang)
    return matrix
