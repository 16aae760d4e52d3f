"""XOAUTH2 on the lab's SMTP servers: tokens checked by RFC 7662 introspection.

The lab identity provider's ``/introspect`` endpoint says whether a token is active, whose
it is and which scopes it carries; :class:`OAuthValidation` asks it and words the refusal
the way Exchange Online or Gmail do.
"""

from __future__ import annotations

import ssl
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mxlab.smtp_personalities import PERSONALITIES

OUTLOOK_SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
INTROSPECTION_TIMEOUT_S = 5.0
OAUTH_REJECTED_REPLY = "535 5.7.3 Authentication unsuccessful"
OAUTH_UNAVAILABLE_REPLY = "454 4.7.0 Temporary authentication failure"
MAILBOX_AUTH_DISABLED_REPLY = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."
)


@dataclass(frozen=True)
class OAuthValidation:
    """How the lab checks XOAUTH2 tokens: RFC 7662 introspection at ``url``.

    ``ca_file`` is the CA the endpoint's certificate must chain to; ``required_scope``
    must be among the token's scopes; ``auth_disabled`` holds users whose mailbox has
    SMTP AUTH switched off (Exchange's 5.7.139). ``gmail`` answers failures as Gmail does.
    """

    url: str
    ca_file: Path | None
    required_scope: str
    auth_disabled: frozenset[str]
    gmail: bool = False

    def error_challenge(self) -> str:
        """The provider's base64 JSON error challenge sent before the final 535."""
        if self.gmail:  # what smtp.gmail.com really sends (status 400, "Bearer")
            detail = f'{{"status":"400","schemes":"Bearer","scope":"{self.required_scope}"}}'
        else:
            detail = f'{{"status":"401","schemes":"bearer","scope":"{self.required_scope}"}}'
        return b64encode(detail.encode()).decode("ascii")

    def rejected_reply(self) -> tuple[str, ...]:
        """The reply lines after the client has acknowledged the error challenge."""
        if self.gmail:
            return PERSONALITIES["gmail_bad_credentials"].auth_reply
        return (OAUTH_REJECTED_REPLY,)

    async def introspect(self, token: str) -> dict[str, Any] | None:
        """The endpoint's JSON answer for ``token``, or None when it cannot be had.

        The token travels only in the POST body; nothing here logs it or puts it in an
        exception.
        """
        verify: ssl.SSLContext | bool = True
        if self.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            async with httpx.AsyncClient(verify=verify, timeout=INTROSPECTION_TIMEOUT_S) as client:
                response = await client.post(self.url, data={"token": token})
            if response.status_code != 200:
                return None
            answer = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    def accepts(self, answer: dict[str, Any], user: str) -> bool:
        """True when the answer shows an active token of ``user`` with the required scope."""
        scopes = str(answer.get("scope", "")).split()
        return (
            answer.get("active") is True
            and str(answer.get("username", "")).casefold() == user.casefold()
            and self.required_scope in scopes
        )
