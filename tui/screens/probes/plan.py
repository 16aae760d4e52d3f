"""What the Probes screen probes (rows for accounts, a preset on a host) and what it keeps.

Reading secrets may block (a Secret Service over D-Bus), so they are read in a
thread; the rows' targets carry the secret only in memory, for the probe.
Finished results go to the workspace's history, linked to their account.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from probes.mail.address import parse_host
from probes.mail.model import ProbeResult, Target
from probes.mail.presets import PRESETS, Endpoint, Preset
from tui.screens.probes.board import ProbeRow, RowSpec
from workspace.accounts.book import AccountNotFound
from workspace.accounts.targets import account_targets, credentials_for
from workspace.session import Workspace


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
    specs: list[RowSpec] = []
    no_secret: list[str] = []
    accounts = []
    for name in names:
        try:
            accounts.append(workspace.accounts.get(name))
        except AccountNotFound:  # removed on another screen meanwhile
            continue
    secrets = await workspace.tokens.login_secrets(accounts)  # refreshes run together
    for account in accounts:
        name = account.name
        secret, problem = secrets[account.uid]
        if not secret:
            no_secret.append(problem or f"no password stored for {name}")
        for target in account_targets(account, secret):
            title = f"{name} {target.protocol.value} {target.host}:{target.port}"
            specs.append(RowSpec(account_key(name, target), title, target, name))
    return specs, no_secret


async def refreshed_spec(workspace: Workspace, row: ProbeRow) -> RowSpec:
    """The row again, an account's login and secret read afresh (a fixed password counts)."""
    target = row.target
    if row.account is not None:
        try:
            account = workspace.accounts.get(row.account)
        except AccountNotFound:
            pass
        else:
            secret, _ = await workspace.tokens.login_secret_or_reason(account)
            target = replace(target, credentials=credentials_for(account, secret))
    return RowSpec(row.key, row.title, target, row.account)


def record_result(workspace: Workspace, result: ProbeResult, rows: list[ProbeRow]) -> None:
    """Keep a finished result in the history, once per row (account) it answers for."""
    for row in rows:
        account_id = workspace.accounts.account_id(row.account) if row.account else None
        workspace.history.record_probe(result, account_id=account_id, account_name=row.account)
        if row.account is not None:
            with contextlib.suppress(AccountNotFound):  # removed on another screen meanwhile
                workspace.tokens.note_result(workspace.accounts.get(row.account), result)
