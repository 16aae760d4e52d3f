"""The OAuth engine (probes/oauth) against the lab identity provider over HTTPS on loopback."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest

from mxlab.identity import (
    LAB_GOOGLE_CLIENT,
    LAB_GOOGLE_SECRET,
    LAB_MS_CLIENT,
    LAB_NOCONSENT_USER,
    LAB_USER,
)
from probes.oauth.client import DeviceCode, OAuthClient
from probes.oauth.device import DeviceSignIn, DeviceWait
from probes.oauth.endpoints import (
    IMAP_SCOPE,
    SMTP_SCOPE,
    IdentityPlatform,
    OAuthApp,
    OAuthConfigError,
)
from probes.oauth.errors import OAuthError
from probes.oauth.loopback import LoopbackSignIn
from probes.oauth.tokens import jwt_payload
from tests.labkit.browser import LabBrowser


def _verify(identity: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(identity.ca_file))


def microsoft(identity: Any, client_id: str = LAB_MS_CLIENT, **kw: Any) -> OAuthClient:
    app = OAuthApp(IdentityPlatform.MICROSOFT, client_id, "contoso.lab.test", identity.base_url)
    return OAuthClient(app, verify=_verify(identity), timeout=5.0, **kw)


def google(identity: Any, secret: str | None = LAB_GOOGLE_SECRET) -> OAuthClient:
    app = OAuthApp(IdentityPlatform.GOOGLE, LAB_GOOGLE_CLIENT, authority=identity.base_url)
    return OAuthClient(app, verify=_verify(identity), timeout=5.0, client_secret=secret)


class Recorder:
    """Records the waits a flow asks for (and spends none of them)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


async def test_device_flow_signs_in_after_the_user_approves(identity: Any) -> None:
    codes: list[DeviceCode] = []
    progress: list[DeviceWait] = []

    def approve(device: DeviceCode) -> None:
        codes.append(device)
        identity.approve(device.user_code, LAB_USER)

    tokens = await DeviceSignIn(microsoft(identity), sleep=Recorder()).run(approve, progress.append)
    assert codes[0].verification_uri == f"{identity.base_url}/devicelogin"
    assert "device_code" not in repr(codes[0]) and codes[0].device_code not in repr(codes[0])
    assert tokens.signed_in_as == LAB_USER
    assert tokens.refresh_token and tokens.has_scope(IMAP_SCOPE) and tokens.has_scope(SMTP_SCOPE)
    claims = jwt_payload(tokens.access_token)
    assert claims is not None and claims["aud"] == "https://outlook.office.com"
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert progress and progress[0].polls == 0


async def test_device_flow_waits_while_pending_and_slows_down_when_told(identity: Any) -> None:
    identity.device_interval = 0
    identity.slow_down_polls = 2
    identity.auto_approve = LAB_USER
    identity.approve_after_polls = 4
    sleep = Recorder()
    progress: list[DeviceWait] = []
    tokens = await DeviceSignIn(microsoft(identity), sleep=sleep).run(
        lambda _: None, progress.append
    )
    assert tokens.signed_in_as == LAB_USER
    # RFC 8628: each slow_down adds 5 seconds to the interval, for every later poll
    assert sleep.waits[:3] == [0, 5, 10]
    assert sleep.waits[3:] and all(w == 10 for w in sleep.waits[3:])
    assert any(p.slowed_down for p in progress)


async def test_device_flow_declined(identity: Any) -> None:
    def decline(device: DeviceCode) -> None:
        identity.decline(device.user_code)

    with pytest.raises(OAuthError) as caught:
        await DeviceSignIn(microsoft(identity), sleep=Recorder()).run(decline)
    assert caught.value.error == "authorization_declined"


async def test_device_flow_expired_code(identity: Any) -> None:
    identity.device_code_lifetime = 1
    with pytest.raises(OAuthError) as caught:
        await DeviceSignIn(microsoft(identity), sleep=asyncio.sleep).run(lambda _: None)
    assert caught.value.error == "expired_token"


async def test_device_flow_consent_missing_names_aadsts65001(identity: Any) -> None:
    def approve(device: DeviceCode) -> None:
        identity.approve(device.user_code, LAB_NOCONSENT_USER)

    with pytest.raises(OAuthError) as caught:
        await DeviceSignIn(microsoft(identity), sleep=Recorder()).run(approve)
    assert caught.value.error == "invalid_grant" and caught.value.aadsts == "AADSTS65001"


async def test_unknown_client_is_reported_with_its_code(identity: Any) -> None:
    client = microsoft(identity, client_id="99999999-0000-0000-0000-000000000000")
    with pytest.raises(OAuthError) as caught:
        await client.start_device_flow()
    assert caught.value.aadsts == "AADSTS700016"


