"""Start a migration: the source and target accounts and the checklist, from first answers."""

from __future__ import annotations

from dataclasses import dataclass

from workspace.accounts.book import NewAccount
from workspace.accounts.model import Account, AccountRole, Side, with_preset_endpoints
from workspace.checklist.model import Checklist
from workspace.session import Workspace


@dataclass(frozen=True)
class MigrationAnswers:
    """What starting a migration needs (the first-run form asks exactly this)."""

    domain: str
    source: str  # the source provider: gmail or google-workspace
    source_address: str
    target_address: str
    tenant: str
    lang: str


def migration_accounts(answers: MigrationAnswers) -> list[Account]:
    """The accounts the answers name: ``source`` (migration role) and ``target`` (mailbox)."""
    accounts: list[Account] = []
    if answers.source_address:
        accounts.append(
            Account(
                name="source",
                address=answers.source_address,
                side=Side.SOURCE,
                provider=answers.source,
                roles=(AccountRole.MIGRATION,),
            )
        )
    if answers.target_address:
        accounts.append(
            Account(
                name="target",
                address=answers.target_address,
                side=Side.TARGET,
                provider="office365",
                roles=(AccountRole.MAILBOX,),
            )
        )
    return [with_preset_endpoints(account) for account in accounts]


def start_migration(ws: Workspace, answers: MigrationAnswers) -> Checklist:
    """Create the accounts (their provider's servers filled in) and the checklist.

    ValueError (an invalid account, a checklist that exists) when it cannot.
    """
    ws.accounts.add_many([NewAccount(account) for account in migration_accounts(answers)])
    return ws.checklists.create(answers.domain, lang=answers.lang, tenant=answers.tenant)
