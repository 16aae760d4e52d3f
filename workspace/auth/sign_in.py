"""Sign an account in with OAuth (device code or browser) and keep the result.

The app registration is remembered first (so a cancelled sign-in need not be typed again);
a completed sign-in stores the refresh token in the keyring, keeps the access token in the
:class:`TokenKeeper`, and switches the account to OAuth logins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from probes.oauth.client import DeviceCode
from probes.oauth.device import DeviceSignIn, Sleep, Waiting
from probes.oauth.endpoints import GMAIL_SCOPE, IMAP_SCOPE, SMTP_SCOPE, IdentityPlatform, OAuthApp
from probes.oauth.loopback import LoopbackSignIn
from probes.oauth.tokens import TokenSet
from workspace.accounts.model import Account, AuthKind
from workspace.auth.token_keeper import TokenKeeper

BROWSER_TIMEOUT = 300.0


@dataclass(frozen=True)
class SignInResult:
    """A completed sign-in: who, what was granted, what is missing (no token shown)."""

    account: Account
    tokens: TokenSet
    missing_scopes: tuple[str, ...] = ()
    other_user: bool = False

    @property
    def warnings(self) -> list[str]:
        """What will not work although the sign-in succeeded."""
        found = []
        if self.missing_scopes:
            found.append(
                "not granted: " + ", ".join(self.missing_scopes) + " — add the permission to the "
                "app registration (and grant consent), then sign in again"
            )
        if self.other_user:
            found.append(
                f"signed in as {self.tokens.signed_in_as}, but the account logs in as "
                f"{self.account.login}: XOAUTH2 needs the token of the login's own mailbox"
            )
        return found


def needed_scopes(app: OAuthApp, account: Account) -> tuple[str, ...]:
    """The mail scopes the account's protocols need from this platform."""
    if app.platform is IdentityPlatform.GOOGLE:
        return (GMAIL_SCOPE,)
    needed = []
    if account.imap is not None:
        needed.append(IMAP_SCOPE)
    if account.smtp is not None:
        needed.append(SMTP_SCOPE)
    return tuple(needed)


class SignIn:
    """One sign-in of ``account`` with ``app``."""

    def __init__(
        self,
        keeper: TokenKeeper,
        account: Account,
        app: OAuthApp,
        *,
        client_secret: str | None = None,
    ) -> None:
        self.keeper = keeper
        self.account = account
        self.app = app.validated()
        self.client_secret = client_secret

    async def _prepare(self) -> None:
        signins = self.keeper.signins
        await asyncio.to_thread(signins.configure, self.account, self.app)
        if self.client_secret:
            await asyncio.to_thread(signins.set_client_secret, self.account, self.client_secret)

    async def device(
        self,
        on_code: Callable[[DeviceCode], None],
        on_wait: Waiting | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> SignInResult:
        """The device code flow (Microsoft): ``on_code`` shows the code and the URL."""
        await self._prepare()
        client = await asyncio.to_thread(self.keeper.client, self.account, self.app)
        async with client:
            tokens = await DeviceSignIn(client, sleep=sleep).run(on_code, on_wait)
        return await self._finish(tokens)

    async def browser(
        self,
        on_url: Callable[[str], None],
        open_browser: Callable[[str], object] | None,
        *,
        timeout: float = BROWSER_TIMEOUT,
    ) -> SignInResult:
        """The loopback flow with PKCE (Google): ``on_url`` shows the URL, always."""
        await self._prepare()
        client = await asyncio.to_thread(self.keeper.client, self.account, self.app)
        async with client, LoopbackSignIn(client, login_hint=self.account.login) as flow:
            on_url(flow.authorization_url)
            tokens = await flow.run(open_browser, timeout)
        return await self._finish(tokens)

    async def _finish(self, tokens: TokenSet) -> SignInResult:
        accounts = self.keeper.accounts
        await asyncio.to_thread(self.keeper.signins.save_sign_in, self.account, tokens)
        account = self.account
        if account.auth is not AuthKind.OAUTH:
            current = await asyncio.to_thread(accounts.get, account.name)
            account = await asyncio.to_thread(
                accounts.update, replace(current, auth=AuthKind.OAUTH)
            )
        self.keeper.remember(account, tokens)
        granted = tokens.scopes
        missing = tuple(s for s in needed_scopes(self.app, account) if not tokens.has_scope(s))
        if not granted:
            missing = ()
        who = tokens.signed_in_as.lower()
        return SignInResult(account, tokens, missing, bool(who) and who != account.login.lower())
