"""Access tokens in memory, refreshed from the keyring's refresh token before they expire.

One :class:`TokenKeeper` per open workspace (the app keeps it for its lifetime, a command
for its run). ``login_secret`` is what every probe front end asks: an account's password,
or for an OAuth account a fresh access token. Tokens never leave memory except the refresh
token, which goes back to the keyring when the platform rotates it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from probes.mail.model import AuthMethod, PhaseName, ProbeResult
from probes.oauth.errors import OAuthError
from probes.oauth.tokens import TokenSet
from probes.status import Status
from workspace.accounts.book import AccountBook
from workspace.accounts.model import Account, AuthKind
from workspace.auth.signins import OAuthSignIns, SignInRecord
from workspace.connection import ConnectionSettings

if TYPE_CHECKING:  # httpx is imported when a token is first needed (start-up time)
    from probes.oauth.client import OAuthClient
    from probes.oauth.endpoints import OAuthApp


class SignInRequired(RuntimeError):
    """An OAuth account without a usable sign-in; the message says what to run."""

    def __init__(self, account: Account, reason: str) -> None:
        self.account = account
        self.reason = reason
        super().__init__(
            f"{account.name}: {reason} — sign in with 'mxpilot auth login --account {account.name}'"
            " (or 'Sign in with OAuth' on the Accounts screen)"
        )


@dataclass(frozen=True)
class TokenStatus:
    """What can be shown about an account's OAuth state (never a token)."""

    record: SignInRecord | None
    has_refresh_token: bool
    access_expires_at: datetime | None = None
    access_scopes: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        """``not configured`` / ``not signed in`` / ``signed in`` / ``token ready``."""
        if self.record is None:
            return "not configured"
        if not self.has_refresh_token:
            return "not signed in"
        if self.access_expires_at and self.access_expires_at > datetime.now(UTC):
            return "token ready"
        return "signed in"


class TokenKeeper:
    """Hands out access tokens, refreshing them (once at a time per account) when needed."""

    def __init__(
        self, signins: OAuthSignIns, accounts: AccountBook, settings: ConnectionSettings
    ) -> None:
        self.signins = signins
        self.accounts = accounts
        self.settings = settings
        self._tokens: dict[str, TokenSet] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}  # per event loop and account

    def client(self, account: Account, app: OAuthApp | None = None) -> OAuthClient:
        """A token endpoint client for the account's app (with its client secret, if any)."""
        from probes.oauth.client import OAuthClient

        app = app or self.signins.app(account)
        if app is None:
            raise SignInRequired(account, "no OAuth app registration is set for this account")
        return OAuthClient(
            app,
            verify=self.settings.oauth_verify(),
            timeout=self.settings.timeout * 2,
            client_secret=self.signins.client_secret(account),
        )

    def remember(self, account: Account, tokens: TokenSet) -> None:
        """Keep a fresh access token in memory (after a sign-in)."""
        self._tokens[account.uid] = tokens

    def forget(self, account: Account) -> None:
        """Drop the in-memory access token."""
        self._tokens.pop(account.uid, None)

    def note_result(self, account: Account, result: ProbeResult) -> bool:
        """After a probe: a refused XOAUTH2 login drops the kept token, so the next run refreshes.

        The server knows better than the clock (a token revoked or expired early, a clock
        that drifts); True when a token was dropped.
        """
        credentials = result.target.credentials
        if credentials is None or credentials.method is not AuthMethod.XOAUTH2:
            return False
        auth = result.phase(PhaseName.AUTH)
        if auth is None or auth.status is not Status.FAIL:
            return False
        return self._tokens.pop(account.uid, None) is not None

    def cached(self, account: Account) -> TokenSet | None:
        """The access token in memory, if any (it may be expired)."""
        return self._tokens.get(account.uid)

    def status(self, account: Account) -> TokenStatus:
        """The account's sign-in as it can be shown."""
        record = self.signins.record(account)
        has_refresh = record is not None and self.signins.refresh_token(account) is not None
        cached = self._tokens.get(account.uid)
        return TokenStatus(
            record,
            has_refresh,
            cached.expires_at if cached else None,
            cached.scopes if cached else (),
        )

    async def access_token(self, account: Account, *, force: bool = False) -> TokenSet:
        """A valid access token: the one in memory, or a refreshed one."""
        key = (id(asyncio.get_running_loop()), account.uid)  # a command may run several loops
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(account.uid)
            if cached is not None and not force and not cached.expires_soon():
                return cached
            refresh = await asyncio.to_thread(self.signins.refresh_token, account)
            if refresh is None:
                raise SignInRequired(account, "not signed in with OAuth")
            client = await asyncio.to_thread(self.client, account)
            try:
                tokens = await client.refresh(refresh)
            except OAuthError as exc:
                if exc.needs_new_sign_in:
                    reason = f"the sign-in no longer works ({exc.message})"
                    raise SignInRequired(account, reason) from None
                raise
            await asyncio.to_thread(self.signins.save_refresh, account, tokens, refresh)
            self._tokens[account.uid] = tokens
            return tokens

    async def login_secret(self, account: Account) -> str | None:
        """What the account logs in with: an access token (OAuth) or its keyring password."""
        if account.auth is AuthKind.OAUTH:
            return (await self.access_token(account)).access_token
        return await asyncio.to_thread(self.accounts.secret, account)

    async def login_secret_or_reason(self, account: Account) -> tuple[str | None, str]:
        """``(secret, "")``, or ``(None, why not)`` when the sign-in no longer works or the
        platform cannot be reached (the password of a password account may be None too)."""
        try:
            return await self.login_secret(account), ""
        except (SignInRequired, OAuthError) as exc:
            return None, str(exc)

    async def login_secrets(self, accounts: Sequence[Account]) -> dict[str, tuple[str | None, str]]:
        """Every account's login secret at once (refreshes run concurrently), by uid.

        Each value is what :meth:`login_secret_or_reason` gives.
        """
        unique = list({account.uid: account for account in accounts}.values())
        found = await asyncio.gather(*(self.login_secret_or_reason(a) for a in unique))
        return {account.uid: value for account, value in zip(unique, found, strict=True)}

    async def sign_out(self, account: Account, *, revoke: bool = True) -> bool:
        """Forget the sign-in here; revoke the refresh token at the platform when it can.

        True when the platform revoked it. A revocation that fails (offline) still signs out
        locally; the error is raised afterwards so the caller can say so.
        """
        refresh = await asyncio.to_thread(self.signins.refresh_token, account)
        self.forget(account)
        revoked = False
        failure: OAuthError | None = None
        if revoke and refresh:
            try:
                client = await asyncio.to_thread(self.client, account)
                revoked = await client.revoke(refresh)
            except OAuthError as exc:
                failure = exc
        await asyncio.to_thread(self.signins.forget, account)
        if failure is not None:
            raise failure
        return revoked
