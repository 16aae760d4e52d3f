"""Planning the accounts an application's ``.env`` file describes.

The mail settings of each prefix are recognised by :mod:`workspace.imports.env_settings`.
Prefixes logging in with the same username and password become one account
with several roles (the seeds' order system: one mailbox as monitoring inbox,
sender and purchase-order inbox). The plan is all-or-nothing: when it has
problems the caller imports nothing. Secrets never appear in messages.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from probes.mail.model import Protocol
from workspace.accounts.address import is_mailbox_address
from workspace.accounts.model import (
    Account,
    AccountError,
    AuthKind,
    Side,
    account_name,
    guess_provider,
    unique_name,
    validate,
)
from workspace.imports.dotenv import EnvEntry, EnvFile, EnvProblem, line_key
from workspace.imports.env_settings import (
    MailSource,
    collect_prefixes,
    field_of,
    is_mail_named,
    mail_sources,
)


@dataclass
class PlannedAccount:
    """An account the import would create, with its secret (kept out of ``repr``)."""

    account: Account
    secret: str | None = field(default=None, repr=False)
    secret_keys: list[EnvEntry] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class EnvImportPlan:
    """What importing a ``.env`` file would do; import only when :attr:`ok`."""

    path: Path | None
    accounts: list[PlannedAccount] = field(default_factory=list)
    problems: list[EnvProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing stops the import."""
        return not self.problems

    def preview_lines(self) -> list[str]:
        """One human line per planned account (never a secret)."""
        if not self.accounts:
            return ["nothing to import: no mail settings found"]
        return [_preview(planned) for planned in self.accounts]


def _preview(planned: PlannedAccount) -> str:
    account = planned.account
    parts = [
        f"create account {account.name} <{account.address}> roles "
        + ", ".join(role.value for role in account.roles)
    ]
    for label, endpoint in (("IMAP", account.imap), ("SMTP", account.smtp)):
        if endpoint is not None:
            parts.append(f"{label} {endpoint.label}")
    text = ", ".join(parts)
    kind = "app password" if account.auth is AuthKind.APP_PASSWORD else "secret"
    if planned.secret is not None and planned.secret_keys:
        sources = ", ".join(f"{e.key} (line {e.line})" for e in planned.secret_keys)
        return f"{text}; {kind} from {sources} -> keyring"
    return f"{text}; no secret stored (set it later)"


def _groups(sources: list[MailSource], warnings: list[str]) -> list[list[MailSource]]:
    """Sources sharing (login, password); placeholders join the one real password."""
    groups: dict[tuple[str, str | None], list[MailSource]] = {}
    for source in sources:
        groups.setdefault((source.login.lower(), source.secret), []).append(source)
    for login, secret in list(groups):
        if secret is not None:
            continue
        real = [key for key in groups if key[0] == login and key[1] is not None]
        if len(real) == 1:
            groups[real[0]].extend(groups.pop((login, None)))
    by_login: dict[str, list[list[MailSource]]] = {}
    for (login, _), members in groups.items():
        by_login.setdefault(login, []).append(members)
    for login, variants in by_login.items():
        if len(variants) > 1:
            keys = ", ".join(m.password.key for members in variants for m in members if m.password)
            warnings.append(
                f"{keys} differ for the same login {login}; planned as separate accounts"
            )
    return [sorted(members, key=lambda s: s.first_line) for members in groups.values()]


def _buckets(group: list[MailSource], warnings: list[str]) -> list[list[MailSource]]:
    """Split a group where roles repeat or servers differ (one account, one server each)."""
    buckets: list[list[MailSource]] = []
    for source in group:
        for bucket in buckets:
            same_protocol = [s for s in bucket if s.protocol is source.protocol]
            if all(s.endpoint == source.endpoint for s in same_protocol) and all(
                s.role is not source.role for s in bucket
            ):
                bucket.append(source)
                break
        else:
            if buckets:
                warnings.append(
                    f"{source.prefix} logs in like {buckets[0][0].prefix} but uses another "
                    "server or repeats a role; planned as a separate account"
                )
            buckets.append([source])
    return buckets