async def test_refresh_rotates_the_microsoft_refresh_token(identity: Any) -> None:
    identity.auto_approve = LAB_USER
    client = microsoft(identity)
    first = await DeviceSignIn(client, sleep=Recorder()).run(lambda _: None)
    assert first.refresh_token is not None
    again = await client.refresh(first.refresh_token)
    assert again.access_token != first.access_token
    assert again.refresh_token and again.refresh_token != first.refresh_token
    identity.revoke_refresh_tokens()
    with pytest.raises(OAuthError) as caught:
        await client.refresh(again.refresh_token)
    assert caught.value.needs_new_sign_in and caught.value.aadsts == "AADSTS70008"


async def _loopback(identity: Any, client: OAuthClient) -> tuple[Any, list[int]]:
    browser = LabBrowser(identity.ca_file)
    async with LoopbackSignIn(client, login_hint=LAB_USER) as flow:
        assert flow.redirect_uri.startswith("http://127.0.0.1:")
        try:
            tokens = await flow.run(browser.open, timeout=10)
        finally:
            await asyncio.to_thread(browser.wait)
    return tokens, browser.pages


async def test_loopback_flow_with_pkce_signs_in(identity: Any) -> None:
    tokens, pages = await _loopback(identity, google(identity))
    assert pages == [200]
    assert tokens.access_token.startswith("ya29.") and tokens.refresh_token
    assert tokens.signed_in_as == LAB_USER and tokens.has_scope("https://mail.google.com/")
    again = await google(identity).refresh(tokens.refresh_token)
    assert again.refresh_token == tokens.refresh_token  # Google does not rotate
    assert await google(identity).revoke(tokens.refresh_token) is True
    with pytest.raises(OAuthError) as caught:
        await google(identity).refresh(tokens.refresh_token)
    assert caught.value.needs_new_sign_in


async def test_loopback_state_mismatch_is_refused(identity: Any) -> None:
    identity.browser_state_override = "forged-state"
    with pytest.raises(OAuthError) as caught:
        await _loopback(identity, google(identity))
    assert caught.value.error == "state_mismatch"


async def test_loopback_declined_consent(identity: Any) -> None:
    identity.browser_decline = True
    with pytest.raises(OAuthError) as caught:
        await _loopback(identity, google(identity))
    assert caught.value.error == "access_denied"


async def test_loopback_without_the_client_secret_is_refused(identity: Any) -> None:
    with pytest.raises(OAuthError) as caught:
        await _loopback(identity, google(identity, secret=None))
    assert caught.value.error in {"invalid_client", "invalid_request"}


async def test_loopback_listener_times_out_without_a_browser(identity: Any) -> None:
    async with LoopbackSignIn(google(identity)) as flow:
        with pytest.raises(OAuthError) as caught:
            await flow.run(None, timeout=0.2)
    assert caught.value.error == "timeout"


async def test_listener_ignores_stray_requests_and_garbage(identity: Any) -> None:
    async with LoopbackSignIn(google(identity)) as flow:
        port = int(flow.redirect_uri.rsplit(":", 1)[1].strip("/"))
        async with httpx.AsyncClient(timeout=5.0) as local:
            assert (await local.get(f"http://127.0.0.1:{port}/favicon.ico")).status_code == 404
            assert (await local.get(f"http://127.0.0.1:{port}/")).status_code == 404
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x16\x03\x01garbage\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.read(), 5)
        writer.close()
        with pytest.raises(OAuthError):
            await flow.run(None, timeout=0.2)


async def test_unreachable_provider_is_a_network_error() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, authority=f"https://127.0.0.1:{port}")
    with pytest.raises(OAuthError) as caught:
        await OAuthClient(app, timeout=2.0).start_device_flow()
    assert caught.value.error == "network" and "127.0.0.1" in caught.value.message


def test_endpoints_for_clouds_and_labs() -> None:
    ms = OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, "contoso.com").endpoints()
    assert ms.device == "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/devicecode"
    gov = OAuthApp(
        IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, authority="https://login.microsoftonline.us/"
    ).endpoints()
    assert gov.token == "https://login.microsoftonline.us/organizations/oauth2/v2.0/token"
    g = OAuthApp(IdentityPlatform.GOOGLE, LAB_GOOGLE_CLIENT).endpoints()
    assert g.token == "https://oauth2.googleapis.com/token" and g.device is None
    for bad in (
        OAuthApp(IdentityPlatform.MICROSOFT, "x"),
        OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, "bad tenant"),
        OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, authority="http://login.lab"),
        OAuthApp(IdentityPlatform.GOOGLE, LAB_GOOGLE_CLIENT, scopes=("two scopes",)),
    ):
        with pytest.raises(OAuthConfigError):
            bad.validated()


async def test_microsoft_browser_flow_with_pkce(identity: Any) -> None:
    tokens, pages = await _loopback(identity, microsoft(identity))
    assert pages == [200]
    assert tokens.signed_in_as == LAB_USER and tokens.has_scope(SMTP_SCOPE)
    assert any(path.endswith("/oauth2/v2.0/authorize") for _, path, _ in identity.requests)
