"""The accounts of a workspace: rows in SQLite, secrets in the keyring.

The two stores change together: a secret is written to the keyring inside
the SQLite transaction that creates its account, so a keyring failure rolls
the row back, and a row that fails to commit takes its fresh secret with it.
"""

from __future__ import annotations

import builtins
import enum
import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from probes.mail.model import Security
from workspace.accounts.model import (
    Account,
    AccountError,
    AccountRole,
    AuthKind,
    MailEndpoint,
    Side,
    validate,
)
from workspace.secrets import (
    OAUTH_CLIENT_SECRET,
    OAUTH_REFRESH,
    PASSWORD,
    SecretStore,
    SecretStoreError,
)
from workspace.store import Store, now

CREDENTIALS = (PASSWORD, OAUTH_REFRESH, OAUTH_CLIENT_SECRET)


class SecretState(enum.StrEnum):
    """Whether an account's secret is where it should be."""

    STORED = "stored"
    MISSING = "missing"
    UNAVAILABLE = "backend unavailable"


class AccountNotFound(KeyError):
    """No account of that name."""

    def __str__(self) -> str:
        return f"no account named {self.args[0]!r}"


class AccountConflict(RuntimeError):
    """The account changed in another window or process since it was read."""


@dataclass(frozen=True)
class NewAccount:
    """An account to create, with its secret (kept out of ``repr``)."""

    account: Account
    secret: str | None = None

    def __repr__(self) -> str:
        return f"NewAccount({self.account.name!r}, secret={'set' if self.secret else 'none'})"


def _endpoint(row: sqlite3.Row, prefix: str) -> MailEndpoint | None:
    host = row[f"{prefix}_host"]
    if not host:
        return None
    return MailEndpoint(host, int(row[f"{prefix}_port"]), Security(row[f"{prefix}_security"]))


def _from_row(row: sqlite3.Row) -> Account:
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


def _columns(account: Account) -> dict[str, object]:
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


class AccountBook:
    """Create, read, change and remove accounts and their secrets."""

    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self.store = store
        self.secrets = secrets

    def list(self) -> list[Account]:
        """Every account, by side then name."""
        rows = self.store.query("SELECT * FROM accounts ORDER BY side, name COLLATE NOCASE")
        return [_from_row(row) for row in rows]

    def get(self, name: str) -> Account:
        """The account called ``name`` (case-insensitive) or :class:`AccountNotFound`."""
        rows = self.store.query("SELECT * FROM accounts WHERE name = ?", (name.strip(),))
        if not rows:
            raise AccountNotFound(name)
        return _from_row(rows[0])

    def account_id(self, name: str) -> int | None:
        """The row id of an account (for history links), None when absent."""
        rows = self.store.query("SELECT id FROM accounts WHERE name = ?", (name,))
        return int(rows[0]["id"]) if rows else None

    def names(self) -> set[str]:
        """Every account name, lower-cased."""
        return {str(r["name"]).lower() for r in self.store.query("SELECT name FROM accounts")}

    def secret_state(self, account: Account) -> SecretState:
        """Stored, missing, or unknowable because no keyring is available."""
        if not self.secrets.status().ready:
            return SecretState.UNAVAILABLE
        credential = OAUTH_REFRESH if account.auth is AuthKind.OAUTH else PASSWORD
        stored = self.secrets.has(account.uid, credential)
        return SecretState.STORED if stored else SecretState.MISSING

    def secret(self, account: Account) -> str | None:
        """The account's password from the keyring."""
        return self.secrets.get(account.uid)

    def add(self, account: Account, secret: str | None = None) -> Account:
        """Validate and create one account; its secret goes to the keyring."""
        return self.add_many([NewAccount(account, secret)])[0]

    def add_many(self, new: Sequence[NewAccount]) -> builtins.list[Account]:
        """Create several accounts all-or-nothing (imports)."""
        problems: dict[str, str] = {}
        cleaned: list[tuple[Account, str | None]] = []
        seen: set[str] = set()
        for item in new:
            try:
                account = validate(replace(item.account, uid=uuid.uuid4().hex, revision=1))
            except AccountError as exc:
                for key, text in exc.problems.items():
                    problems[f"{item.account.name}: {key}" if len(new) > 1 else key] = text
                continue
            if account.name.lower() in seen:
                problems[account.name] = "the same name twice"
            seen.add(account.name.lower())
            cleaned.append((account, item.secret))
        if problems:
            raise AccountError(problems)
        if any(secret for _, secret in cleaned):
            self.secrets.require_ready()
        stored: list[str] = []
        try:
            with self.store.transaction() as conn:
                for account, secret in cleaned:
                    self._insert(conn, account)
                    if secret:
                        self.secrets.put(account.uid, secret)
                        stored.append(account.uid)
        except BaseException:
            for uid in stored:
                self.secrets.delete(uid)
            raise
        return [account for account, _ in cleaned]

    def _insert(self, conn: sqlite3.Connection, account: Account) -> None:
        columns = _columns(account)
        columns.update(uid=account.uid, revision=1, created_at=now(), updated_at=now())
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        try:
            conn.execute(
                f"INSERT INTO accounts ({names}) VALUES ({marks})", tuple(columns.values())
            )
        except sqlite3.IntegrityError:
            raise AccountError({"name": f"an account named {account.name!r} exists"}) from None

    def update(self, account: Account) -> Account:
        """Store changed fields of ``account`` (found by uid).

        ``account.revision`` must be the revision that was read: when another
        process changed the account meanwhile, :class:`AccountConflict` is
        raised instead of silently overwriting its change.
        """
        cleaned = validate(account)
        columns = _columns(cleaned)
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self.store.transaction() as conn:
            try:
                cursor = conn.execute(
                    f"UPDATE accounts SET {assignments}, revision = revision + 1, updated_at = ? "
                    "WHERE uid = ? AND revision = ?",
                    (*columns.values(), now(), cleaned.uid, cleaned.revision),
                )
            except sqlite3.IntegrityError:
                raise AccountError({"name": f"an account named {cleaned.name!r} exists"}) from None
            if cursor.rowcount != 1:
                exists = conn.execute("SELECT 1 FROM accounts WHERE uid = ?", (cleaned.uid,))
                if exists.fetchone() is None:
                    raise AccountNotFound(account.name)
                raise AccountConflict(
                    f"the account {account.name!r} was changed elsewhere meanwhile; "
                    "reload it and apply your change again"
                )
        return replace(cleaned, revision=cleaned.revision + 1)

    def set_secret(self, account: Account, secret: str) -> None:
        """Store or replace the account's password in the keyring."""
        self.get(account.name)
        self.secrets.put(account.uid, secret)

    def remove(self, name: str) -> Account:
        """Delete an account and every secret it had in the keyring."""
        account = self.get(name)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM accounts WHERE uid = ?", (account.uid,))
            for credential in CREDENTIALS:
                self.secrets.delete(account.uid, credential)
            if any(self.secrets.has(account.uid, c) for c in CREDENTIALS):
                raise SecretStoreError(
                    f"the keyring kept a secret of {account.name!r}; the account is not removed"
                )
        return account
