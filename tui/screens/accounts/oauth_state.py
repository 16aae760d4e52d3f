"""The OAuth side of the Accounts screen: token state, sign-in details, Basic-auth readiness.

Plain text for the table, the detail pane and the readiness banner (no token is ever
shown), and the sign-out as one job that says what happened at the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from workspace.auth.readiness import ReadinessFinding, Urgency

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from workspace.accounts.model import Account
    from workspace.auth.token_keeper import TokenStatus
    from workspace.session import Workspace

TOKEN_STYLES = {
    "token ready": "green",
    "signed in": "green",
    "not signed in": "yellow",
    "not configured": "yellow",
}


def _local(stamp: str | datetime | None) -> str:
    """An ISO time (UTC) as ``2026-11-21 22:45`` local time."""
    if stamp is None:
        return ""
    try:
        when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
        return when.astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp)


def oauth_lines(status: TokenStatus) -> list[str]:
    """Signed in as, when, the app, granted scopes, the access token's expiry (if in memory)."""
    record = status.record
    if record is None:
        return ["OAuth: no app registration set — o signs in with OAuth"]
    app = record.app
    where = f" · authority {app.authority}" if app.authority else ""
    tenant = f" · tenant {app.tenant}" if app.platform.value == "microsoft" else ""
    lines = [f"OAuth app: {app.platform.value} · client id {app.client_id}{tenant}{where}"]
    if status.has_refresh_token and record.signed_in_at:
        who = record.signed_in_as or "(not stated)"
        lines.append(f"Signed in as {who} on {_local(record.signed_in_at)}")
    else:
        lines.append("Not signed in — o signs in with OAuth")
    if record.granted_scopes and status.has_refresh_token:
        lines.append("Granted: " + ", ".join(record.granted_scopes))
    if status.access_expires_at is not None:
        lines.append(f"Access token (in memory) until {_local(status.access_expires_at)}")
    return lines


def _phrase(findings: Sequence[ReadinessFinding], today: date) -> list[str]:
    """``IMAP off since 2022-10-01``, ``SMTP stops 2026-12-31 (40 days)``, most urgent first."""
    groups: dict[tuple[str, date, Urgency], None] = {}
    for finding in sorted(findings, key=lambda f: f.deadline):
        google = finding.platform == "google"
        label = "Gmail password" if google else finding.protocol.value.upper()
        groups.setdefault((label, finding.deadline, finding.urgency), None)
    phrases = []
    for label, deadline, urgency in groups:
        if urgency is Urgency.BROKEN:
            phrases.append(f"{label} off since {deadline.isoformat()}")
        else:
            days = (deadline - today).days
            phrases.append(f"{label} stops {deadline.isoformat()} ({days} days)")
    return phrases


def readiness_banner(findings: Sequence[ReadinessFinding], today: date) -> str:
    """One line for the screen, empty when no login depends on Basic auth."""
    if not findings:
        return ""
    count = len(findings)
    logins = "1 login depends" if count == 1 else f"{count} logins depend"
    return (
        f"{logins} on Basic auth: "
        + " · ".join(_phrase(findings, today))
        + " — o: sign in with OAuth"
    )


def readiness_lines(findings: Sequence[ReadinessFinding], account: str) -> list[str]:
    """The account's own findings: the message and the way out, per protocol."""
    return [
        f"{f.protocol.value.upper()} ({f.urgency.value}): {f.message}. Way out: {f.way_out}"
        for f in findings
        if f.account == account
    ]


async def sign_out(
    workspace: Workspace, account: Account, platform: str
) -> tuple[str, SeverityLevel]:
    """Sign the account out; the notification text and its severity."""
    from probes.oauth.errors import OAuthError

    try:
        revoked = await workspace.tokens.sign_out(account)
    except OAuthError as exc:
        return (
            f"{account.name} is signed out here (the refresh token is deleted from the "
            f"keyring); the platform did not confirm the revocation: {exc.message}",
            "warning",
        )
    if revoked:
        return (
            f"{account.name} signed out: the refresh token was revoked at the platform and "
            "deleted from the keyring.",
            "information",
        )
    if platform == "microsoft":
        return (
            f"{account.name} signed out: the refresh token is deleted here; Microsoft cannot "
            "revoke one token. To end every session of the mailbox: "
            f"Revoke-MgUserSignInSession -UserId {account.login}",
            "information",
        )
    return (f"{account.name} signed out: the refresh token is deleted here.", "information")
