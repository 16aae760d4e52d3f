"""A local OAuth 2.0 identity provider for the lab: Microsoft and Google styles over HTTPS.

``LabIdentityProvider`` listens on 127.0.0.1 (ephemeral port) with the lab certificate and
speaks just enough of Microsoft's identity platform (device code flow, ``/{tenant}/oauth2/
v2.0/...``) and Google's OAuth 2.0 server (loopback redirect + PKCE, ``/o/oauth2/v2/auth``,
``/token``, ``/revoke``) for sign-in tests, plus RFC 7662 ``/introspect`` so the lab's mail
servers (Dovecot's oauth2 passdb, the SMTP lab) can validate the access tokens it issues.

What "the user in the browser" does is set by the behaviour controls (``approve()``,
``auto_approve``, ``browser_user``, ...). Tokens are random and never logged; ``requests``
records only (method, path, monotonic time).

This module is the public face; the work is done by ``mxlab.identity_flows`` (the OAuth
flows), ``mxlab.identity_directory`` (apps, users, consent, scopes), ``mxlab.identity_tokens``
(issuing, JWTs, introspection, revocation) and ``mxlab.identity_http`` (the TLS HTTP server).

Usage::

    with LabIdentityProvider(certs) as idp:
        register_lab_accounts(idp)
        idp.auto_approve = LAB_USER
        ...  # point the client at idp.base_url, trust idp.ca_file
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from mxlab.certs import LabCertificates
from mxlab.identity_directory import IdentityDirectory
from mxlab.identity_flows import DEVICE_CODE_GRANT, IdentityFlows
from mxlab.identity_http import IdentityHttpServer, Reply, json_reply, page_reply
from mxlab.identity_tokens import (
    LAB_TENANT_ID,
    OUTLOOK_RESOURCE,
    Client,
    OAuthError,
    Style,
    TokenStore,
    jwt_claims,
)
from mxlab.service import LabService

__all__ = [
    "DEVICE_CODE_GRANT",
    "GOOGLE_MAIL_SCOPE",
    "LAB_GOOGLE_CLIENT",
    "LAB_GOOGLE_SCOPES",
    "LAB_GOOGLE_SECRET",
    "LAB_MS_CLIENT",
    "LAB_MS_SCOPES",
    "LAB_NOCONSENT_USER",
    "LAB_TENANT_ID",
    "LAB_USER",
    "OUTLOOK_IMAP_SCOPE",
    "OUTLOOK_RESOURCE",
    "OUTLOOK_SMTP_SCOPE",
    "LabIdentityProvider",
    "jwt_claims",
    "register_lab_accounts",
]

LAB_MS_CLIENT = "11111111-2222-3333-4444-555555555555"
LAB_GOOGLE_CLIENT = "lab-desktop.apps.googleusercontent.com"
LAB_GOOGLE_SECRET = "GOCSPX-lab-secret"
LAB_USER = "user@lab.test"
LAB_NOCONSENT_USER = "noconsent@lab.test"

OUTLOOK_IMAP_SCOPE = f"{OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All"
OUTLOOK_SMTP_SCOPE = f"{OUTLOOK_RESOURCE}/SMTP.Send"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
LAB_MS_SCOPES = (
    OUTLOOK_IMAP_SCOPE,
    OUTLOOK_SMTP_SCOPE,
    "offline_access",
    "openid",
    "profile",
    "email",
)
LAB_GOOGLE_SCOPES = (GOOGLE_MAIL_SCOPE, "openid", "email")

_MS_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/(devicecode|token|authorize)$")


class LabIdentityProvider(LabService):
    """An HTTPS OAuth 2.0 server on 127.0.0.1:0 in Microsoft and Google styles (see module).

    Behaviour controls: ``auto_approve`` (a username) answers ``authorization_pending`` to the
    first ``approve_after_polls`` polls of a device code, then approves it; ``slow_down_polls``
    makes the next N polls answer ``slow_down`` (as does any poll sooner than
    ``device_interval`` seconds after the previous one); ``browser_user`` (else ``login_hint``),
    ``browser_decline`` and ``browser_state_override`` drive the authorize endpoint.
    ``reset_behaviour()`` restores the defaults; clients, users and tokens stay.
    """

    def __init__(self, certs: LabCertificates, *, access_token_lifetime: int = 3600) -> None:
        """Bind 127.0.0.1:0 with the lab certificate; ``start()`` begins serving."""
        self._certs = certs
        self._default_lifetime = access_token_lifetime
        self._lock = threading.RLock()
        self._tokens = TokenStore(self)
        self._directory = IdentityDirectory()
        self._flows = IdentityFlows(self, self._directory, self._tokens)
        self._access = self._tokens.access  # every access token issued -> what it stands for
        self._refresh = self._tokens.refresh  # every refresh token issued -> its grant
        self.revoked: set[str] = set()
        self.requests: list[tuple[str, str, float]] = []
        self.access_token_lifetime = access_token_lifetime
        self.auto_approve: str | None = None
        self.approve_after_polls = 1
        self.slow_down_polls = 0
        self.device_interval = 5
        self.device_code_lifetime = 900
        self.browser_user: str | None = None
        self.browser_decline = False
        self.browser_state_override: str | None = None
        self._context = certs.server_context()
        self._server: IdentityHttpServer | None = IdentityHttpServer(
            self._context, self._answer, self._record
        )
        self._thread: threading.Thread | None = None

    # -- the LabService shape -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The ephemeral port the server listens on."""
        if self._server is None:
            raise RuntimeError("LabIdentityProvider is stopped")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` (the lab certificate is valid for 127.0.0.1)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The lab CA a client must trust to talk to this server."""
        return self._certs.ca_pem

    def start(self) -> None:
        """Serve in a background thread (returns at once; the socket is already listening)."""
        if self._server is None:
            raise RuntimeError("LabIdentityProvider was stopped and cannot be restarted")
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lab-identity-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, drop open connections, close the socket (bounded: seconds at most)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        if thread is not None:
            server.shutdown()
        server.server_close()
        server.drop_connections()
        if thread is not None:
            thread.join(timeout=5.0)

    # -- setup and behaviour controls -----------------------------------------------------

    def register_client(
        self,
        client_id: str,
        *,
        client_secret: str | None = None,
        allowed_scopes: list[str] | tuple[str, ...] | set[str] | frozenset[str] | None = None,
    ) -> None:
        """Register an app; ``allowed_scopes=None`` allows whatever it asks for."""
        allowed = None if allowed_scopes is None else frozenset(allowed_scopes)
        with self._lock:
            self._directory.clients[client_id] = Client(client_id, client_secret, allowed)

    def add_user(self, username: str, *, consented: bool = True) -> None:
        """Add (or update) a user who can sign in; ``consented=False``: consent missing."""
        with self._lock:
            self._directory.users[username] = consented

    def approve(self, user_code: str, username: str) -> None:
        """The user signed in at the device login page and entered ``user_code``."""
        with self._lock:
            if username not in self._directory.users:
                raise KeyError("unknown lab user")
            self._flows.device_by_user_code(user_code).approved_by = username

    def decline(self, user_code: str) -> None:
        """The user refused the sign-in for ``user_code``."""
        with self._lock:
            self._flows.device_by_user_code(user_code).declined = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far becomes expired (introspection: inactive)."""
        with self._lock:
            for token in self._access.values():
                token.expired = True

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is revoked."""
        with self._lock:
            self.revoked.update(self._refresh)

    def reset_behaviour(self) -> None:
        """Behaviour controls back to their defaults and ``requests`` emptied.

        Clients, users and issued tokens stay.
        """
        with self._lock:
            self.access_token_lifetime = self._default_lifetime
            self.auto_approve = None
            self.approve_after_polls = 1
            self.slow_down_polls = 0
            self.device_interval = 5
            self.device_code_lifetime = 900
            self.browser_user = None
            self.browser_decline = False
            self.browser_state_override = None
            self.requests.clear()

    def verify_jwt(self, token: str) -> dict[str, Any]:
        """The claims of a JWT this provider signed; ``ValueError`` when the signature is bad."""
        return self._tokens.verify_jwt(token)

    # -- request dispatch (called by the HTTP handler threads) ----------------------------

    def _record(self, method: str, path: str) -> None:
        self.requests.append((method, path, time.monotonic()))

    def _answer(self, method: str, path: str, params: dict[str, str], authorization: str) -> Reply:
        match = _MS_PATH.match(path)
        style: Style = "microsoft" if match else "google"
        flows = self._flows
        try:
            with self._lock:
                if match and method == "POST" and match.group(2) == "devicecode":
                    return json_reply(200, flows.device_code(match.group(1), params))
                if match and method == "POST" and match.group(2) == "token":
                    return json_reply(200, flows.token("microsoft", match.group(1), params, ""))
                if (match and match.group(2) == "authorize") or path == "/o/oauth2/v2/auth":
                    return (
                        flows.authorize(params) if method == "GET" else page_reply(405, "405", "")
                    )
                if path == "/token" and method == "POST":
                    return json_reply(200, flows.token("google", "", params, authorization))
                if path == "/revoke" and method == "POST":
                    return json_reply(200, self._tokens.revoke(params))
                if path == "/introspect":
                    return json_reply(200, self._tokens.introspect(params, authorization))
                if path == "/devicelogin" and method == "GET":
                    return page_reply(200, "Enter code", "Enter the code shown on your device.")
            return json_reply(404, {"error": "not_found", "error_description": "No such endpoint."})
        except OAuthError as error:
            body: dict[str, Any] = {"error": error.error, "error_description": error.description}
            codes = re.match(r"AADSTS(\d+)", error.description)
            if style == "microsoft" and codes:
                body["error_codes"] = [int(codes.group(1))]
            return json_reply(error.status, body)


def register_lab_accounts(provider: LabIdentityProvider) -> None:
    """Register the lab's Microsoft and Google apps and its two users (one without consent)."""
    provider.register_client(LAB_MS_CLIENT, allowed_scopes=LAB_MS_SCOPES)
    provider.register_client(
        LAB_GOOGLE_CLIENT, client_secret=LAB_GOOGLE_SECRET, allowed_scopes=LAB_GOOGLE_SCOPES
    )
    provider.add_user(LAB_USER)
    provider.add_user(LAB_NOCONSENT_USER, consented=False)
