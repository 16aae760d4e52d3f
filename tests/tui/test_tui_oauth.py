"""OAuth in the app: sign in (device code, browser), cancel, decline, sign out, readiness.

Against the lab identity provider (HTTPS on loopback, the lab CA); the keyring is the
in-memory one. Every test runs at 80x24.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from mxlab.identity import LAB_GOOGLE_CLIENT, LAB_GOOGLE_SECRET, LAB_MS_CLIENT, LAB_USER
from probes.mail.model import Security
from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from tests.labkit.browser import LabBrowser
from tests.tui.test_tui_accounts import open_accounts, stored_bytes, table_row, type_into
from tests.waits import settle, wait_until
from tui.app import MxPilotApp
from tui.screens.accounts.oauth_sign_in import ConfirmSignOutScreen, OAuthSignInScreen
from tui.screens.accounts.screen import AccountsScreen
from tui.widgets.oauth_outcome import CommandsToCopy, OAuthOutcome
from tui.widgets.oauth_wait import OAuthWait
from workspace.accounts.model import Account, AccountRole, AuthKind, MailEndpoint, Side
from workspace.connection import ConnectionSettings
from workspace.secrets import OAUTH_CLIENT_SECRET, OAUTH_REFRESH
from workspace.session import Workspace

SIZE = (80, 24)
SIGNED_IN = ("signed in", "token ready")  # token ready: an access token is in memory too


def m365(name: str = "ops", address: str = LAB_USER) -> Account:
    """An Exchange Online mailbox that still logs in with a password."""
    return Account(
        name=name,
        address=address,
        side=Side.TARGET,
        provider="office365",
        imap=MailEndpoint("outlook.office365.com", 993, Security.TLS),
        smtp=MailEndpoint("smtp.office365.com", 587, Security.STARTTLS),
    )


def gmail(name: str = "ventas", address: str = LAB_USER) -> Account:
    """A Gmail mailbox (the migration's source)."""
    return Account(
        name=name,
        address=address,
        side=Side.SOURCE,
        provider="gmail",
        roles=(AccountRole.MIGRATION,),
        imap=MailEndpoint("imap.gmail.com", 993, Security.TLS),
    )


def lab_app(workspace: Workspace, lab_certs: Any) -> MxPilotApp:
    workspace.checklists.create("m365.lab.test")
    return MxPilotApp(workspace, ConnectionSettings(ca_file=lab_certs.ca_pem, timeout=3.0))


def dialog(app: MxPilotApp) -> OAuthSignInScreen:
    assert isinstance(app.screen, OAuthSignInScreen)
    return app.screen


async def open_sign_in(app: MxPilotApp, pilot: Pilot[Any]) -> OAuthSignInScreen:
    await open_accounts(app, pilot)
    await pilot.press("o")
    await pilot.pause()
    return dialog(app)


def outcome(app: MxPilotApp) -> str:
    return dialog(app).query_one(OAuthOutcome).text


def configure_microsoft(workspace: Workspace, identity: Any, name: str = "ops") -> None:
    app = OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, "contoso.lab.test", identity.base_url)
    workspace.signins.configure(workspace.accounts.get(name), app)


async def device_sign_in(app: MxPilotApp, pilot: Pilot[Any]) -> None:
    """o, Sign in (the app is configured, the lab approves), close the dialog."""
    await open_sign_in(app, pilot)
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    assert "Signed in as" in outcome(app)
    await pilot.press("escape")
    await settle(app, pilot)


