"""Basic-auth readiness: which password logins Microsoft and Google stop (or stopped) accepting.

Microsoft 365: Basic authentication for IMAP/POP has been off since October 2022; Basic auth
for SMTP AUTH client submission is disabled by default in existing tenants at the end of
December 2026. Google: password sign-in for IMAP/SMTP is off for Google Workspace and Gmail;
app passwords (with 2-Step Verification) still work. Every account still on a password gets a
finding with the date and the way out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from probes.mail.model import Protocol
from workspace.accounts.model import GOOGLE_PROVIDERS, MICROSOFT_PROVIDERS, Account, AuthKind

MICROSOFT_HOSTS = ("outlook.office365.com", "smtp.office365.com", "outlook.office.com")
GOOGLE_HOSTS = ("imap.gmail.com", "smtp.gmail.com")

IMAP_BASIC_OFF = date(2022, 10, 1)
SMTP_BASIC_OFF = date(2026, 12, 31)
GOOGLE_PASSWORDS_OFF = date(2025, 3, 14)


class Urgency(enum.StrEnum):
    """How soon a login breaks."""

    BROKEN = "broken"  # the date has passed: the login cannot work
    SOON = "soon"  # within 90 days
    LATER = "later"
    OK = "ok"


@dataclass(frozen=True)
class ReadinessFinding:
    """One account's login that depends on Basic auth (or an app password)."""

    account: str
    protocol: Protocol
    platform: str
    urgency: Urgency
    deadline: date
    message: str
    way_out: str
    auth_label: str = "password"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {
            "account": self.account,
            "protocol": self.protocol.value,
            "platform": self.platform,
            "urgency": self.urgency.value,
            "deadline": self.deadline.isoformat(),
            "message": self.message,
            "way_out": self.way_out,
            "auth": self.auth_label,
        }


def platform_of(account: Account) -> str:
    """``microsoft``, ``google`` or ``other`` from the provider and the servers."""
    hosts = {e.host.lower() for e in (account.imap, account.smtp) if e is not None}
    if account.provider in MICROSOFT_PROVIDERS or hosts & set(MICROSOFT_HOSTS):
        return "microsoft"
    if account.provider in GOOGLE_PROVIDERS or hosts & set(GOOGLE_HOSTS):
        return "google"
    return "other"


def _urgency(deadline: date, today: date) -> Urgency:
    if today >= deadline:
        return Urgency.BROKEN
    return Urgency.SOON if (deadline - today).days <= 90 else Urgency.LATER


def _microsoft(account: Account, today: date) -> list[ReadinessFinding]:
    login = f"mxpilot auth login --account {account.name}"
    found = []
    if account.imap is not None:
        found.append(
            ReadinessFinding(
                account.name,
                Protocol.IMAP,
                "microsoft",
                _urgency(IMAP_BASIC_OFF, today),
                IMAP_BASIC_OFF,
                "Exchange Online turned Basic authentication off for IMAP on 1 October 2022: "
                "this password login cannot work",
                f"sign in with OAuth ({login}); the app registration needs "
                "IMAP.AccessAsUser.All ('mxpilot auth setup' prints how)",
                account.auth.value,
            )
        )
    if account.smtp is not None:
        urgency = _urgency(SMTP_BASIC_OFF, today)
        days = (SMTP_BASIC_OFF - today).days
        when = "was disabled" if days <= 0 else f"is disabled in {days} days"
        found.append(
            ReadinessFinding(
                account.name,
                Protocol.SMTP,
                "microsoft",
                urgency,
                SMTP_BASIC_OFF,
                f"Basic auth for SMTP AUTH client submission {when} (by default at the end of "
                "December 2026, in existing tenants): this password login stops working",
                f"sign in with OAuth ({login}; SMTP.Send), or for a device or application that "
                "cannot do OAuth: an SMTP relay connector (port 25, by IP or certificate), High "
                "Volume Email, or Azure Communication Services Email",
                account.auth.value,
            )
        )
    return found


def _google(account: Account, today: date) -> list[ReadinessFinding]:
    found = []
    for protocol, endpoint in ((Protocol.IMAP, account.imap), (Protocol.SMTP, account.smtp)):
        if endpoint is None:
            continue
        found.append(
            ReadinessFinding(
                account.name,
                protocol,
                "google",
                _urgency(GOOGLE_PASSWORDS_OFF, today),
                GOOGLE_PASSWORDS_OFF,
                "Google no longer accepts the account password for IMAP/SMTP (less secure apps "
                "are off): this login fails with 534-5.7.9 or 535-5.7.8",
                f"sign in with OAuth (mxpilot auth login --account {account.name}), or set an "
                "app password (2-Step Verification on) and mark the account --auth app-password",
                account.auth.value,
            )
        )
    return found


def basic_auth_readiness(
    accounts: Iterable[Account], today: date | None = None
) -> list[ReadinessFinding]:
    """Every password login that Microsoft 365 or Google stops (or stopped) accepting."""
    day = today or date.today()
    found: list[ReadinessFinding] = []
    for account in accounts:
        platform = platform_of(account)
        if account.auth is AuthKind.OAUTH:
            continue
        if platform == "microsoft":
            found += _microsoft(account, day)
        elif platform == "google" and account.auth is AuthKind.PASSWORD:
            found += _google(account, day)
    return found
