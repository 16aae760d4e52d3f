"""What the Probes screen probes (rows for accounts, a preset on a host) and what it keeps.

The accounts' plan, the fresh logins of a watch round and the history are the
``probe_accounts`` use case's; this module turns them into the board's rows.
The rows' targets carry the secret only in memory, for the probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.mail.address import parse_host
from probes.mail.model import ProbeResult, Target
from probes.mail.presets import PRESETS, Endpoint, Preset
from tui.screens.probes.board import ProbeRow, RowSpec
from workspace.session import Workspace
from workspace.usecases.probe_accounts import (
    accounts_named,
    plan_account_probes,
    record_probe_results,
    refreshed_target,
)


@dataclass(frozen=True)
class PresetChoice:
    """A preset and the host(s) to probe its ports on."""

    preset: Preset
    host: str

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """The preset's endpoints on the chosen host."""
        return self.preset.endpoints


def preset_choice(name: str, host_text: str) -> PresetChoice:
    """``name`` on ``host_text`` (``smtp-host`` or ``smtp-host,imap-host``); ValueError if bad."""
    chosen = PRESETS[name]
    hosts = [h.strip() for h in host_text.split(",") if h.strip()]
    if len(hosts) > 2:
        raise ValueError("give one host, or an SMTP host and an IMAP host separated by a comma")
    if not hosts:
        if any(not e.host for e in chosen.endpoints):
            raise ValueError(f"the {chosen.title} preset needs a host")
        return PresetChoice(chosen, chosen.endpoints[0].host if chosen.endpoints else "")
    smtp = parse_host(hosts[0])
    imap = parse_host(hosts[1]) if len(hosts) == 2 else None
    return PresetChoice(chosen.with_host(smtp, imap), smtp)


def preset_specs(choice: PresetChoice) -> list[RowSpec]:
    """One row per port of the preset (no login: a matrix checks reachability and TLS)."""
    specs = []
    for endpoint in choice.endpoints:
        target = endpoint.target(None)
        key = f"preset:{choice.preset.name}:{endpoint.role.value}:{target.host}:{target.port}"
        title = f"{choice.preset.name} {endpoint.role.value} {target.host}:{target.port}"
        specs.append(RowSpec(key, title, target))
    return specs


def account_key(name: str, target: Target) -> str:
    """The row key of an account's probe."""
    return f"account:{name}:{target.label}"


async def account_specs(workspace: Workspace, names: list[str]) -> tuple[list[RowSpec], list[str]]:
    """Rows for the accounts' endpoints, and why some accounts will not log in."""
    plan = await plan_account_probes(workspace, accounts_named(workspace, names))
    specs: list[RowSpec] = []
    for planned in plan.accounts:
        name = planned.account.name
        for target in planned.targets:
            title = f"{name} {target.protocol.value} {target.host}:{target.port}"
            specs.append(RowSpec(account_key(name, target), title, target, name))
    no_secret = [
        p.problem or f"no password stored for {p.account.name}" for p in plan.without_login
    ]
    return specs, no_secret


async def refreshed_spec(workspace: Workspace, row: ProbeRow) -> RowSpec:
    """The row again, an account's login and secret read afresh (a fixed password counts)."""
    target = row.target
    if row.account is not None:
        target = await refreshed_target(workspace, row.account, target)
    return RowSpec(row.key, row.title, target, row.account)


def record_result(workspace: Workspace, result: ProbeResult, rows: list[ProbeRow]) -> None:
    """Keep a finished result in the history, once per row (account) it answers for."""
    record_probe_results(workspace, [(result, row.account) for row in rows])