async def test_device_sign_in_typed_from_scratch(
    workspace: Workspace, memory_keyring: Any, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(m365(), "old-password")
    identity.auto_approve = LAB_USER
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_accounts(app, pilot)
        banner = screen.query_one("#accounts-readiness", Static)
        assert banner.display and "2 logins depend on Basic auth" in str(banner.content)
        await pilot.press("o")
        await pilot.pause()
        sign_in = dialog(app)
        start = sign_in.query_one("#oauth-start", Button)
        assert sign_in.query_one("#oauth-platform", Select).value == "microsoft"
        assert start.disabled  # no client id yet
        await type_into(app, pilot, "#oauth-client_id", "not a client id")
        assert start.disabled and "client id" in str(
            sign_in.query_one("#oauth-error-client_id", Static).content
        )
        await type_into(app, pilot, "#oauth-client_id", LAB_MS_CLIENT)
        await type_into(app, pilot, "#oauth-tenant", "contoso.lab.test")
        sign_in.query_one("#oauth-authority", Input).value = "http://insecure.example"
        await pilot.pause()
        assert start.disabled and "https" in str(
            sign_in.query_one("#oauth-error-authority", Static).content
        )
        sign_in.query_one("#oauth-authority", Input).value = identity.base_url
        await pilot.pause()
        assert not start.disabled
        await pilot.click("#oauth-start")
        await settle(app, pilot)
        wait = sign_in.query_one(OAuthWait)
        assert app.clipboard == wait.user_code and wait.user_code
        assert sign_in.step == "done"
        assert f"Signed in as {LAB_USER}" in outcome(app)
        assert "IMAP.AccessAsUser.All" in outcome(app) and "local time" in outcome(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert table_row(screen, "ops")["keyring"] in SIGNED_IN
        assert not banner.display  # no password login left
        detail = str(screen.query_one("#accounts-detail", Static).content)
        assert f"Signed in as {LAB_USER}" in detail and LAB_MS_CLIENT in detail
    account = workspace.accounts.get("ops")
    assert account.auth is AuthKind.OAUTH
    refresh = workspace.signins.refresh_token(account)
    assert refresh and refresh in memory_keyring.entries.values()
    cached = workspace.tokens.cached(account)
    assert cached is not None
    on_disk = stored_bytes(workspace)
    assert refresh.encode() not in on_disk and cached.access_token.encode() not in on_disk


async def test_cancel_during_the_device_wait_keeps_only_the_app(
    workspace: Workspace, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(m365(), "old-password")
    configure_microsoft(workspace, identity)
    identity.device_interval = 1
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        sign_in = await open_sign_in(app, pilot)
        await pilot.press("ctrl+s")
        wait = sign_in.query_one(OAuthWait)
        await wait_until(pilot, lambda: wait.user_code and app.clipboard == wait.user_code)
        assert wait.user_code in str(wait.query_one("#oauth-wait-code", Static).content)
        assert wait.url == f"{identity.base_url}/devicelogin"
        assert "left" in str(wait.query_one("#oauth-wait-progress", Static).content)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert not [n for n in app._notifications if n.severity == "error"]
        assert not [w for w in app.workers if w.name == "oauth sign-in" and w.is_running]
    account = workspace.accounts.get("ops")
    assert workspace.signins.refresh_token(account) is None
    assert account.auth is AuthKind.PASSWORD
    assert workspace.signins.app(account) is not None  # the app settings stay


async def test_declined_sign_in_is_explained(
    workspace: Workspace, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(m365(), "old-password")
    configure_microsoft(workspace, identity)
    identity.device_interval = 1
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        sign_in = await open_sign_in(app, pilot)
        await pilot.press("ctrl+s")
        wait = sign_in.query_one(OAuthWait)
        await wait_until(pilot, lambda: bool(wait.user_code))
        identity.decline(wait.user_code)
        await wait_until(pilot, lambda: sign_in.step == "done")
        text = outcome(app)
        assert "Sign-in failed" in text and "authorization_declined" in text
        assert "declined in the browser" in text  # the catalogue's title
        assert sign_in.query_one("#oauth-back", Button).display  # try again
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
    assert workspace.signins.refresh_token(workspace.accounts.get("ops")) is None


async def test_unknown_app_shows_the_catalogue_fix(
    workspace: Workspace, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(m365(), "old-password")
    unknown = OAuthApp(
        IdentityPlatform.MICROSOFT,
        "99999999-0000-0000-0000-000000000000",
        "contoso.lab.test",
        identity.base_url,
    )
    workspace.signins.configure(workspace.accounts.get("ops"), unknown)
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_in(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "AADSTS700016" in outcome(app)
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_browser_sign_in_and_sign_out_revokes(
    workspace: Workspace, memory_keyring: Any, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(gmail(), "old-password")
    google = OAuthApp(IdentityPlatform.GOOGLE, LAB_GOOGLE_CLIENT, authority=identity.base_url)
    workspace.signins.configure(workspace.accounts.get("ventas"), google)
    browser = LabBrowser(identity.ca_file)  # visits in the app's worker thread
    app = lab_app(workspace, lab_certs)
    app.open_browser = browser.visit
    async with app.run_test(size=SIZE) as pilot:
        sign_in = await open_sign_in(app, pilot)
        assert sign_in.query_one("#oauth-platform", Select).value == "google"
        await type_into(app, pilot, "#oauth-secret", LAB_GOOGLE_SECRET)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert browser.pages == [200]
        assert sign_in.query_one(OAuthWait).url.startswith(f"{identity.base_url}/o/oauth2/v2/auth")
        assert f"Signed in as {LAB_USER}" in outcome(app)
        assert "https://mail.google.com/" in outcome(app)
        await pilot.press("escape")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        assert table_row(screen, "ventas")["keyring"] in SIGNED_IN
        account = workspace.accounts.get("ventas")
        uid = account.uid
        secret = workspace.signins.client_secret(account)
        assert secret == LAB_GOOGLE_SECRET and secret.encode() not in stored_bytes(workspace)
        refresh = workspace.signins.refresh_token(account)
        assert refresh and refresh in memory_keyring.entries.values()
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmSignOutScreen)
        app.screen.query_one("#sign-out-yes", Button).press()
        await settle(app, pilot)
        assert table_row(screen, "ventas")["keyring"] == "not signed in"
        messages = [str(n.message) for n in app._notifications]
        assert any("revoked at the platform" in m for m in messages)
    assert refresh not in memory_keyring.entries.values()
    assert not any(uid in key and OAUTH_REFRESH in key for _, key in memory_keyring.entries)
    assert any(uid in key and OAUTH_CLIENT_SECRET in key for _, key in memory_keyring.entries)


async def test_microsoft_sign_out_names_revoke_mg_user_sign_in_session(
    workspace: Workspace, memory_keyring: Any, lab_certs: Any, identity: Any
) -> None:
    workspace.accounts.add(m365(), "old-password")
    configure_microsoft(workspace, identity)
    identity.auto_approve = LAB_USER
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        await device_sign_in(app, pilot)
        refresh = workspace.signins.refresh_token(workspace.accounts.get("ops"))
        assert refresh in memory_keyring.entries.values()
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmSignOutScreen)
        await pilot.press("escape")  # stay signed in
        await pilot.pause()
        assert refresh in memory_keyring.entries.values()
        await pilot.press("O")
        await pilot.pause()
        app.screen.query_one("#sign-out-yes", Button).press()
        await settle(app, pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any(f"Revoke-MgUserSignInSession -UserId {LAB_USER}" in m for m in messages)
    assert refresh not in memory_keyring.entries.values()


async def test_readiness_banner_and_detail(
    workspace: Workspace, lab_certs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccountsScreen, "readiness_today", date(2026, 11, 21))
    workspace.accounts.add(m365(), "old-password")
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_accounts(app, pilot)
        banner = str(screen.query_one("#accounts-readiness", Static).content)
        assert banner == (
            "2 logins depend on Basic auth: IMAP off since 2022-10-01 · "
            "SMTP stops 2026-12-31 (40 days) — o: sign in with OAuth"
        )
        detail = str(screen.query_one("#accounts-detail", Static).content)
        assert "SMTP (soon)" in detail and "Way out: sign in with OAuth" in detail


def test_snapshot_app_step(
    workspace: Workspace, snap_compare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccountsScreen, "readiness_today", date(2026, 11, 21))
    workspace.checklists.create("contoso.example")
    workspace.accounts.add(m365("ops", "ops@contoso.example"), "old-password")
    saved = OAuthApp(
        IdentityPlatform.MICROSOFT, "00000000-1111-2222-3333-444444444444", "contoso.example"
    )
    workspace.signins.configure(workspace.accounts.get("ops"), saved)
    app = MxPilotApp(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_sign_in(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_registration_guide_copies_a_command(workspace: Workspace, lab_certs: Any) -> None:
    workspace.accounts.add(m365(), "old-password")
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=SIZE) as pilot:
        sign_in = await open_sign_in(app, pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert sign_in.step == "guide"
        commands = sign_in.query_one("#oauth-guide-commands", CommandsToCopy)
        assert commands.commands and app.focused is commands
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.clipboard == commands.commands[1]
        await pilot.press("escape")  # back to the form, not out of the dialog
        await pilot.pause()
        assert sign_in.step == "app" and app.screen is sign_in
