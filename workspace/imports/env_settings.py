"""Recognising the mail settings of one prefix in a parsed ``.env`` file.

Settings are recognised by prefix: ``<P>_HOST``/``<P>_SERVER`` with
``<P>_USERNAME``/``_USER``/``_LOGIN``, ``<P>_PASSWORD``/``_PASS``/
``_APP_PASSWORD``, ``<P>_PORT``, ``<P>_USE_SSL``, ``<P>_USE_TLS``,
``<P>_SECURITY``/``_ENCRYPTION``, ``<P>_MAILBOX``/``_FOLDER``,
``<P>_FROM_EMAIL``/``_FROM_ADDRESS``/``_FROM`` and ``<P>_FROM_NAME``.
Django (``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``, ``DEFAULT_FROM_EMAIL``)
and Laravel (``MAIL_ENCRYPTION``, ``MAIL_FROM_ADDRESS``) spellings are
understood. The prefixes ``IMAP``, ``SMTP``, ``OC_INBOX``, ``MAIL`` and
``EMAIL`` count with a host and a username or from address; any other prefix
needs a host and a username.

Security comes from a true ``USE_SSL`` (tls) or ``USE_TLS`` (starttls), then
``SECURITY``/``ENCRYPTION``, then the port; false flags do not force plain
text. A prefix is IMAP when its name says IMAP/INBOX/POP, SMTP when it says
SMTP (MAIL/EMAIL too, unless the port is 993 or 143), otherwise the port
(or an ``imap.``/``smtp.`` host) decides.

Each usable prefix becomes one :class:`MailSource`; grouping sources into
accounts is :mod:`workspace.imports.env_import`'s job. Secrets never appear in messages.
"""

from __future__ import annotations

import contextlib
import email.utils
from dataclasses import dataclass, field

from probes.mail.address import parse_port, split_host_port
from probes.mail.model import Protocol, Security
from workspace.accounts.address import is_mailbox_address
from workspace.accounts.model import (
    AccountRole,
    MailEndpoint,
    default_port,
)
from workspace.imports.dotenv import EnvEntry, EnvFile, EnvProblem
from workspace.imports.env_secrets import is_gmail_host, secret_of

KNOWN_PREFIXES = frozenset({"IMAP", "SMTP", "OC_INBOX", "MAIL", "EMAIL"})

# field -> suffixes, in order of preference when several are present.
ALIASES: dict[str, tuple[str, ...]] = {
    "host": ("HOST", "SERVER"),
    "username": ("USERNAME", "USER", "LOGIN"),
    "password": ("PASSWORD", "PASS", "APP_PASSWORD"),
    "port": ("PORT",),
    "use_ssl": ("USE_SSL",),
    "use_tls": ("USE_TLS",),
    "security": ("SECURITY", "ENCRYPTION"),
    "mailbox": ("MAILBOX", "FOLDER"),
    "from_email": ("FROM_EMAIL", "FROM_ADDRESS", "FROM"),
    "from_name": ("FROM_NAME",),
}
_SUFFIXES: list[tuple[str, str]] = sorted(
    ((suffix, name) for name, suffixes in ALIASES.items() for suffix in suffixes),
    key=lambda pair: -len(pair[0]),
)
IMAP_PORTS = frozenset({993, 143})
SMTP_PORTS = frozenset({25, 465, 587, 2525})
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


@dataclass
class PrefixSettings:
    """The settings sharing one prefix, as found in the file.

    ``fields`` maps a field name (``host``, ``username``, ...) to its
    definitions as (alias rank, entry); the lowest rank is preferred.
    """

    name: str
    fields: dict[str, list[tuple[int, EnvEntry]]] = field(default_factory=dict)

    @property
    def first_line(self) -> int:
        """The line of the first setting with this prefix."""
        return min(entry.line for pairs in self.fields.values() for _, entry in pairs)

    def add(self, name: str, rank: int, entry: EnvEntry) -> None:
        """Record a definition of field ``name`` with its alias rank."""
        self.fields.setdefault(name, []).append((rank, entry))

    def pick(self, name: str, warnings: list[str]) -> EnvEntry | None:
        """The preferred definition of a field; a warning when aliases disagree."""
        pairs = sorted(self.fields.get(name, []), key=lambda pair: pair[0])
        if not pairs:
            return None
        chosen = pairs[0][1]
        ignored = [e.key for _, e in pairs[1:] if e.value != chosen.value]
        if ignored:
            warnings.append(f"{chosen.key} is used; {', '.join(ignored)} (different) ignored")
        return chosen

    def value(self, name: str) -> str:
        """The stripped value of the preferred definition of a field ("" if none)."""
        pairs = sorted(self.fields.get(name, []), key=lambda pair: pair[0])
        return pairs[0][1].value.strip() if pairs else ""


