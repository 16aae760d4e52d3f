"""What goes wrong in a sign-in, as one exception with the provider's own error code."""

from __future__ import annotations

import re

_AADSTS = re.compile(r"\bAADSTS(\d{5,8})\b")
_MAX_DESCRIPTION = 600


class OAuthError(Exception):
    """A sign-in or token request that failed.

    ``error`` is the OAuth error code (``authorization_declined``, ``invalid_grant``...) or
    one of mxpilot's own (``network``, ``invalid_response``, ``state_mismatch``,
    ``cancelled``, ``timeout``); ``description`` the provider's text (never a token).
    """

    def __init__(self, error: str, description: str = "", *, status: int | None = None) -> None:
        self.error = error
        self.description = " ".join(description.split())[:_MAX_DESCRIPTION]
        self.status = status
        super().__init__(self.message)

    @property
    def aadsts(self) -> str | None:
        """Microsoft's ``AADSTSnnnnn`` code in the description, if any."""
        found = _AADSTS.search(self.description)
        return f"AADSTS{found.group(1)}" if found else None

    @property
    def message(self) -> str:
        """``error: description`` (the first line of the description)."""
        first = self.description.split(" Trace ID:")[0].strip()
        return f"{self.error}: {first}" if first else self.error

    @property
    def needs_new_sign_in(self) -> bool:
        """True when only signing in again helps (refresh token expired or revoked)."""
        return self.error in {"invalid_grant", "interaction_required", "expired_token"}
