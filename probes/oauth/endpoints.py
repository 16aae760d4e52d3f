"""Where an identity platform's OAuth endpoints are, and what a mail sign-in asks for.

Microsoft's identity platform (and its sovereign clouds) and Google's OAuth 2.0 server.
``authority`` overrides the base URL: a national cloud (``https://login.microsoftonline.us``)
or a lab on loopback. An :class:`OAuthApp` is the app registration a sign-in uses.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import urlsplit


class IdentityPlatform(enum.StrEnum):
    """Who issues the tokens."""

    MICROSOFT = "microsoft"
    GOOGLE = "google"


MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_REVOKE = "https://oauth2.googleapis.com/revoke"

MICROSOFT_CLOUDS: dict[str, str] = {
    "global": MICROSOFT_AUTHORITY,
    "usgov": "https://login.microsoftonline.us",
    "china": "https://login.chinacloudapi.cn",
}

OUTLOOK_RESOURCE = "https://outlook.office.com"
IMAP_SCOPE = f"{OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All"
SMTP_SCOPE = f"{OUTLOOK_RESOURCE}/SMTP.Send"
GMAIL_SCOPE = "https://mail.google.com/"

MICROSOFT_SCOPES: tuple[str, ...] = (IMAP_SCOPE, SMTP_SCOPE, "offline_access")
GOOGLE_SCOPES: tuple[str, ...] = (GMAIL_SCOPE, "openid", "email")

DEFAULT_TENANT = "organizations"
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,199}$")


def short_scope(scope: str) -> str:
    """``https://outlook.office.com/SMTP.Send`` -> ``SMTP.Send``; short names (and
    ``https://mail.google.com/``, which has no name after its host) stay as they are."""
    scope = scope.strip()[:200]
    if "://" in scope:
        path = urlsplit(scope).path.strip("/")
        return path.rpartition("/")[2] or scope
    return scope


class OAuthConfigError(ValueError):
    """An app registration that cannot work (named field, plain message)."""


@dataclass(frozen=True)
class OAuthEndpoints:
    """The URLs of one platform (``device`` and ``revoke`` may be absent)."""

    authorize: str
    token: str
    device: str | None = None
    revoke: str | None = None


def _authority(url: str | None, default: str) -> str:
    base = (url or default).strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.hostname:
        raise OAuthConfigError(f"the authority must be an https:// URL, not {base!r}")
    if parts.query or parts.fragment:
        raise OAuthConfigError("the authority is a base URL, without ?query or #fragment")
    return base


@dataclass(frozen=True)
class OAuthApp:
    """An app registration: platform, client id, tenant, optional authority and scopes.

    The client secret of a Google desktop app is not part of it: the workspace keeps it
    in the keyring and hands it to the sign-in.
    """

    platform: IdentityPlatform
    client_id: str
    tenant: str = DEFAULT_TENANT
    authority: str | None = None
    scopes: tuple[str, ...] = ()

    def validated(self) -> OAuthApp:
        """This app, or :class:`OAuthConfigError` naming what is wrong."""
        if not _CLIENT_ID.match(self.client_id.strip()):
            raise OAuthConfigError(
                "client id: the application (client) id of the app registration, e.g. "
                "a GUID such as 00000000-0000-0000-0000-000000000000"
            )
        if self.platform is IdentityPlatform.MICROSOFT and not _TENANT.match(self.tenant):
            raise OAuthConfigError(
                "tenant: a tenant id (GUID), a domain such as contoso.com, or organizations"
            )
        self.endpoints()  # the authority must parse
        for scope in self.scopes:
            if not scope or any(c.isspace() for c in scope):
                raise OAuthConfigError(f"scope {scope!r}: one scope per entry, no spaces")
        return OAuthApp(
            self.platform,
            self.client_id.strip(),
            self.tenant.strip() or DEFAULT_TENANT,
            self.authority.strip().rstrip("/") if self.authority else None,
            self.scopes,
        )

    @property
    def requested_scopes(self) -> tuple[str, ...]:
        """The scopes a sign-in asks for (the app's own, or the platform's mail scopes)."""
        if self.scopes:
            return self.scopes
        return MICROSOFT_SCOPES if self.platform is IdentityPlatform.MICROSOFT else GOOGLE_SCOPES

    def endpoints(self) -> OAuthEndpoints:
        """The platform's endpoints under this app's authority and tenant."""
        if self.platform is IdentityPlatform.MICROSOFT:
            base = f"{_authority(self.authority, MICROSOFT_AUTHORITY)}/{self.tenant}/oauth2/v2.0"
            return OAuthEndpoints(
                authorize=f"{base}/authorize", token=f"{base}/token", device=f"{base}/devicecode"
            )
        if self.authority is None:
            return OAuthEndpoints(GOOGLE_AUTHORIZE, GOOGLE_TOKEN, revoke=GOOGLE_REVOKE)
        base = _authority(self.authority, "")
        return OAuthEndpoints(f"{base}/o/oauth2/v2/auth", f"{base}/token", revoke=f"{base}/revoke")

    @property
    def label(self) -> str:
        """``microsoft app 1234… (tenant contoso.com)`` for listings."""
        short = self.client_id if len(self.client_id) <= 13 else f"{self.client_id[:8]}…"
        if self.platform is IdentityPlatform.MICROSOFT:
            return f"{self.platform.value} app {short} (tenant {self.tenant})"
        return f"{self.platform.value} app {short}"
