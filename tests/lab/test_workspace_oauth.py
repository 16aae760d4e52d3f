"""OAuth in the workspace: sign-ins kept (refresh token in the keyring only), tokens refreshed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mxlab.identity import LAB_GOOGLE_CLIENT, LAB_MS_CLIENT, LAB_USER
from probes.mail.model import PhaseName, Protocol, Security
from probes.oauth.client import DeviceCode
from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from probes.oauth.errors import OAuthError
from tests.labkit.browser import LabBrowser
from workspace.accounts.model import Account, AccountRole, AuthKind, MailEndpoint, Side
from workspace.auth.readiness import SMTP_BASIC_OFF, Urgency, basic_auth_readiness
from workspace.auth.sign_in import SignIn
from workspace.auth.token_keeper import SignInRequired
from workspace.connection import ConnectionSettings
from workspace.secrets import OAUTH_REFRESH


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


def _m365(name: str = "ops", auth: AuthKind = AuthKind.PASSWORD) -> Account:
    return Account(
        name=name,
        address=LAB_USER,
        side=Side.TARGET,
        provider="office365",
        roles=(AccountRole.MAILBOX, AccountRole.SENDER),
        imap=MailEndpoint("outlook.office365.com", 993, Security.TLS),
        smtp=MailEndpoint("smtp.office365.com", 587, Security.STARTTLS),
        auth=auth,
    )


@pytest.fixture
def oauth_ws(workspace: Any, identity: Any) -> Any:
    workspace.use_connection(ConnectionSettings(ca_file=identity.ca_file, timeout=5.0))
    return workspace


def _app(identity: Any) -> OAuthApp:
    return OAuthApp(
        IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, "contoso.lab.test", identity.base_url
    )


async def _sign_in(ws: Any, identity: Any, account: Account) -> Any:
    identity.auto_approve = LAB_USER
    shown: list[DeviceCode] = []
    result = await SignIn(ws.tokens, account, _app(identity)).device(shown.append, sleep=_no_wait)
    assert shown and shown[0].user_code
    return result


def _file_bytes(ws: Any) -> bytes:
    ws.store.query("PRAGMA wal_checkpoint(FULL)")
    data = b""
    for path in Path(ws.path).parent.glob(Path(ws.path).name + "*"):
        data += path.read_bytes()
    return data


async def test_sign_in_keeps_the_refresh_token_in_the_keyring_only(
    oauth_ws: Any, identity: Any, memory_keyring: Any
) -> None:
    account = oauth_ws.accounts.add(_m365())
    result = await _sign_in(oauth_ws, identity, account)
    assert result.warnings == []
    assert result.account.auth is AuthKind.OAUTH  # switched from password
    assert oauth_ws.accounts.get("ops").auth is AuthKind.OAUTH
    refresh = oauth_ws.signins.refresh_token(account)
    assert refresh == result.tokens.refresh_token
    stored = memory_keyring.get_password("mxpilot", f"{account.uid}/{OAUTH_REFRESH}")
    assert stored == refresh
    record = oauth_ws.signins.record(account)
    assert record.signed_in_as == LAB_USER and record.app.client_id == LAB_MS_CLIENT
    assert "https://outlook.office.com/SMTP.Send" in record.granted_scopes
    raw = _file_bytes(oauth_ws)
    assert refresh.encode() not in raw and result.tokens.access_token.encode() not in raw
    status = oauth_ws.tokens.status(result.account)
    assert status.state == "token ready" and status.access_expires_at is not None


async def test_access_token_is_reused_then_refreshed_when_it_expires(
    oauth_ws: Any, identity: Any
) -> None:
    account = oauth_ws.accounts.add(_m365())
    result = await _sign_in(oauth_ws, identity, account)
    account = result.account
    first = await oauth_ws.tokens.login_secret(account)
    assert first == result.tokens.access_token  # in memory, no request
    cached = oauth_ws.tokens.cached(account)
    stale = replace(cached, expires_at=datetime.now(UTC) + timedelta(minutes=2))
    oauth_ws.tokens.remember(account, stale)  # within the refresh margin
    old_refresh = oauth_ws.signins.refresh_token(account)
    fresh = await oauth_ws.tokens.login_secret(account)
    assert fresh != first
    assert oauth_ws.signins.refresh_token(account) != old_refresh  # rotation kept
    assert oauth_ws.signins.record(account).refreshed_at is not None


async def test_concurrent_requests_refresh_once(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    account = (await _sign_in(oauth_ws, identity, account)).account
    oauth_ws.tokens.forget(account)
    before = sum(1 for _, path, _ in identity.requests if path.endswith("/token"))
    tokens = await asyncio.gather(*(oauth_ws.tokens.login_secret(account) for _ in range(5)))
    after = sum(1 for _, path, _ in identity.requests if path.endswith("/token"))
    assert len(set(tokens)) == 1 and after - before == 1


async def test_revoked_sign_in_asks_for_a_new_one(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    account = (await _sign_in(oauth_ws, identity, account)).account
    identity.revoke_refresh_tokens()
    with pytest.raises(SignInRequired) as caught:
        await oauth_ws.tokens.access_token(account, force=True)
    assert "mxpilot auth login --account ops" in str(caught.value)
    assert "AADSTS70008" in str(caught.value)


async def test_not_signed_in_oauth_account(oauth_ws: Any) -> None:
    account = oauth_ws.accounts.add(_m365(auth=AuthKind.OAUTH))
    with pytest.raises(SignInRequired, match="not signed in"):
        await oauth_ws.tokens.login_secret(account)
    password = oauth_ws.accounts.add(_m365("pw"), "s3cret")
    assert await oauth_ws.tokens.login_secret(password) == "s3cret"


async def test_sign_out_deletes_the_refresh_token(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    account = (await _sign_in(oauth_ws, identity, account)).account
    revoked = await oauth_ws.tokens.sign_out(account)
    assert revoked is False  # Microsoft: no revocation endpoint for one token
    assert oauth_ws.signins.refresh_token(account) is None
    assert oauth_ws.tokens.cached(account) is None
    assert oauth_ws.tokens.status(account).state == "not signed in"
    assert oauth_ws.signins.app(account) is not None  # the app registration stays


async def test_google_sign_out_revokes_at_the_platform(oauth_ws: Any, identity: Any) -> None:

    account = oauth_ws.accounts.add(
        Account(
            name="gm",
            address=LAB_USER,
            side=Side.SOURCE,
            provider="gmail",
            imap=MailEndpoint("imap.gmail.com", 993, Security.TLS),
            smtp=MailEndpoint("smtp.gmail.com", 587, Security.STARTTLS),
        )
    )
    app = OAuthApp(IdentityPlatform.GOOGLE, LAB_GOOGLE_CLIENT, authority=identity.base_url)
    sign_in = SignIn(oauth_ws.tokens, account, app, client_secret="GOCSPX-lab-secret")
    urls: list[str] = []
    browser = LabBrowser(identity.ca_file)
    result = await sign_in.browser(urls.append, browser.open, timeout=10)
    assert browser.wait() == [200]
    assert urls and "code_challenge=" in urls[0] and "login_hint=" in urls[0]
    assert oauth_ws.signins.client_secret(account) == "GOCSPX-lab-secret"
    assert result.tokens.signed_in_as == LAB_USER
    assert await oauth_ws.tokens.sign_out(result.account) is True
    assert oauth_ws.signins.refresh_token(account) is None


async def test_another_app_forgets_the_old_sign_in(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    account = (await _sign_in(oauth_ws, identity, account)).account
    other = replace(_app(identity), client_id="22222222-2222-3333-4444-555555555555")
    oauth_ws.signins.set_client_secret(account, "old-app-secret")
    oauth_ws.signins.configure(account, _app(identity))  # the same app: nothing forgotten
    assert oauth_ws.signins.client_secret(account) == "old-app-secret"
    oauth_ws.signins.configure(account, other)
    assert oauth_ws.signins.refresh_token(account) is None
    assert oauth_ws.signins.client_secret(account) is None
    assert not oauth_ws.signins.record(account).signed_in


async def test_missing_scope_is_a_warning(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    app = replace(
        _app(identity),
        scopes=("https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"),
    )
    identity.auto_approve = LAB_USER
    result = await SignIn(oauth_ws.tokens, account, app).device(lambda _: None, sleep=_no_wait)
    assert result.missing_scopes == ("https://outlook.office.com/SMTP.Send",)
    assert "SMTP.Send" in result.warnings[0]


async def test_failed_sign_in_keeps_the_app_but_no_token(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())

    def decline(device: DeviceCode) -> None:
        identity.decline(device.user_code)

    with pytest.raises(OAuthError):
        await SignIn(oauth_ws.tokens, account, _app(identity)).device(decline, sleep=_no_wait)
    assert oauth_ws.signins.app(account) is not None
    assert oauth_ws.signins.refresh_token(account) is None
    assert oauth_ws.accounts.get("ops").auth is AuthKind.PASSWORD


async def test_removing_the_account_removes_its_tokens(oauth_ws: Any, identity: Any) -> None:
    account = oauth_ws.accounts.add(_m365())
    await _sign_in(oauth_ws, identity, account)
    oauth_ws.accounts.remove("ops")
    assert oauth_ws.signins.refresh_token(account) is None
    assert oauth_ws.store.query("SELECT COUNT(*) AS n FROM oauth_signins")[0]["n"] == 0


def test_basic_auth_readiness_dates_and_ways_out() -> None:
    gmail = Account(
        name="src",
        address="a@gmail.com",
        side=Side.SOURCE,
        provider="gmail",
        imap=MailEndpoint("imap.gmail.com", 993, Security.TLS),
    )
    app_pw = replace(gmail, name="src2", auth=AuthKind.APP_PASSWORD)
    custom = Account(
        name="relay",
        address="a@x.test",
        provider="custom",
        smtp=MailEndpoint("mail.x.test", 587, Security.STARTTLS),
    )
    oauth = _m365("signed", AuthKind.OAUTH)
    today = date(2026, 11, 21)
    found = basic_auth_readiness([_m365(), gmail, app_pw, custom, oauth], today)
    by_key = {(f.account, f.protocol): f for f in found}
    assert set(by_key) == {("ops", Protocol.IMAP), ("ops", Protocol.SMTP), ("src", Protocol.IMAP)}
    smtp = by_key[("ops", Protocol.SMTP)]
    assert smtp.urgency is Urgency.SOON and smtp.deadline == SMTP_BASIC_OFF
    assert "in 40 days" in smtp.message and "mxpilot auth login --account ops" in smtp.way_out
    assert by_key[("ops", Protocol.IMAP)].urgency is Urgency.BROKEN
    after = basic_auth_readiness([_m365()], date(2027, 1, 2))
    assert all(f.urgency is Urgency.BROKEN for f in after)
    early = basic_auth_readiness([_m365()], date(2026, 1, 2))
    assert {f.urgency for f in early} == {Urgency.BROKEN, Urgency.LATER}


async def test_readiness_item_fails_until_every_login_uses_oauth(
    oauth_ws: Any, identity: Any
) -> None:
    from workspace.usecases.verify_checklist import ChecklistVerifier

    checklist = oauth_ws.checklists.create("lab.test")
    verifier = ChecklistVerifier(oauth_ws)
    [skipped] = await verifier.run(checklist, ["oauth-readiness"])
    assert skipped.status.value == "skipped"
    account = oauth_ws.accounts.add(_m365())
    [failing] = await verifier.run(oauth_ws.checklists.get(), ["oauth-readiness"])
    assert failing.status.value == "fail" and "ops SMTP on password" in failing.summary
    await _sign_in(oauth_ws, identity, account)
    [passing] = await verifier.run(oauth_ws.checklists.get(), ["oauth-readiness"])
    assert passing.status.value == "pass"
    item = oauth_ws.checklists.get().item("oauth-readiness")
    assert item.status_label == "verified"


async def test_a_token_the_server_refuses_is_refreshed_for_the_next_run(
    oauth_ws: Any, identity: Any, smtp_server: Any, lab_options: Any
) -> None:
    """Expired at the provider while still valid by the clock: one failed run, then a refresh."""
    from probes.mail.runner import run_probe
    from probes.status import Status
    from workspace.accounts.targets import account_targets

    smtp = smtp_server(
        "starttls",
        "o365_basic_disabled",
        users={},
        oauth_introspection_url=f"{identity.base_url}/introspect",
        oauth_ca_file=identity.ca_file,
    )
    account = oauth_ws.accounts.add(
        replace(_m365(), imap=None, roles=(AccountRole.SENDER,),
                smtp=MailEndpoint("127.0.0.1", smtp.port, Security.STARTTLS))
    )  # fmt: skip
    account = (await _sign_in(oauth_ws, identity, account)).account

    async def probe() -> Any:
        secret = await oauth_ws.tokens.login_secret(account)
        [target] = account_targets(account, secret)
        result = await run_probe(target, lab_options)
        oauth_ws.tokens.note_result(account, result)
        return result

    assert (await probe()).status is Status.PASS
    identity.expire_access_tokens()
    refused = await probe()
    assert refused.status is Status.FAIL
    assert refused.phase(PhaseName.AUTH).code == 535
    assert oauth_ws.tokens.cached(account) is None  # dropped: the next run refreshes
    assert (await probe()).status is Status.PASS
