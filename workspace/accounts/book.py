"""The accounts of a workspace: rows in SQLite, secrets in the keyring.

The two stores change together: new accounts' secrets are written to the
keyring first (under fresh uids nothing else uses), then their rows in one
short transaction; a keyring failure writes no row, and rows that fail to
commit take their fresh secrets with them. The write lock is held only for
the inserts, never while the keyring works. Big imports commit in batches
(:meth:`AccountBook.add_in_batches`): another process can write between two.
"""

from __future__ import annotations

import builtins
import enum
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from workspace.accounts.model import Account, AccountError, AuthKind, validate
from workspace.accounts.rows import account_columns, account_from_row
from workspace.secrets import (
    OAUTH_CLIENT_SECRET,
    OAUTH_REFRESH,
    PASSWORD,
    SecretStore,
    SecretStoreError,
)
from workspace.store import Store, now

CREDENTIALS = (PASSWORD, OAUTH_REFRESH, OAUTH_CLIENT_SECRET)
BATCH_SIZE = 200  # accounts per transaction in add_in_batches

Progress = Callable[[int, int], None]
"""``on_progress(done, total)``: accounts created (whole, committed) so far, of all."""


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


class ImportStopped(Exception):
    """A batched import stopped part-way (an error, or Ctrl-C: ``interrupted``).

    The first ``done`` of ``total`` accounts are created whole (row and secret;
    they are ``created``); none of the others exist, nor their secrets. The
    original exception is ``cause`` (and ``__cause__``).
    """

    def __init__(
        self, done: int, total: int, created: builtins.list[Account], cause: BaseException
    ) -> None:
        self.done = done
        self.total = total
        self.created = created
        self.cause = cause
        super().__init__(done, total)

    @property
    def interrupted(self) -> bool:
        """True when the user interrupted the import (Ctrl-C)."""
        return isinstance(self.cause, KeyboardInterrupt)

    def __str__(self) -> str:
        why = "interrupted" if self.interrupted else str(self.cause) or type(self.cause).__name__
        return (
            f"the import stopped after {self.done} of {self.total} account(s) ({why}): "
            f"those {self.done} were created with their secrets; "
            f"the other {self.total - self.done} were not created"
        )


class AccountBook:
    """Create, read, change and remove accounts and their secrets."""

    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self.store = store
        self.secrets = secrets

    def list(self) -> list[Account]:
        """Every account, by side then name."""
        rows = self.store.query("SELECT * FROM accounts ORDER BY side, name COLLATE NOCASE")
        return [account_from_row(row) for row in rows]

    def get(self, name: str) -> Account:
        """The account called ``name`` (case-insensitive) or :class:`AccountNotFound`."""
        rows = self.store.query("SELECT * FROM accounts WHERE name = ?", (name.strip(),))
        if not rows:
            raise AccountNotFound(name)
        return account_from_row(rows[0])

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
        """Create several accounts all-or-nothing (small imports)."""
        cleaned = self._prepare(new)
        stored: builtins.list[str] = []
        try:
            self._put_secrets(cleaned, stored)
            with self.store.transaction() as conn:
                for account, _ in cleaned:
                    self._insert(conn, account)
        except BaseException:
            if not (cleaned and self._committed(cleaned[0][0].uid)):
                self._forget(stored)
            raise
        return [account for account, _ in cleaned]

    def add_in_batches(
        self,
        new: Sequence[NewAccount],
        *,
        batch_size: int = BATCH_SIZE,
        on_progress: Progress | None = None,
    ) -> builtins.list[Account]:
        """Create many accounts (big imports), committing every ``batch_size`` of them.

        Everything is validated first, names against the workspace too: one bad
        account or taken name raises :class:`AccountError` before anything is
        written. Then each batch stores its secrets and commits its rows in one
        short transaction, so other processes can write between batches.
        ``on_progress(done, total)`` is called at the start and after each
        batch. On any failure or Ctrl-C the batch under way is undone whole
        (rows rolled back, its fresh secrets deleted) and :class:`ImportStopped`
        says how many accounts were created; they are whole and stay.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        cleaned = self._prepare(new, check_taken=True)
        total = len(cleaned)
        start = 0
        batch: builtins.list[tuple[Account, str | None]] = []
        stored: builtins.list[str] = []
        try:
            if on_progress is not None:
                on_progress(0, total)
            for start in range(0, total, batch_size):
                batch, stored = cleaned[start : start + batch_size], []
                self._put_secrets(batch, stored)
                with self.store.transaction() as conn:
                    for account, _ in batch:
                        self._insert(conn, account)
                if on_progress is not None:
                    on_progress(start + len(batch), total)
        except (Exception, KeyboardInterrupt) as exc:
            done = start
            if batch and self._committed(batch[0][0].uid):
                done += len(batch)  # stopped after the commit: that batch is whole
            else:
                self._forget(stored)
            created = [account for account, _ in cleaned[:done]]
            raise ImportStopped(done, total, created, exc) from exc
        return [account for account, _ in cleaned]

    def _prepare(
        self, new: Sequence[NewAccount], *, check_taken: bool = False
    ) -> builtins.list[tuple[Account, str | None]]:
        """Each account validated with a fresh uid, or :class:`AccountError` naming every fault."""
        problems: dict[str, str] = {}
        cleaned: list[tuple[Account, str | None]] = []
        seen: set[str] = set()
        taken = self.names() if check_taken else set()
        for item in new:
            try:
                account = validate(replace(item.account, uid=uuid.uuid4().hex, revision=1))
            except AccountError as exc:
                for key, text in exc.problems.items():
                    problems[f"{item.account.name}: {key}" if len(new) > 1 else key] = text
                continue
            folded = account.name.lower()
            if folded in seen:
                problems[account.name] = "the same name twice"
            elif folded in taken:
                key = f"{account.name}: name" if len(new) > 1 else "name"
                problems[key] = f"an account named {account.name!r} exists"
            seen.add(folded)
            cleaned.append((account, item.secret))
        if problems:
            raise AccountError(problems)
        if any(secret for _, secret in cleaned):
            self.secrets.require_ready()
        return cleaned

    def _put_secrets(
        self, batch: Sequence[tuple[Account, str | None]], stored: builtins.list[str]
    ) -> None:
        """Store each secret of ``batch``; ``stored`` gets each uid once its secret is in."""
        for account, secret in batch:
            if secret:
                self.secrets.put(account.uid, secret)
                stored.append(account.uid)

    def _forget(self, uids: Sequence[str]) -> None:
        """Delete fresh secrets whose rows were never committed."""
        for uid in uids:
            self.secrets.delete(uid)

    def _committed(self, uid: str) -> bool:
        """True when the row of ``uid`` is in the file (True when that cannot be known:
        a secret is then kept rather than risk a committed account without it)."""
        try:
            return bool(self.store.query("SELECT 1 FROM accounts WHERE uid = ?", (uid,)))
        except sqlite3.Error:
            return True

    def _insert(self, conn: sqlite3.Connection, account: Account) -> None:
        columns = account_columns(account)
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
        columns = account_columns(cleaned)
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
