"""Probe accounts: plan -> run -> record the history -> feed the token keeper.

The one use case behind the Probes screen, ``mxpilot probe --account`` and the
checklist verifier. A plan reads every account's login secret at once (OAuth
refreshes run together) and turns the accounts into probe targets; a run
probes every target concurrently, keeps each result in the history linked to
its account and tells the token keeper about refused OAuth logins, so the next
run refreshes the token. Front ends only choose the accounts and show events.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from probes.mail.model import ProbeResult, Protocol, Target
from probes.mail.runner import EventSink, ProbeOptions, run_probes
from workspace.accounts.book import AccountNotFound
from workspace.accounts.model import Account
from workspace.accounts.targets import account_targets, credentials_for
from workspace.history import RunRecord
from workspace.session import Workspace

LoginSecrets = Mapping[str, tuple[str | None, str]]
"""By account uid: ``(secret, "")`` or ``(None, why not)`` (what the token keeper gives)."""


@dataclass(frozen=True)
class PlannedAccount:
    """One account of a plan: its targets, and why it will not log in (if it will not)."""

    account: Account
    targets: tuple[Target, ...]
    problem: str = ""
    secret_missing: bool = False

    @property
    def logs_in(self) -> bool:
        """True when its targets carry a login secret (or no login was asked)."""
        return not self.problem and not self.secret_missing


@dataclass(frozen=True)
class ProbePlan:
    """The accounts to probe and their targets; a target shared by accounts runs once."""

    accounts: tuple[PlannedAccount, ...] = ()

    @property
    def pairs(self) -> list[tuple[Account, Target]]:
        """Every (account, target), in plan order."""
        return [(p.account, target) for p in self.accounts for target in p.targets]

    @property
    def targets(self) -> list[Target]:
        """The distinct targets to probe, in plan order."""
        return list(dict.fromkeys(target for _, target in self.pairs))

    @property
    def without_login(self) -> list[PlannedAccount]:
        """The accounts that were meant to log in but cannot (refused sign-in, no secret)."""
        return [p for p in self.accounts if not p.logs_in]

    def owners(self) -> dict[Target, Account]:
        """Each target's first account (the one its result is recorded for)."""
        found: dict[Target, Account] = {}
        for account, target in self.pairs:
            found.setdefault(target, account)
        return found

    @classmethod
    def combine(cls, plans: Iterable[ProbePlan]) -> ProbePlan:
        """One plan running every target of ``plans`` once."""
        return cls(tuple(p for plan in plans for p in plan.accounts))


@dataclass(frozen=True)
class RecordedProbe:
    """A finished probe of a run: the account it answers for and its stored run."""

    account: Account
    result: ProbeResult
    record: RunRecord | None


def accounts_named(ws: Workspace, names: Iterable[str]) -> list[Account]:
    """The accounts called ``names``, skipping any removed meanwhile."""
    found: list[Account] = []
    for name in names:
        with contextlib.suppress(AccountNotFound):
            found.append(ws.accounts.get(name))
    return found


def plan_with_secrets(
    accounts: Sequence[Account],
    secrets: LoginSecrets,
    *,
    protocols: Iterable[Protocol] | None = None,
    login: bool = True,
    check_inbox: bool = False,
    skip_without_secret: bool = False,
) -> ProbePlan:
    """The plan for ``accounts`` with secrets already read (see :func:`plan_account_probes`)."""
    wanted = list(protocols) if protocols is not None else None
    planned: list[PlannedAccount] = []
    for account in accounts:
        secret, problem = secrets.get(account.uid, (None, "")) if login else (None, "")
        missing = login and not problem and not secret
        if skip_without_secret and (problem or missing):
            targets: list[Target] = []
        else:
            targets = account_targets(
                account, secret, protocols=wanted, login=login, check_inbox=check_inbox
            )
        planned.append(PlannedAccount(account, tuple(targets), problem, missing))
    return ProbePlan(tuple(planned))


async def plan_account_probes(
    ws: Workspace,
    accounts: Sequence[Account],
    *,
    protocols: Iterable[Protocol] | None = None,
    login: bool = True,
    check_inbox: bool = False,
    skip_without_secret: bool = False,
) -> ProbePlan:
    """What probing ``accounts`` means: one target per endpoint, with its login secret.

    Secrets come from the keyring, or are fresh OAuth access tokens (refreshed
    together). An account that cannot log in is probed without logging in, or
    left out with ``skip_without_secret``; either way the plan says why.
    """
    secrets = await ws.tokens.login_secrets(accounts) if login else {}
    return plan_with_secrets(
        accounts,
        secrets,
        protocols=protocols,
        login=login,
        check_inbox=check_inbox,
        skip_without_secret=skip_without_secret,
    )


async def refreshed_target(ws: Workspace, account_name: str, target: Target) -> Target:
    """``target`` with the account's login read afresh (a fixed password or a new token)."""
    try:
        account = ws.accounts.get(account_name)
    except AccountNotFound:  # removed on another screen meanwhile
        return target
    secret, _ = await ws.tokens.login_secret_or_reason(account)
    return replace(target, credentials=credentials_for(account, secret))


def record_probe_results(
    ws: Workspace, results: Sequence[tuple[ProbeResult, str | None]]
) -> list[RunRecord]:
    """Keep results in the history, each linked to an account name (or none), in one go.

    A refused OAuth login also drops the account's kept access token, so the
    next run refreshes it. An account removed meanwhile keeps its name on the run.
    """
    rows: list[tuple[ProbeResult, int | None, str | None]] = []
    for result, name in results:
        account_id = ws.accounts.account_id(name) if name else None
        rows.append((result, account_id, name))
        if name is not None:
            with contextlib.suppress(AccountNotFound):
                ws.tokens.note_result(ws.accounts.get(name), result)
    return ws.history.record_probes(rows)


def _record_run(ws: Workspace, plan: ProbePlan, results: list[ProbeResult]) -> list[RecordedProbe]:
    by_target = plan.owners()
    owners = [by_target[target] for target in plan.targets]  # results come in this order
    for account, result in zip(owners, results, strict=True):
        ws.tokens.note_result(account, result)
    kept = [(r, o) for r, o in zip(results, owners, strict=True) if not r.cancelled]
    records = ws.history.record_probes(
        [(r, ws.accounts.account_id(o.name), o.name) for r, o in kept]
    )
    by_result = {id(result): record for (result, _), record in zip(kept, records, strict=True)}
    return [
        RecordedProbe(owner, result, by_result.get(id(result)))
        for owner, result in zip(owners, results, strict=True)
    ]


async def run_account_probes(
    ws: Workspace,
    plan: ProbePlan,
    options: ProbeOptions | None = None,
    on_event: EventSink | None = None,
) -> list[RecordedProbe]:
    """Probe every target of the plan concurrently; record each result for its account.

    Events go to ``on_event`` as they happen (a live table, a screen). Results
    come back in the order of ``plan.targets``, each with its stored run.
    """
    results = await run_probes(plan.targets, options, on_event)
    return _record_run(ws, plan, results)
