"""Which app registration an account signs in with, and who signed in (SQLite + keyring).

The row in ``oauth_signins`` holds what may be shown: platform, client id, tenant, authority,
the scopes asked and granted, who signed in and when. The refresh token (and the client
secret of a Google desktop app) go to the keyring, under the account's uid, never to SQLite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from probes.oauth.tokens import TokenSet
from workspace.accounts.model import Account
from workspace.secrets import OAUTH_CLIENT_SECRET, OAUTH_REFRESH, SecretStore, SecretStoreError
from workspace.store import Store, now


@dataclass(frozen=True)
class SignInRecord:
    """An account's OAuth settings and its last sign-in (no token in here)."""

    app: OAuthApp
    granted_scopes: tuple[str, ...] = ()
    signed_in_as: str = ""
    signed_in_at: str | None = None
    refreshed_at: str | None = None

    @property
    def signed_in(self) -> bool:
        """True once a sign-in completed (the refresh token may still be gone since)."""
        return self.signed_in_at is not None


class OAuthSignIns:
    """Read and change the OAuth side of accounts."""

    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self.store = store
        self.secrets = secrets

    def _account_id(self, account: Account) -> int:
        rows = self.store.query("SELECT id FROM accounts WHERE uid = ?", (account.uid,))
        if not rows:
            raise KeyError(account.name)
        return int(rows[0]["id"])

    def record(self, account: Account) -> SignInRecord | None:
        """The account's OAuth settings and sign-in, None when it has none."""
        rows = self.store.query(
            "SELECT s.* FROM oauth_signins s JOIN accounts a ON a.id = s.account_id "
            "WHERE a.uid = ?",
            (account.uid,),
        )
        if not rows:
            return None
        row = rows[0]
        app = OAuthApp(
            IdentityPlatform(row["platform"]),
            row["client_id"],
            row["tenant"],
            row["authority"],
            tuple(json.loads(row["scopes"])),
        )
        return SignInRecord(
            app,
            tuple(json.loads(row["granted_scopes"])),
            row["signed_in_as"],
            row["signed_in_at"],
            row["refreshed_at"],
        )

    def app(self, account: Account) -> OAuthApp | None:
        """The app registration the account signs in with."""
        record = self.record(account)
        return record.app if record else None

    def configure(self, account: Account, app: OAuthApp) -> OAuthApp:
        """Set the app registration; a different app forgets the old one's sign-in and secret."""
        app = app.validated()
        previous = self.record(account)
        same = previous is not None and (
            previous.app.platform,
            previous.app.client_id,
            previous.app.tenant,
            previous.app.authority,
        ) == (app.platform, app.client_id, app.tenant, app.authority)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO oauth_signins (account_id, platform, client_id, tenant, authority, "
                "scopes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(account_id) DO UPDATE SET platform = excluded.platform, "
                "client_id = excluded.client_id, tenant = excluded.tenant, "
                "authority = excluded.authority, scopes = excluded.scopes, "
                "updated_at = excluded.updated_at",
                (
                    self._account_id(account),
                    app.platform.value,
                    app.client_id,
                    app.tenant,
                    app.authority,
                    json.dumps(list(app.scopes)),
                    now(),
                ),
            )
        if previous is not None and not same:  # another app: its sign-in and secret go
            self.forget(account)
            self.secrets.delete(account.uid, OAUTH_CLIENT_SECRET)
        return app

    def refresh_token(self, account: Account) -> str | None:
        """The stored refresh token (keyring), None when not signed in."""
        return self.secrets.get(account.uid, OAUTH_REFRESH)

    def client_secret(self, account: Account) -> str | None:
        """The app's client secret (Google desktop apps), from the keyring."""
        return self.secrets.get(account.uid, OAUTH_CLIENT_SECRET)

    def set_client_secret(self, account: Account, secret: str) -> None:
        """Keep the app's client secret in the keyring."""
        self.secrets.put(account.uid, secret, OAUTH_CLIENT_SECRET)

    def save_sign_in(self, account: Account, tokens: TokenSet) -> None:
        """A completed sign-in: the refresh token to the keyring, who and when to SQLite."""
        if tokens.refresh_token is None:
            raise SecretStoreError(
                "the sign-in returned no refresh token (offline_access was not granted): "
                "mxpilot could not keep the sign-in beyond this access token"
            )
        self.secrets.put(account.uid, tokens.refresh_token, OAUTH_REFRESH)
        stamp = now()
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE oauth_signins SET granted_scopes = ?, signed_in_as = ?, "
                "signed_in_at = ?, refreshed_at = ?, updated_at = ? WHERE account_id = ?",
                (
                    json.dumps(list(tokens.scopes)),
                    tokens.signed_in_as,
                    stamp,
                    stamp,
                    stamp,
                    self._account_id(account),
                ),
            )

    def save_refresh(self, account: Account, tokens: TokenSet, previous: str) -> None:
        """After a refresh: keep a rotated refresh token, note when it was last used."""
        if tokens.refresh_token and tokens.refresh_token != previous:
            self.secrets.put(account.uid, tokens.refresh_token, OAUTH_REFRESH)
        stamp = now()
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE oauth_signins SET refreshed_at = ?, updated_at = ?, "
                "granted_scopes = CASE WHEN ? = '[]' THEN granted_scopes ELSE ? END "
                "WHERE account_id = ?",
                (
                    stamp,
                    stamp,
                    json.dumps(list(tokens.scopes)),
                    json.dumps(list(tokens.scopes)),
                    self._account_id(account),
                ),
            )

    def forget(self, account: Account) -> bool:
        """Sign out locally: delete the refresh token, clear who signed in (the app stays)."""
        deleted = self.secrets.delete(account.uid, OAUTH_REFRESH)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE oauth_signins SET granted_scopes = '[]', signed_in_as = '', "
                "signed_in_at = NULL, refreshed_at = NULL, updated_at = ? "
                "WHERE account_id = (SELECT id FROM accounts WHERE uid = ?)",
                (now(), account.uid),
            )
        if self.secrets.has(account.uid, OAUTH_REFRESH):
            raise SecretStoreError("the keyring kept the refresh token; sign-out is incomplete")
        return deleted
