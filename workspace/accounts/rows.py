"""The ``accounts`` table's rows, to and from :class:`Account`."""

from __future__ import annotations

import json
import sqlite3

from probes.mail.model import Security
from workspace.accounts.model import Account, AccountRole, AuthKind, MailEndpoint, Side


def _endpoint(row: sqlite3.Row, prefix: str) -> MailEndpoint | None:
    host = row[f"{prefix}_host"]
    if not host:
        return None
    return MailEndpoint(host, int(row[f"{prefix}_port"]), Security(row[f"{prefix}_security"]))


def account_from_row(row: sqlite3.Row) -> Account:
    """The account a row of ``accounts`` stores."""
    return Account(
        name=row["name"],
        address=row["address"],
        side=Side(row["side"]),
        provider=row["provider"],
        roles=tuple(AccountRole(r) for r in json.loads(row["roles"])),
        imap=_endpoint(row, "imap"),
        smtp=_endpoint(row, "smtp"),
        username=row["username"],
        auth=AuthKind(row["auth"]),
        notes=row["notes"],
        uid=row["uid"],
        revision=int(row["revision"]),
        extra=dict(json.loads(row["extra"])),
    )


def account_columns(account: Account) -> dict[str, object]:
    """The columns an account's own fields fill (not uid, revision or timestamps)."""
    imap, smtp = account.imap, account.smtp
    return {
        "name": account.name,
        "address": account.address,
        "side": account.side.value,
        "provider": account.provider,
        "roles": json.dumps([r.value for r in account.roles]),
        "imap_host": imap.host if imap else None,
        "imap_port": imap.port if imap else None,
        "imap_security": imap.security.value if imap else None,
        "smtp_host": smtp.host if smtp else None,
        "smtp_port": smtp.port if smtp else None,
        "smtp_security": smtp.security.value if smtp else None,
        "username": account.username,
        "auth": account.auth.value,
        "notes": account.notes,
        "extra": json.dumps(account.extra, sort_keys=True),
    }
