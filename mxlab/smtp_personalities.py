"""How Exchange Online and Gmail answer an SMTP client in trouble: the lab's personalities.

Each :class:`Personality` copies a provider's banner and the exact reply lines it sends
after AUTH when an account or a tenant is in trouble (from the seeds and the providers'
documentation). ``mxlab.smtp`` serves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

EXCHANGE_HOST = "SN4PR0501CA0054.outlook.office365.com"
EXCHANGE_BANNER = "Microsoft ESMTP MAIL Service ready at {date}"
GMAIL_HOST = "smtp.gmail.com"
GMAIL_BANNER = "ESMTP d2e1a72fcca58-7a1b2c3d4e5f.18 - gsmtp"


@dataclass(frozen=True)
class Personality:
    """How a lab server greets and answers AUTH, copied from a real provider.

    ``auth_reply`` holds the raw reply lines (``NNN-`` continuation, ``NNN `` last) sent
    after the client has given its credentials, right or wrong; empty means normal
    behaviour (235 on the right password, 535 5.7.8 otherwise). ``close_after`` hangs up
    after that reply. ``banner`` may contain ``{date}``, filled in per connection.
    ``password_only``: the reply is about password sign-in (basic auth off, app password
    needed, wrong password), so a server validating OAuth tokens accepts a good token anyway.
    """

    name: str
    host: str
    banner: str
    auth_reply: tuple[str, ...] = ()
    close_after: bool = False
    password_only: bool = False

    def banner_text(self, when: datetime | None = None) -> str:
        """The greeting text after the host name, dated ``when`` (default: now)."""
        return self.banner.format(date=format_datetime(when or datetime.now(UTC)))

    def greeting(self, when: datetime | None = None) -> str:
        """The full 220 greeting line as sent at ``when`` (default: now)."""
        return f"220 {self.host} {self.banner_text(when)}"

    @property
    def auth_code(self) -> int | None:
        """The reply code of the AUTH answer, or None for normal behaviour."""
        return int(self.auth_reply[-1][:3]) if self.auth_reply else None

    @property
    def auth_text(self) -> str | None:
        """The AUTH answer's text as ``smtplib`` reports it (lines joined by newlines)."""
        if not self.auth_reply:
            return None
        return "\n".join(line[4:].strip(" \t") for line in self.auth_reply)


def _exchange(
    name: str, *reply: str, close_after: bool = False, password_only: bool = False
) -> Personality:
    return Personality(name, EXCHANGE_HOST, EXCHANGE_BANNER, reply, close_after, password_only)


def _gmail(name: str, *reply: str, password_only: bool = False) -> Personality:
    return Personality(name, GMAIL_HOST, GMAIL_BANNER, reply, password_only=password_only)


PERSONALITIES: dict[str, Personality] = {
    p.name: p
    for p in (
        Personality("ok", "mail.lab.test", "ESMTP mxpilot lab ready"),
        _exchange(
            "o365_tenant_disabled",
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
            "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
            "[SN4PR0501CA0054.namprd05.prod.outlook.com]",
        ),
        _exchange(
            "o365_basic_disabled",
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
            "[BN0PR04CA0157.namprd04.prod.outlook.com]",
            password_only=True,
        ),
        _exchange(
            "o365_criteria",
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to "
            "be authenticated successfully. Contact your administrator. "
            "[CH0PR08CA0021.namprd08.prod.outlook.com 2026-01-09T16:12:30.678Z 08DE4F6D4916B5B3]",
        ),
        _exchange(
            "o365_bad_credentials",
            "535 5.7.3 Authentication unsuccessful [BN6PR1101CA0010.namprd11.prod.outlook.com]",
            password_only=True,
        ),
        _exchange(
            "o365_not_authenticated",
            "550 5.7.57 Client not authenticated to send mail. "
            "[DM6PR02CA0065.namprd02.prod.outlook.com]",
        ),
        _exchange(
            "o365_throttled",
            "421 4.7.0 Temporary server error. Please try again later. PRX4 "
            "[AM0PR01CA0105.eurprd01.prod.exchangelabs.com]",
            close_after=True,
        ),
        _exchange(
            "o365_tls_required_client",
            "451 5.7.3 STARTTLS is required to send mail [BL1PR13CA0012.namprd13.prod.outlook.com]",
        ),
        _gmail(
            "gmail_app_password",
            "534-5.7.9 Application-specific password required. For more information, go to",
            "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor "
            "d2e1a72fcca58-7a1b2c3d4e5f.18 - gsmtp",
            password_only=True,
        ),
        _gmail(
            "gmail_bad_credentials",
            "535-5.7.8 Username and Password not accepted. For more information, go to",
            "535 5.7.8  https://support.google.com/mail/?p=BadCredentials "
            "a1b2c3d4e5f6-7a8b9c0d1e2f.20 - gsmtp",
            password_only=True,
        ),
        _gmail(
            "gmail_too_many",
            "454 4.7.0 Too many login attempts, please try again later. "
            "https://support.google.com/mail/answer/7126229 - gsmtp",
        ),
    )
}
