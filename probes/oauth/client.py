"""The token endpoint conversation (httpx): device codes, code exchange, refresh, revoke.

One :class:`OAuthClient` per sign-in or refresh. Every request has a time limit; network
trouble, a non-JSON answer or an error answer all become :class:`OAuthError`. Tokens are
sent in form bodies only (never in a URL) and never appear in an error.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from probes.oauth.endpoints import IdentityPlatform, OAuthApp, OAuthEndpoints
from probes.oauth.errors import OAuthError
from probes.oauth.tokens import TokenSet, token_set

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_TIMEOUT = 15.0
_MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class DeviceCode:
    """What the user must do (open ``verification_uri``, enter ``user_code``), and until when."""

    user_code: str
    verification_uri: str
    expires_in: int
    interval: int
    message: str = ""
    device_code: str = field(default="", repr=False)


def _text(value: object, limit: int = 2048) -> str:
    return value[:limit] if isinstance(value, str) else ""


class OAuthClient:
    """Talks to one app's token endpoints.

    ``verify`` is an SSL context (a lab or an inspecting proxy's CA) or True for the
    system's trust store; ``client_secret`` only for Google desktop apps.
    """

    def __init__(
        self,
        app: OAuthApp,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        client_secret: str | None = None,
    ) -> None:
        self.app = app.validated()
        self.endpoints: OAuthEndpoints = self.app.endpoints()
        self._verify = verify
        self._timeout = timeout
        self._client_secret = client_secret
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> OAuthClient:
        """Keep one connection for a whole flow (code, polls, exchange) instead of one each."""
        self._http = self._new_http()
        return self

    async def __aexit__(self, *exc: object) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=self._verify, timeout=self._timeout, follow_redirects=False, trust_env=False
        )

    async def _send(self, url: str, form: Mapping[str, str]) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self._http is not None:
            return await self._http.post(url, data=dict(form), headers=headers)
        async with self._new_http() as http:
            return await http.post(url, data=dict(form), headers=headers)

    async def _post(self, url: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._send(url, form)
        except httpx.TimeoutException:
            raise OAuthError(
                "timeout", f"no answer from {httpx.URL(url).host} within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            host = httpx.URL(url).host
            raise OAuthError(
                "network", f"cannot reach {host}: {type(exc).__name__}: {exc}"
            ) from None
        if len(response.content) > _MAX_BODY:
            raise OAuthError("invalid_response", f"an answer of {len(response.content)} bytes")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            status, host = response.status_code, httpx.URL(url).host
            if status >= 400:  # a proxy's or a load balancer's own error page
                text = "".join(c for c in response.text[:160] if c.isprintable())
                raise OAuthError(f"http_{status}", f"HTTP {status} from {host}: {text}") from None
            raise OAuthError(
                "invalid_response",
                f"HTTP {status} from {host} is not JSON (a captive portal or a proxy?)",
                status=status,
            ) from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_response", "the answer is not a JSON object")
        return response.status_code, body

    @staticmethod
    def _raise_for(status: int, body: Mapping[str, Any]) -> None:
        if "error" in body or status >= 400:
            error = _text(body.get("error"), 80) or f"http_{status}"
            raise OAuthError(error, _text(body.get("error_description")), status=status)

    def _with_client(self, form: dict[str, str]) -> dict[str, str]:
        form["client_id"] = self.app.client_id
        if self._client_secret:
            form["client_secret"] = self._client_secret
        return form

    async def start_device_flow(self) -> DeviceCode:
        """Ask for a device code (Microsoft); the user enters it in a browser anywhere."""
        if self.endpoints.device is None:
            raise OAuthError(
                "unsupported_flow",
                "Google does not allow the Gmail scope in its device flow: use the browser flow",
            )
        form = self._with_client({"scope": " ".join(self.app.requested_scopes)})
        status, body = await self._post(self.endpoints.device, form)
        self._raise_for(status, body)
        code, user_code = body.get("device_code"), body.get("user_code")
        uri = body.get("verification_uri") or body.get("verification_url")
        if not (isinstance(code, str) and isinstance(user_code, str) and isinstance(uri, str)):
            raise OAuthError("invalid_response", "the device code answer lacks a code or a URL")
        try:
            expires_in, interval = int(body.get("expires_in", 900)), int(body.get("interval", 5))
        except (TypeError, ValueError, OverflowError):
            raise OAuthError("invalid_response", "expires_in/interval are not numbers") from None
        return DeviceCode(
            user_code=user_code[:64],
            verification_uri=uri[:512],
            expires_in=max(1, min(expires_in, 3600)),
            interval=max(0, min(interval, 60)),
            message=_text(body.get("message"), 500),
            device_code=code,
        )

    async def poll_device_code(self, device: DeviceCode) -> TokenSet:
        """One poll of the token endpoint; the OAuthError's ``error`` says what to do next."""
        form = self._with_client({"grant_type": DEVICE_GRANT, "device_code": device.device_code})
        status, body = await self._post(self.endpoints.token, form)
        self._raise_for(status, body)
        return token_set(body)

    async def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> TokenSet:
        """Trade an authorisation code (with its PKCE verifier) for tokens."""
        form = self._with_client(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            }
        )
        status, body = await self._post(self.endpoints.token, form)
        self._raise_for(status, body)
        return token_set(body)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token; keeps the old refresh token when the platform does not rotate."""
        form = self._with_client({"grant_type": "refresh_token", "refresh_token": refresh_token})
        if self.app.platform is IdentityPlatform.MICROSOFT:
            form["scope"] = " ".join(self.app.requested_scopes)
        status, body = await self._post(self.endpoints.token, form)
        self._raise_for(status, body)
        tokens = token_set(body)
        if tokens.refresh_token is None:
            tokens = replace(tokens, refresh_token=refresh_token)
        return tokens

    async def revoke(self, token: str) -> bool:
        """Revoke a token where the platform can (Google); False when there is no endpoint."""
        if self.endpoints.revoke is None:
            return False
        status, body = await self._post(self.endpoints.revoke, {"token": token})
        self._raise_for(status, body)
        return True