@dataclass
class MailSource:
    """One prefix understood as one protocol role of one login."""

    prefix: str
    protocol: Protocol
    role: AccountRole
    endpoint: MailEndpoint
    username: str
    from_email: str
    from_name: str
    mailbox: str
    password: EnvEntry | None
    secret: str | None
    app_password: bool
    keys: list[EnvEntry]

    @property
    def login(self) -> str:
        """The username, or the from address when there is none."""
        return self.username or self.from_email

    @property
    def first_line(self) -> int:
        """The line of the first setting of this source."""
        return min(entry.line for entry in self.keys)


def field_of(key: str) -> tuple[str, str, int] | None:
    """(prefix, field, alias rank) of a key that looks like a mail setting."""
    upper = key.upper()
    if upper == "DEFAULT_FROM_EMAIL":
        return "EMAIL", "from_email", 9
    for suffix, name in _SUFFIXES:
        if upper.endswith("_" + suffix) and len(upper) > len(suffix) + 1:
            return upper[: -len(suffix) - 1], name, ALIASES[name].index(suffix)
    return None


def collect_prefixes(env: EnvFile) -> dict[str, PrefixSettings]:
    """The mail settings of a parsed file by prefix (the last definition of a key wins)."""
    effective: dict[str, EnvEntry] = {}
    for entry in env.entries:
        effective.pop(entry.key, None)
        effective[entry.key] = entry
    prefixes: dict[str, PrefixSettings] = {}
    for entry in sorted(effective.values(), key=lambda e: e.line):
        found = field_of(entry.key)
        if found is None:
            continue
        prefix, name, rank = found
        for tail in ("_HOST", "_SERVER"):  # EMAIL_HOST_USER, IMAP_SERVER_PORT
            if prefix.endswith(tail) and len(prefix) > len(tail):
                prefix = prefix[: -len(tail)]
                rank += 5
                break
        prefixes.setdefault(prefix, PrefixSettings(prefix)).add(name, rank, entry)
    return prefixes


def is_mail_named(prefix: str) -> bool:
    """True when a prefix's name says it is about mail (IMAP, SMTP, MAIL, INBOX, POP)."""
    return any(word in prefix for word in ("IMAP", "SMTP", "MAIL", "INBOX", "POP"))


def _quiet_port(prefix: PrefixSettings) -> int | None:
    with contextlib.suppress(ValueError):
        return parse_port(prefix.value("port"))
    return None


def _protocol(prefix: PrefixSettings) -> Protocol | None:
    name = prefix.name
    words = set(name.split("_"))
    port = _quiet_port(prefix)
    if "IMAP" in name or "INBOX" in name or "POP" in words or "POP3" in name:
        return Protocol.IMAP
    if "SMTP" in name:
        return Protocol.SMTP
    if "MAIL" in name:
        return Protocol.IMAP if port in IMAP_PORTS else Protocol.SMTP
    if port in IMAP_PORTS:
        return Protocol.IMAP
    if port in SMTP_PORTS:
        return Protocol.SMTP
    host = prefix.value("host").lower()
    if host.startswith(("imap.", "imap-")):
        return Protocol.IMAP
    if host.startswith(("smtp.", "smtp-")):
        return Protocol.SMTP
    return None


def _role(prefix: str, protocol: Protocol) -> AccountRole:
    if protocol is Protocol.SMTP:
        return AccountRole.SENDER
    if "INBOX" in prefix or "ORDER" in prefix or "OC" in prefix.split("_"):
        return AccountRole.ORDER_INBOX
    return AccountRole.MONITORING


def _boolean(entry: EnvEntry | None, problems: list[EnvProblem]) -> bool:
    if entry is None:
        return False
    text = entry.value.strip().lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        problems.append(
            EnvProblem(
                entry.line, f"{entry.key} must be true or false (true/1/yes/on, false/0/no/off)"
            )
        )
    return False


def _by_port(port: int | None, protocol: Protocol) -> Security | None:
    if port in (465, 993):
        return Security.TLS
    if port in (587, 143, 25, 2525):
        return Security.STARTTLS
    if port is None:
        return Security.TLS if protocol is Protocol.IMAP else Security.STARTTLS
    return None


def _security(
    prefix: PrefixSettings,
    protocol: Protocol,
    port: int | None,
    problems: list[EnvProblem],
    warnings: list[str],
) -> Security | None:
    ssl_entry = prefix.pick("use_ssl", warnings)
    tls_entry = prefix.pick("use_tls", warnings)
    use_ssl = _boolean(ssl_entry, problems)
    use_tls = _boolean(tls_entry, problems)
    if use_ssl and use_tls and ssl_entry is not None and tls_entry is not None:
        problems.append(
            EnvProblem(tls_entry.line, f"{ssl_entry.key} and {tls_entry.key} are both true")
        )
        return None
    if use_ssl:
        return Security.TLS
    if use_tls:
        return Security.STARTTLS
    chosen = prefix.pick("security", warnings)
    mode = chosen.value.strip().lower() if chosen is not None else ""
    if mode in ("ssl", "implicit", "smtps", "imaps"):
        return Security.TLS
    if mode == "tls":  # Laravel: "tls" is STARTTLS on 587, implicit TLS on 465
        if port in (465, 993) or (port is None and protocol is Protocol.IMAP):
            return Security.TLS
        return Security.STARTTLS
    if mode == "starttls":
        return Security.STARTTLS
    if mode in ("none", "plain", "off", "false"):
        return Security.NONE
    if chosen is not None and mode not in ("", "null"):
        problems.append(EnvProblem(chosen.line, f"{chosen.key} must be ssl, tls, starttls or none"))
        return None
    guessed = _by_port(port, protocol)
    if guessed is None:
        guessed = Security.TLS if protocol is Protocol.IMAP else Security.STARTTLS
        warnings.append(
            f"{prefix.name}: port {port} does not tell the security; assuming "
            f"{guessed.value} (check it)"
        )
    return guessed


