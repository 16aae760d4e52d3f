"""The lab identity provider's directory: registered apps, users, consent and granted scopes.

``IdentityDirectory`` answers who may ask for what: an unknown client id, a user that does not
exist or has not consented, and scopes the app may not have all get the error answers
Microsoft or Google send (``OAuthError``). The flows (``mxlab.identity_flows``) consult it;
the provider's ``register_client`` / ``add_user`` fill it. Not locked itself: the provider
calls it under its lock.
"""

from __future__ import annotations

from mxlab.identity_tokens import Client, OAuthError, Style, by_style

_AADSTS_NOT_CONSENTED = (
    "AADSTS65001: The user or administrator has not consented to use the application "
    "with ID '{client}'. Send an interactive authorization request for this user and resource."
)


def granted_scopes(requested: str, allowed: frozenset[str] | None) -> tuple[str, ...]:
    """Requested ∩ allowed, in request order; ``resource/.default`` means all of resource."""
    granted: list[str] = []
    for scope in requested.split():
        if scope.endswith("/.default") and allowed is not None:
            prefix = scope.removesuffix(".default")
            granted.extend(sorted(s for s in allowed if s.startswith(prefix)))
        elif allowed is None or scope in allowed:
            granted.append(scope)
    return tuple(dict.fromkeys(granted))


class IdentityDirectory:
    """Registered clients and users (username -> consented), with the checks the flows need."""

    def __init__(self) -> None:
        """An empty directory."""
        self.clients: dict[str, Client] = {}
        self.users: dict[str, bool] = {}

    def client(self, style: Style, tenant: str, client_id: str) -> Client:
        """The registered client, else ``invalid_client`` / ``unauthorized_client``."""
        client = self.clients.get(client_id)
        if client is not None:
            return client
        if style == "google":
            raise OAuthError("invalid_client", "The OAuth client was not found.")
        raise OAuthError(
            "unauthorized_client",
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the "
            f"directory '{tenant}'. This can happen if the application has not been installed "
            "by the administrator of the tenant or consented to by any user in the tenant. "
            "You may have sent your authentication request to the wrong tenant.",
        )

    def scopes(self, style: Style, requested: str, client: Client) -> tuple[str, ...]:
        """The scopes granted to ``client``; none asked or none allowed is an error."""
        if not requested.strip():
            raise OAuthError(
                "invalid_request",
                by_style(
                    style,
                    "AADSTS900144: The request body must contain the following parameter: 'scope'.",
                    "Missing required parameter: scope",
                ),
            )
        granted = granted_scopes(requested, client.allowed)
        if not granted:
            raise OAuthError(
                "invalid_scope",
                by_style(
                    style,
                    "AADSTS70011: The provided request must include a 'scope' input parameter. "
                    "The provided value for the input parameter 'scope' is not valid.",
                    "Some requested scopes were invalid.",
                ),
            )
        return granted

    def check_user(self, style: Style, username: str, client_id: str) -> None:
        """``invalid_grant`` unless ``username`` exists and consented to ``client_id``."""
        consented = self.users.get(username)
        if consented is None:
            raise OAuthError(
                "invalid_grant",
                by_style(
                    style,
                    "AADSTS50034: The user account does not exist in the directory.",
                    "Account not found.",
                ),
            )
        if not consented:
            raise OAuthError(
                "invalid_grant",
                by_style(
                    style,
                    _AADSTS_NOT_CONSENTED.format(client=client_id),
                    "The user has not granted the app access.",
                ),
            )
