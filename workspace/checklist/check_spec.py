"""What proves a checklist item: a check's kind (probe, DNS, readiness) and its fields."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from probes.dns.profiles import Profile
from probes.mail.model import Protocol
from workspace.accounts.model import AccountRole, Side

DNS_RECORDS: tuple[str, ...] = (
    "mx",
    "spf",
    "dkim",
    "dmarc",
    "autodiscover",
    "ms_verification",
    "mta_sts",
    "tls_rpt",
)
_SIDE_ES = {Side.SOURCE: "origen", Side.TARGET: "destino", Side.SERVICE: "servicio"}
_ROLE_ES = {
    AccountRole.MAILBOX: "buzón",
    AccountRole.MONITORING: "monitoreo",
    AccountRole.SENDER: "envío",
    AccountRole.ORDER_INBOX: "bandeja de OC",
    AccountRole.MIGRATION: "migración",
}


class TemplateError(ValueError):
    """A template (or a stored check spec) that cannot be used, and why."""


class CheckKind(enum.StrEnum):
    """What proves an item: a live probe of accounts, a DNS audit, or the accounts' logins."""

    PROBE = "probe"
    DNS = "dns"
    READINESS = "readiness"  # no account depends on Basic auth (workspace.auth.readiness)


def choices(values: tuple[str, ...] | list[str]) -> str:
    """The values as a comma-separated list, for messages."""
    return ", ".join(values)


E = TypeVar("E", bound=enum.StrEnum)


def _enum_value(kind: type[E], value: object, what: str) -> E:
    """``value`` as a member of ``kind``, or TemplateError naming the choices."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    known = choices([m.value for m in kind])
    raise TemplateError(f"unknown {what} {value!r}; one of {known}")


@dataclass(frozen=True)
class CheckSpec:
    """How mxpilot can verify an item by itself.

    ``probe``: log in to (or, with ``login=False``, only connect to) the
    ``protocol`` server of the accounts on ``side``, optionally only those with
    ``role``. ``dns``: audit ``record`` of the domain against ``profile``.
    """

    kind: CheckKind
    protocol: Protocol | None = None
    side: Side | None = None
    role: AccountRole | None = None
    login: bool = True
    record: str | None = None
    profile: Profile | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, CheckKind):
            raise TemplateError(f"unknown check kind {self.kind!r}; one of probe, dns, readiness")
        if self.kind is CheckKind.READINESS:
            if (self.protocol, self.side, self.role, self.record, self.profile) != (None,) * 5:
                raise TemplateError("a readiness check takes no other field")
            return
        if self.kind is CheckKind.DNS:
            if self.record not in DNS_RECORDS:
                raise TemplateError(
                    f"unknown DNS record {self.record!r}; one of {choices(DNS_RECORDS)}"
                )
            if not isinstance(self.profile, Profile):
                profiles = choices([p.value for p in Profile])
                raise TemplateError(f"a dns check needs a profile: one of {profiles}")
            if self.protocol is not None or self.side is not None or self.role is not None:
                raise TemplateError("a dns check takes record and profile, not protocol/side/role")
            return
        if not isinstance(self.protocol, Protocol):
            raise TemplateError("a probe check needs a protocol: imap or smtp")
        if not isinstance(self.side, Side):
            sides = choices([s.value for s in Side])
            raise TemplateError(f"a probe check needs a side: one of {sides}")
        if self.role is not None and not isinstance(self.role, AccountRole):
            roles = choices([r.value for r in AccountRole])
            raise TemplateError(f"unknown role {self.role!r}; one of {roles}")
        if not isinstance(self.login, bool):
            raise TemplateError(f"login must be true or false, not {self.login!r}")
        if self.record is not None or self.profile is not None:
            raise TemplateError("a probe check takes protocol/side/role/login, not record/profile")

    def label(self, lang: str = "en") -> str:
        """A short description of the check, Spanish when ``lang`` is ``es``, else English.

        ``IMAP login, target accounts (monitoring)``, ``DNS mx (office365)``.
        """
        if self.kind is CheckKind.DNS:
            assert self.profile is not None
            return f"DNS {self.record} ({self.profile.value})"
        if self.kind is CheckKind.READINESS:
            if lang == "es":
                return "Ninguna cuenta depende de la autenticación básica"
            return "No account depends on Basic auth"
        assert self.protocol is not None and self.side is not None
        protocol = self.protocol.value.upper()
        if lang == "es":
            what = f"Inicio de sesión {protocol}" if self.login else f"Conexión {protocol} (TLS)"
            text = f"{what}, cuentas de {_SIDE_ES[self.side]}"
            if self.role is not None:
                text += f" ({_ROLE_ES[self.role]})"
            return text
        what = f"{protocol} login" if self.login else f"{protocol} connection (TLS)"
        text = f"{what}, {self.side.value} accounts"
        if self.role is not None:
            text += f" ({self.role.value})"
        return text

    def to_dict(self) -> dict[str, object]:
        """Plain data (JSON-ready); :meth:`from_dict` reads it back."""
        if self.kind is CheckKind.DNS:
            assert self.profile is not None
            return {"kind": self.kind.value, "record": self.record, "profile": self.profile.value}
        if self.kind is CheckKind.READINESS:
            return {"kind": self.kind.value}
        assert self.protocol is not None and self.side is not None
        data: dict[str, object] = {
            "kind": self.kind.value,
            "protocol": self.protocol.value,
            "side": self.side.value,
        }
        if self.role is not None:
            data["role"] = self.role.value
        data["login"] = self.login
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CheckSpec:
        """A spec from plain data (a template's ``check`` table, or stored JSON).

        Raises :class:`TemplateError` on an unknown kind, key or value.
        """
        if not isinstance(data, Mapping):
            raise TemplateError(f"a check is a table, not {type(data).__name__}")
        kind = _enum_value(CheckKind, data.get("kind"), "check kind")
        allowed = {
            CheckKind.DNS: {"kind", "record", "profile"},
            CheckKind.READINESS: {"kind"},
        }.get(kind, {"kind", "protocol", "side", "role", "login"})
        extra = sorted(set(data) - allowed)
        if extra:
            raise TemplateError(
                f"a {kind.value} check does not take {choices(extra)}; "
                f"it takes {choices(sorted(allowed))}"
            )
        if kind is CheckKind.READINESS:
            return cls(kind=kind)
        if kind is CheckKind.DNS:
            record = data.get("record")
            if not isinstance(record, str) or record not in DNS_RECORDS:
                raise TemplateError(f"unknown DNS record {record!r}; one of {choices(DNS_RECORDS)}")
            profile = _enum_value(Profile, data.get("profile"), "DNS profile")
            return cls(kind=kind, record=record, profile=profile)
        protocol = _enum_value(Protocol, data.get("protocol"), "protocol")
        side = _enum_value(Side, data.get("side"), "side")
        raw_role = data.get("role")
        role = None if raw_role is None else _enum_value(AccountRole, raw_role, "role")
        login = data.get("login", True)
        if not isinstance(login, bool):
            raise TemplateError(f"login must be true or false, not {login!r}")
        return cls(kind=kind, protocol=protocol, side=side, role=role, login=login)