def _plan_bucket(
    bucket: list[MailSource],
    *,
    side: Side,
    notes: str,
    taken: set[str],
    problems: list[EnvProblem],
) -> PlannedAccount | None:
    names = ", ".join(s.prefix for s in bucket)
    first_line = min(s.first_line for s in bucket)
    address = next((s.from_email for s in bucket if s.from_email), "")
    username = next((s.username for s in bucket if s.username), "")
    if not address and is_mailbox_address(username):
        address = username
    if not address:
        for source in bucket:
            problems.append(
                EnvProblem(source.first_line, f"no e-mail address for prefix {source.prefix}")
            )
        return None
    imap = next((s.endpoint for s in bucket if s.protocol is Protocol.IMAP), None)
    smtp = next((s.endpoint for s in bucket if s.protocol is Protocol.SMTP), None)
    provider = "custom"
    for endpoint in (smtp, imap):
        if endpoint is not None and provider == "custom":
            provider = guess_provider(endpoint.host)
    extra: dict[str, str] = {}
    for source in bucket:
        for label, value in (
            ("mailbox", source.mailbox),
            ("from-name", source.from_name),
            ("from-email", source.from_email),
        ):
            if value:
                extra[f"{source.role.value}.{label}"] = value
    secret = next((s.secret for s in bucket if s.secret is not None), None)
    account = Account(
        name=unique_name(account_name(address), taken),
        address=address,
        side=side,
        provider=provider,
        roles=tuple(dict.fromkeys(s.role for s in bucket)),
        imap=imap,
        smtp=smtp,
        username=username,
        auth=AuthKind.APP_PASSWORD if any(s.app_password for s in bucket) else AuthKind.PASSWORD,
        notes=notes,
        extra=extra,
    )
    try:
        account = validate(account)
    except AccountError as exc:
        for key, text in exc.problems.items():
            problems.append(EnvProblem(first_line, f"{names}: {key}: {text}"))
        return None
    secret_keys = [
        s.password for s in bucket if s.password is not None and s.secret == secret and secret
    ]
    keys = sorted({e.key: e.line for s in bucket for e in s.keys}.items(), key=lambda kv: kv[1])
    return PlannedAccount(account, secret, secret_keys, [key for key, _ in keys])


def _file_problems(
    env: EnvFile, prefixes: Collection[str], problems: list[EnvProblem], warnings: list[str]
) -> None:
    """Parse problems: on mail settings (or unknown lines) they stop the import."""
    for problem in env.problems:
        key = None
        if 0 < problem.line <= len(env.lines):
            key = line_key(env.lines[problem.line - 1])
        found = field_of(key) if key else None
        if key and (found is None or (found[0] not in prefixes and not is_mail_named(found[0]))):
            warnings.append(f"{problem} (not a mail setting; ignored)")
        else:
            problems.append(problem)


def plan_env_import(
    env: EnvFile,
    *,
    path: Path | None = None,
    side: Side = Side.SERVICE,
    existing_names: Collection[str] = (),
) -> EnvImportPlan:
    """Plan the accounts a parsed ``.env`` file describes; never raises.

    Every planned account passes :func:`workspace.accounts.model.validate`; what
    stops an account is a problem naming the key and line.
    """
    problems: list[EnvProblem] = []
    warnings: list[str] = []
    prefixes = collect_prefixes(env)
    _file_problems(env, prefixes, problems, warnings)
    sources = mail_sources(prefixes, problems, warnings)
    duplicates = env.duplicates()
    for key in sorted({e.key for s in sources for e in s.keys} & duplicates.keys()):
        lines = duplicates[key]
        warnings.append(
            f"{key} is defined on lines {', '.join(map(str, lines))}; line {lines[-1]} is used"
        )
    notes = f"imported from {path.name}" if path is not None else "imported from a .env file"
    taken = {name.lower() for name in existing_names}
    accounts: list[PlannedAccount] = []
    for group in _groups(sources, warnings):
        for bucket in _buckets(group, warnings):
            planned = _plan_bucket(bucket, side=side, notes=notes, taken=taken, problems=problems)
            if planned is not None:
                accounts.append(planned)
    problems.sort(key=lambda p: p.line)
    return EnvImportPlan(path, accounts, problems, warnings)
