"""From an account to the probe targets it implies (the DESIGN's "plan")."""

from __future__ import annotations

from collections.abc import Iterable

from probes.mail.model import AuthMethod, Credentials, Protocol, Target
from workspace.accounts.model import Account, AuthKind


def credentials_for(account: Account, secret: str | None) -> Credentials | None:
    """The login of an account with its secret (None without a secret)."""
    if not secret:
        return None
    method = AuthMethod.XOAUTH2 if account.auth is AuthKind.OAUTH else AuthMethod.AUTO
    return Credentials(account.login, secret, method)


def account_targets(
    account: Account,
    secret: str | None,
    *,
    protocols: Iterable[Protocol] | None = None,
    login: bool = True,
    check_inbox: bool = False,
) -> list[Target]:
    """One target per endpoint of the account (IMAP first), logging in when asked."""
    wanted = set(protocols) if protocols is not None else {Protocol.IMAP, Protocol.SMTP}
    credentials = credentials_for(account, secret) if login else None
    mailbox = account.extra.get("mailbox", "INBOX") or "INBOX"
    targets: list[Target] = []
    for protocol in (Protocol.IMAP, Protocol.SMTP):
        endpoint = account.endpoint(protocol)
        if endpoint is None or protocol not in wanted:
            continue
        imap = protocol is Protocol.IMAP
        targets.append(
            Target(
                host=endpoint.host,
                port=endpoint.port,
                protocol=protocol,
                security=endpoint.security,
                credentials=credentials,
                check_inbox=check_inbox and imap and credentials is not None,
                mailbox=mailbox if imap else "INBOX",
            )
        )
    return targets