def _address(text: str) -> tuple[str, str]:
    """(address, display name) of ``user@x`` or ``Name <user@x>``; address "" if none."""
    name, address = email.utils.parseaddr(text.strip())
    if address and is_mailbox_address(address):
        return address, name
    return "", ""


def _source(
    prefix: PrefixSettings,
    protocol: Protocol,
    problems: list[EnvProblem],
    warnings: list[str],
) -> MailSource | None:
    name = prefix.name
    before = len(problems)
    host_entry = prefix.pick("host", warnings)
    assert host_entry is not None
    port: int | None = None
    host_text = host_entry.value.strip()
    port_entry = prefix.pick("port", warnings)
    if port_entry is not None and port_entry.value.strip():
        try:
            port = parse_port(port_entry.value.strip())
        except ValueError:
            problems.append(
                EnvProblem(port_entry.line, f"{port_entry.key} is not a port number (1-65535)")
            )
    try:
        host, inline_port = split_host_port(host_text)
    except ValueError:
        what = "is blank" if not host_text else "is not a host name (or host:port)"
        problems.append(EnvProblem(host_entry.line, f"{host_entry.key} {what}"))
        host, inline_port = "", None
    port = port if port is not None else inline_port
    security = _security(prefix, protocol, port, problems, warnings)
    if len(problems) > before or security is None:
        return None
    endpoint = MailEndpoint(host, port or default_port(protocol, security), security)
    username_entry = prefix.pick("username", warnings)
    username = username_entry.value.strip() if username_entry else ""
    from_entry = prefix.pick("from_email", warnings)
    from_email, display = _address(from_entry.value) if from_entry else ("", "")
    if from_entry is not None and from_entry.value.strip() and not from_email:
        warnings.append(f"{from_entry.key} is not an e-mail address; ignored")
    from_name = prefix.value("from_name") or display
    if "${" in from_name:
        warnings.append(f"{name}_FROM_NAME refers to another variable; not imported")
        from_name = ""
    password = prefix.pick("password", warnings)
    secret, app_password = secret_of(password, is_gmail_host(host), warnings)
    if password is None:
        warnings.append(f"{name} has no password setting; no secret stored")
    keys = [entry for pairs in prefix.fields.values() for _, entry in pairs]
    return MailSource(
        prefix=name,
        protocol=protocol,
        role=_role(name, protocol),
        endpoint=endpoint,
        username=username,
        from_email=from_email,
        from_name=from_name,
        mailbox=prefix.value("mailbox") if protocol is Protocol.IMAP else "",
        password=password,
        secret=secret,
        app_password=app_password,
        keys=sorted(keys, key=lambda e: e.line),
    )


def mail_sources(
    prefixes: dict[str, PrefixSettings], problems: list[EnvProblem], warnings: list[str]
) -> list[MailSource]:
    """The usable prefixes as sources, in file order; skipped prefixes become warnings.

    A prefix whose settings are wrong adds a problem naming the key and line
    and gives no source.
    """
    found: list[MailSource] = []
    for prefix in sorted(prefixes.values(), key=lambda p: p.first_line):
        has = prefix.fields.keys()
        known = prefix.name in KNOWN_PREFIXES
        if "host" not in has:
            if is_mail_named(prefix.name) and {"username", "password"} <= has:
                warnings.append(
                    f"{prefix.name} has a username and password but no {prefix.name}_HOST; skipped"
                )
            continue
        if "username" not in has and not (known and "from_email" in has):
            if known or is_mail_named(prefix.name):
                warnings.append(
                    f"{prefix.name} has a host but no username or from address; skipped"
                )
            continue
        protocol = _protocol(prefix)
        if protocol is None:
            warnings.append(
                f"{prefix.name}: cannot tell whether it is IMAP or SMTP (the name has no "
                "IMAP/SMTP/MAIL and the port is not a mail port); skipped"
            )
            continue
        if "POP" in prefix.name.split("_") or "POP3" in prefix.name:
            warnings.append(f"{prefix.name}: mxpilot speaks IMAP, not POP3; check the port")
        source = _source(prefix, protocol, problems, warnings)
        if source is not None:
            found.append(source)
    return found
