"""What each phase of the migration needs from the DNS (the expectation profiles).

* ``gmail`` — today: mail at Google.
* ``coexistence`` — during the migration: MX still at Google with a low TTL,
  one merged SPF record authorising both, the Microsoft verification TXT.
* ``office365`` — after the cut-over: MX, SPF, DKIM, autodiscover at Microsoft.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MigrationPhase(enum.StrEnum):
    """The migration phase the domain is checked against (the audit's "profile")."""

    GMAIL = "gmail"
    COEXISTENCE = "coexistence"
    OFFICE365 = "office365"


Profile = MigrationPhase
"""The name the checklist, the CLI and the app use for :class:`MigrationPhase` (the same class)."""


class MailProvider(enum.StrEnum):
    """Whose servers an MX host names."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"
    OTHER = "other"


GOOGLE_SPF_INCLUDE = "_spf.google.com"
MICROSOFT_SPF_INCLUDE = "spf.protection.outlook.com"
GOOGLE_MX_SUFFIXES = ("google.com", "googlemail.com")
MICROSOFT_MX_SUFFIXES = (".mail.protection.outlook.com", ".mx.microsoft")
AUTODISCOVER_TARGET = "autodiscover.outlook.com"
MAX_CUTOVER_MX_TTL = 3600
SUGGESTED_TTL = 3600


@dataclass(frozen=True)
class Expectation:
    """The records a profile needs, as data."""

    mx_provider: MailProvider
    spf_includes: tuple[str, ...]
    dkim_selectors: tuple[str, ...]
    optional_dkim_selectors: tuple[str, ...]
    needs_autodiscover: bool
    needs_ms_verification: bool
    low_mx_ttl: bool


EXPECTATIONS: dict[MigrationPhase, Expectation] = {
    MigrationPhase.GMAIL: Expectation(
        mx_provider=MailProvider.GOOGLE,
        spf_includes=(GOOGLE_SPF_INCLUDE,),
        dkim_selectors=("google",),
        optional_dkim_selectors=(),
        needs_autodiscover=False,
        needs_ms_verification=False,
        low_mx_ttl=False,
    ),
    MigrationPhase.COEXISTENCE: Expectation(
        mx_provider=MailProvider.GOOGLE,
        spf_includes=(GOOGLE_SPF_INCLUDE, MICROSOFT_SPF_INCLUDE),
        dkim_selectors=("google",),
        optional_dkim_selectors=("selector1", "selector2"),
        needs_autodiscover=False,
        needs_ms_verification=True,
        low_mx_ttl=True,
    ),
    MigrationPhase.OFFICE365: Expectation(
        mx_provider=MailProvider.MICROSOFT,
        spf_includes=(MICROSOFT_SPF_INCLUDE,),
        dkim_selectors=("selector1", "selector2"),
        optional_dkim_selectors=(),
        needs_autodiscover=True,
        needs_ms_verification=True,
        low_mx_ttl=False,
    ),
}


def dashed(domain: str) -> str:
    """``contoso.com`` -> ``contoso-com``, as Microsoft builds MX and DKIM names."""
    return domain.replace(".", "-")


def microsoft_mx(domain: str) -> str:
    """The Microsoft 365 MX host of a domain (``contoso-com.mail.protection.outlook.com``)."""
    return f"{dashed(domain)}.mail.protection.outlook.com"


def microsoft_dkim_target(domain: str, selector: str, tenant: str | None) -> str:
    """The CNAME target Microsoft 365 shows for a DKIM selector (tenant from the admin centre)."""
    initial = tenant or "<tenant>"
    return f"{selector}-{dashed(domain)}._domainkey.{initial}.onmicrosoft.com"


def mx_provider(host: str) -> MailProvider:
    """Google, Microsoft or other, for one MX host."""
    name = host.rstrip(".").lower()
    if any(name == s or name.endswith("." + s) for s in GOOGLE_MX_SUFFIXES):
        return MailProvider.GOOGLE
    if any(name.endswith(s) for s in MICROSOFT_MX_SUFFIXES):
        return MailProvider.MICROSOFT
    return MailProvider.OTHER
