"""Importing a ``.env`` file: recognising mail settings, planning accounts, rewriting the file."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.mail.model import Security
from workspace.accounts.model import AccountRole, AuthKind, MailEndpoint, Side, validate
from workspace.imports.dotenv import parse_env, read_env
from workspace.imports.env_import import EnvImportPlan, plan_env_import
from workspace.imports.env_rewrite import EnvChangedError, rewrite_env
from workspace.imports.env_secrets import is_placeholder

SECRET = "K0ntr0l!OC#2025$Sys"
OTHER_SECRET = "Zq9-otra!Clave_77"

# The block of section "1. Archivo `.env`" of seed 002, with a real-looking fake password.
SEED_ENV = """\
# ==================== CORREO DE MONITOREO (IMAP) ====================
# Casilla donde llegan las confirmaciones
IMAP_HOST=outlook.office365.com        # Cambio: era imap.gmail.com
IMAP_PORT=993
IMAP_USERNAME=controloc@hotelsales.cl  # Cambio: era seguimientoocx@gmail.com
IMAP_PASSWORD=[CONTRASEÑA_SEGURA]      # Cambio: nueva contraseña
IMAP_MAILBOX=INBOX
IMAP_USE_SSL=True

# ==================== CORREO DE ENVÍO (SMTP) ====================
# Casilla desde la cual se envían las solicitudes de OC
SMTP_HOST=smtp.office365.com           # Cambio: era smtp.gmail.com
SMTP_PORT=587
SMTP_USERNAME=controloc@hotelsales.cl  # Cambio: era seguimientoocx@gmail.com
SMTP_PASSWORD=[CONTRASEÑA_SEGURA]      # Cambio: nueva contraseña
SMTP_FROM_EMAIL=controloc@hotelsales.cl  # Cambio
SMTP_FROM_NAME=Kontrol Travel - Administración
SMTP_USE_TLS=True

# ==================== CORREO DE RECEPCIÓN DE OC ====================
# Casilla donde las agencias envían las órdenes de compra
OC_INBOX_HOST=outlook.office365.com    # Cambio: era imap.gmail.com
OC_INBOX_PORT=993
OC_INBOX_USERNAME=controloc@hotelsales.cl  # Cambio
OC_INBOX_PASSWORD=[CONTRASEÑA_SEGURA]  # Cambio
OC_INBOX_MAILBOX=INBOX
OC_INBOX_USE_SSL=True
"""
PASSWORD_LINES = {"IMAP_PASSWORD": 6, "SMTP_PASSWORD": 15, "OC_INBOX_PASSWORD": 25}


def seed_text(secret: str = SECRET) -> str:
    """The seed's block with every placeholder replaced by ``secret``."""
    return SEED_ENV.replace("[CONTRASEÑA_SEGURA]", secret)


def plan_of(
    text: str,
    *,
    path: Path | None = None,
    side: Side = Side.SERVICE,
    existing_names: set[str] | None = None,
) -> EnvImportPlan:
    """The plan of a ``.env`` text."""
    return plan_env_import(
        parse_env(text), path=path, side=side, existing_names=existing_names or set()
    )


def assert_no_secret(plan: EnvImportPlan, *secrets: str) -> None:
    """No secret in the plan's repr, problems, warnings or preview."""
    shown = "\n".join([repr(plan), *map(str, plan.problems), *plan.warnings, *plan.preview_lines()])
    for secret in secrets:
        assert secret not in shown


def test_seed_layout_is_one_account_in_three_roles(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(seed_text(), encoding="utf-8")
    plan = plan_env_import(read_env(path), path=path)
    assert plan.ok and plan.problems == [] and plan.warnings == []
    (planned,) = plan.accounts
    account = planned.account
    assert account.name == "controloc"
    assert account.address == "controloc@hotelsales.cl"
    assert account.username == "controloc@hotelsales.cl"
    assert account.side is Side.SERVICE
    assert account.provider == "office365"
    assert account.roles == (AccountRole.MONITORING, AccountRole.SENDER, AccountRole.ORDER_INBOX)
    assert account.imap == MailEndpoint("outlook.office365.com", 993, Security.TLS)
    assert account.smtp == MailEndpoint("smtp.office365.com", 587, Security.STARTTLS)
    assert account.auth is AuthKind.PASSWORD
    assert account.notes == "imported from .env"
    assert account.extra == {
        "monitoring.mailbox": "INBOX",
        "sender.from-name": "Kontrol Travel - Administración",
        "sender.from-email": "controloc@hotelsales.cl",
        "order-inbox.mailbox": "INBOX",
    }
    assert validate(account) == account
    assert planned.secret == SECRET
    assert {e.key: e.line for e in planned.secret_keys} == PASSWORD_LINES
    assert planned.keys[0] == "IMAP_HOST" and "OC_INBOX_USE_SSL" in planned.keys
    assert len(planned.keys) == 19
    assert plan.preview_lines() == [
        "create account controloc <controloc@hotelsales.cl> roles monitoring, sender, "
        "order-inbox, IMAP outlook.office365.com:993 tls, SMTP smtp.office365.com:587 starttls; "
        "secret from IMAP_PASSWORD (line 6), SMTP_PASSWORD (line 15), "
        "OC_INBOX_PASSWORD (line 25) -> keyring"
    ]
    assert_no_secret(plan, SECRET)


def test_seed_placeholders_are_not_secrets() -> None:
    plan = plan_of(SEED_ENV)
    assert plan.ok
    (planned,) = plan.accounts
    assert planned.secret is None and planned.secret_keys == []
    assert planned.account.roles == (
        AccountRole.MONITORING,
        AccountRole.SENDER,
        AccountRole.ORDER_INBOX,
    )
    assert plan.warnings == [
        "IMAP_PASSWORD looks like a placeholder; not stored",
        "SMTP_PASSWORD looks like a placeholder; not stored",
        "OC_INBOX_PASSWORD looks like a placeholder; not stored",
    ]
    assert plan.preview_lines()[0].endswith("; no secret stored (set it later)")


def test_placeholder_joins_the_real_password_of_the_same_login() -> None:
    text = seed_text().replace(f"SMTP_PASSWORD={SECRET}", "SMTP_PASSWORD=changeme")
    plan = plan_of(text)
    (planned,) = plan.accounts
    assert planned.secret == SECRET
    assert [e.key for e in planned.secret_keys] == ["IMAP_PASSWORD", "OC_INBOX_PASSWORD"]
    assert plan.warnings == ["SMTP_PASSWORD looks like a placeholder; not stored"]


@pytest.mark.parametrize(
    "value",
    [
        "[CONTRASEÑA_SEGURA]",
        "changeme",
        "CHANGE_ME",
        "your_password",
        "your-app-password",
        "tu_contraseña",
        "xxx",
        "XXXXXXXX",
        "<password>",
        "***",
        "${SMTP_PASSWORD}",
        "{{ password }}",
        "password",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value", [SECRET, "abcdefghijklmnop", "superpass!", "Yourpass9!x", "x1", "my-dog-42"]
)
def test_real_passwords_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_blank_and_missing_password() -> None:
    plan = plan_of(
        "SMTP_HOST=smtp.example.com\nSMTP_USERNAME=a@example.com\nSMTP_PASSWORD=\n"
        "IMAP_HOST=imap.example.com\nIMAP_USER=b@example.com\n"
    )
    assert plan.ok
    assert [p.secret for p in plan.accounts] == [None, None]
    assert plan.warnings == [
        "SMTP_PASSWORD is blank; no secret stored",
        "IMAP has no password setting; no secret stored",
    ]
    assert plan.accounts[1].account.imap == MailEndpoint("imap.example.com", 993, Security.TLS)


def test_django_layout_with_gmail_app_password() -> None:
    plan = plan_of(
        "DEBUG=False\n"
        "EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend\n"
        "EMAIL_HOST=smtp.gmail.com\n"
        "EMAIL_PORT=587\n"
        "EMAIL_USE_TLS=True\n"
        "EMAIL_USE_SSL=False\n"
        "EMAIL_HOST_USER=seguimientoocx@gmail.com\n"
        'EMAIL_HOST_PASSWORD="abcd efgh ijkl mnop"\n'
        "DEFAULT_FROM_EMAIL=Seguimiento OC <seguimientoocx@gmail.com>\n",
        path=Path("/srv/app/.env"),
        side=Side.SOURCE,
    )
    assert plan.ok, plan.problems
    (planned,) = plan.accounts
    account = planned.account
    assert account.name == "seguimientoocx"
    assert account.address == "seguimientoocx@gmail.com"
    assert account.side is Side.SOURCE
    assert account.provider == "gmail"
    assert account.roles == (AccountRole.SENDER,)
    assert account.smtp == MailEndpoint("smtp.gmail.com", 587, Security.STARTTLS)
    assert account.imap is None
    assert account.auth is AuthKind.APP_PASSWORD
    assert account.extra["sender.from-name"] == "Seguimiento OC"
    assert planned.secret == "abcdefghijklmnop"
    assert [e.key for e in planned.secret_keys] == ["EMAIL_HOST_PASSWORD"]
    assert "app password from EMAIL_HOST_PASSWORD (line 8)" in plan.preview_lines()[0]
    assert_no_secret(plan, "abcd efgh", "abcdefghijklmnop")


def test_laravel_layout() -> None:
    plan = plan_of(
        "APP_NAME=Kontrol\n"
        "MAIL_MAILER=smtp\n"
        "MAIL_HOST=smtp.office365.com\n"
        "MAIL_PORT=587\n"
        "MAIL_USERNAME=controloc@hotelsales.cl\n"
        f"MAIL_PASSWORD='{SECRET}'\n"
        "MAIL_ENCRYPTION=tls\n"
        'MAIL_FROM_ADDRESS="${MAIL_USERNAME}"\n'
        'MAIL_FROM_NAME="${APP_NAME}"\n'
    )
    assert plan.ok, plan.problems
    (planned,) = plan.accounts
    assert planned.account.smtp == MailEndpoint("smtp.office365.com", 587, Security.STARTTLS)
    assert planned.account.address == "controloc@hotelsales.cl"
    assert planned.account.roles == (AccountRole.SENDER,)
    assert planned.secret == SECRET
    assert planned.account.extra == {}
    assert plan.warnings == [
        "MAIL_FROM_ADDRESS is not an e-mail address; ignored",
        "MAIL_FROM_NAME refers to another variable; not imported",
    ]


@pytest.mark.parametrize(
    ("lines", "endpoint"),
    [
        ("MAIL_ENCRYPTION=ssl\nMAIL_PORT=465", ("smtp", 465, Security.TLS)),
        ("MAIL_ENCRYPTION=tls\nMAIL_PORT=465", ("smtp", 465, Security.TLS)),
        ("MAIL_ENCRYPTION=null\nMAIL_PORT=25", ("smtp", 25, Security.STARTTLS)),
        ("MAIL_ENCRYPTION=none\nMAIL_PORT=25", ("smtp", 25, Security.NONE)),
        ("MAIL_ENCRYPTION=tls", ("smtp", 587, Security.STARTTLS)),
        ("MAIL_USE_SSL=yes", ("smtp", 465, Security.TLS)),
        ("MAIL_PORT=993", ("imap", 993, Security.TLS)),
        ("MAIL_PORT=143", ("imap", 143, Security.STARTTLS)),
        ("MAIL_PORT=2525", ("smtp", 2525, Security.STARTTLS)),
        ("MAIL_SECURITY=STARTTLS\nMAIL_PORT=1025", ("smtp", 1025, Security.STARTTLS)),
    ],
)
def test_security_and_protocol(lines: str, endpoint: tuple[str, int, Security]) -> None:
    plan = plan_of(f"MAIL_HOST=mail.example.com\nMAIL_USERNAME=a@example.com\n{lines}\n")
    assert plan.ok, plan.problems
    account = plan.accounts[0].account
    protocol, port, security = endpoint
    assert getattr(account, protocol) == MailEndpoint("mail.example.com", port, security)


def test_unknown_port_security_is_a_warning() -> None:
    plan = plan_of("SMTP_HOST=127.0.0.1\nSMTP_PORT=1025\nSMTP_USER=dev@example.test\n")
    assert plan.ok
    assert plan.accounts[0].account.smtp == MailEndpoint("127.0.0.1", 1025, Security.STARTTLS)
    assert "port 1025 does not tell the security" in plan.warnings[0]


def test_other_prefixes() -> None:
    plan = plan_of(
        "NOTIFY_SMTP_HOST=smtp.example.com\n"
        "NOTIFY_SMTP_USERNAME=alerts@example.com\n"
        f"NOTIFY_SMTP_PASSWORD={OTHER_SECRET}\n"
        "ALERTS_SERVER=mail.example.com\n"
        "ALERTS_LOGIN=watch@example.com\n"
        "ALERTS_PORT=993\n"
        "ORDERS_HOST=mail.example.com\n"
        "ORDERS_USER=orders@example.com\n"
        "ORDERS_PORT=143\n"
        "DB_HOST=db.internal\n"
        "DB_USER=app\n"
        f"DB_PASSWORD={SECRET}\n"
        "DB_PORT=5432\n"
        "REDIS_HOST=localhost\n"
    )
    assert plan.ok, plan.problems
    by_name = {p.account.name: p.account for p in plan.accounts}
    assert set(by_name) == {"alerts", "watch", "orders"}
    assert by_name["alerts"].roles == (AccountRole.SENDER,)
    assert by_name["watch"].roles == (AccountRole.MONITORING,)
    assert by_name["watch"].imap == MailEndpoint("mail.example.com", 993, Security.TLS)
    assert by_name["orders"].roles == (AccountRole.ORDER_INBOX,)
    assert by_name["orders"].imap == MailEndpoint("mail.example.com", 143, Security.STARTTLS)
    assert any(w.startswith("DB: cannot tell whether it is IMAP or SMTP") for w in plan.warnings)
    assert not any("REDIS" in w for w in plan.warnings)
    assert_no_secret(plan, SECRET, OTHER_SECRET)


def test_same_user_different_passwords_are_separate_accounts() -> None:
    text = seed_text().replace(f"SMTP_PASSWORD={SECRET}", f"SMTP_PASSWORD={OTHER_SECRET}")
    plan = plan_of(text, existing_names={"Controloc"})
    assert plan.ok
    names = [p.account.name for p in plan.accounts]
    assert names == ["controloc-2", "controloc-3"]
    first, second = plan.accounts
    assert first.account.roles == (AccountRole.MONITORING, AccountRole.ORDER_INBOX)
    assert first.secret == SECRET
    assert second.account.roles == (AccountRole.SENDER,)
    assert second.secret == OTHER_SECRET
    assert [e.key for e in second.secret_keys] == ["SMTP_PASSWORD"]
    assert plan.warnings == [
        "IMAP_PASSWORD, OC_INBOX_PASSWORD, SMTP_PASSWORD differ for the same login "
        "controloc@hotelsales.cl; planned as separate accounts"
    ]
    assert_no_secret(plan, SECRET, OTHER_SECRET)


def test_same_login_on_two_imap_servers_is_split() -> None:
    text = seed_text().replace("OC_INBOX_HOST=outlook.office365.com", "OC_INBOX_HOST=imap.x.cl")
    plan = plan_of(text)
    assert plan.ok
    assert [p.account.name for p in plan.accounts] == ["controloc", "controloc-2"]
    assert plan.accounts[1].account.imap == MailEndpoint("imap.x.cl", 993, Security.TLS)
    assert "OC_INBOX logs in like IMAP but uses another server" in plan.warnings[0]


def test_bad_values_are_precise_problems() -> None:
    text = (
        seed_text()
        .replace("IMAP_USE_SSL=True", "IMAP_USE_SSL=sí")
        .replace("SMTP_PORT=587", "SMTP_PORT=70000")
    )
    plan = plan_of(text)
    assert not plan.ok
    assert [(p.line, p.message) for p in plan.problems] == [
        (8, "IMAP_USE_SSL must be true or false (true/1/yes/on, false/0/no/off)"),
        (13, "SMTP_PORT is not a port number (1-65535)"),
    ]
    assert [p.account.name for p in plan.accounts] == ["controloc"]  # OC_INBOX alone


def test_both_ssl_and_tls_and_bad_security() -> None:
    plan = plan_of(
        "EMAIL_HOST=smtp.example.com\nEMAIL_HOST_USER=a@example.com\n"
        "EMAIL_USE_SSL=1\nEMAIL_USE_TLS=on\n"
        "MAIL_HOST=smtp.example.com\nMAIL_USERNAME=b@example.com\nMAIL_ENCRYPTION=ssl3\n"
    )
    assert [(p.line, p.message) for p in plan.problems] == [
        (4, "EMAIL_USE_SSL and EMAIL_USE_TLS are both true"),
        (7, "MAIL_ENCRYPTION must be ssl, tls, starttls or none"),
    ]


def test_no_address_and_invalid_account() -> None:
    plan = plan_of(
        "IMAP_HOST=outlook.office365.com\nIMAP_USERNAME=controloc\n"
        "SMTP_HOST=smtp.office365.com\nSMTP_USERNAME=con trol\nSMTP_FROM=x@hotelsales.cl\n"
        "OC_INBOX_HOST=bad/host\nOC_INBOX_USERNAME=oc@hotelsales.cl\nOC_INBOX_PORT=993\n"
    )
    assert [(p.line, p.message) for p in plan.problems] == [
        (1, "no e-mail address for prefix IMAP"),
        (3, "SMTP: username: a username has no spaces (usually it is the full address)"),
        (6, "OC_INBOX_HOST is not a host name (or host:port)"),
    ]
    assert plan.accounts == []


def test_host_with_port() -> None:
    plan = plan_of("SMTP_HOST=smtp.example.com:465\nSMTP_USERNAME=a@example.com\n")
    assert plan.accounts[0].account.smtp == MailEndpoint("smtp.example.com", 465, Security.TLS)


def test_parse_problems_on_mail_keys_stop_the_import() -> None:
    text = seed_text() + f"SMTP_PASSWORD='{OTHER_SECRET}\n" + "IMAP_HOST outlook\n"
    plan = plan_of(text)
    assert [p.line for p in plan.problems] == [28, 29]
    assert_no_secret(plan, OTHER_SECRET)


def test_parse_problems_elsewhere_are_warnings() -> None:
    text = seed_text() + 'JWT_KEY="-----BEGIN\nMIIE==\n-----END"\nDATABASE_URL="x" y\n'
    plan = plan_of(text)
    assert plan.ok
    assert plan.warnings == [
        "line 28: the value of JWT_KEY spans lines 28-30; multi-line values are not supported "
        "(not a mail setting; ignored)",
        "line 31: text after the closing quote of the value of DATABASE_URL "
        "(not a mail setting; ignored)",
    ]


def test_duplicated_keys_are_warned() -> None:
    text = seed_text() + "IMAP_PORT=993\n"
    plan = plan_of(text)
    assert plan.ok
    assert plan.warnings == ["IMAP_PORT is defined on lines 4, 28; line 28 is used"]


def test_app_password_key() -> None:
    plan = plan_of(
        "SMTP_HOST=smtp.example.com\nSMTP_USER=a@example.com\nSMTP_APP_PASSWORD=Pw-not-16-letters\n"
    )
    (planned,) = plan.accounts
    assert planned.account.auth is AuthKind.APP_PASSWORD
    assert planned.secret == "Pw-not-16-letters"


def test_gmail_password_that_is_not_an_app_password() -> None:
    plan = plan_of("SMTP_HOST=smtp.gmail.com\nSMTP_USER=a@gmail.com\nSMTP_PASS=abcd efgh\n")
    (planned,) = plan.accounts
    assert planned.account.auth is AuthKind.PASSWORD
    assert planned.secret == "abcd efgh"


def test_nothing_to_import() -> None:
    plan = plan_of("DEBUG=1\n")
    assert plan.ok and plan.accounts == []
    assert plan.preview_lines() == ["nothing to import: no mail settings found"]


# ---------------------------------------------------------------- rewrite


def moved_comment(key: str) -> bytes:
    """The comment that replaces a moved key's line."""
    text = 'keyring service "mxpilot", account "controloc"'
    return f"# {key} moved to the OS keyring ({text}) by mxpilot on {date.today()}".encode()


def write_seed(path: Path, newline: str, bom: bool, final: bool, mode: int) -> bytes:
    """Write the seed block with real-looking secrets; its bytes."""
    text = seed_text() + f"SMTP_PASSWORD={SECRET}\n"  # a duplicate of a moved key
    if not final:
        text = text.rstrip("\n")
    data = (("\ufeff" if bom else "") + text.replace("\n", newline)).encode()
    path.write_bytes(data)
    path.chmod(mode)
    return data


def assert_secret_gone(directory: Path, secret: str) -> None:
    """No file under ``directory`` holds the secret's bytes."""
    for item in directory.rglob("*"):
        if item.is_file():
            assert secret.encode() not in item.read_bytes(), item


@pytest.mark.parametrize(
    ("newline", "bom", "final", "mode"),
    [("\r\n", True, True, 0o600), ("\n", False, False, 0o640), ("\r\n", False, False, 0o644)],
)
def test_rewrite(tmp_path: Path, newline: str, bom: bool, final: bool, mode: int) -> None:
    path = tmp_path / ".env"
    original = write_seed(path, newline, bom, final, mode)
    env = read_env(path)
    plan = plan_env_import(env, path=path)
    (planned,) = plan.accounts
    text = 'keyring service "mxpilot", account "controloc"'
    rewrite_env(path, env, {e.key: text for e in planned.secret_keys})

    after = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert after.startswith(b"\xef\xbb\xbf") is bom
    assert after.endswith(newline.encode()) is final
    assert [p.name for p in tmp_path.iterdir()] == [".env"]
    assert_secret_gone(tmp_path, SECRET)

    old_lines = original.split(b"\n")
    new_lines = after.split(b"\n")
    assert len(old_lines) == len(new_lines)
    ending = b"\r" if newline == "\r\n" else b""
    replaced = {6, 15, 25, 28}
    for number, (old, new) in enumerate(zip(old_lines, new_lines, strict=True), start=1):
        if number in replaced:
            key = old.removeprefix(b"\xef\xbb\xbf").split(b"=")[0].decode()
            assert new == moved_comment(key) + (ending if number < len(old_lines) or final else b"")
        else:
            assert new == old

    reread = read_env(path)
    assert reread.problems == []
    assert not any(e.key.endswith("PASSWORD") for e in reread.entries)
    assert reread.newline == newline


def test_rewrite_refuses_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(seed_text(), encoding="utf-8")
    env = read_env(path)
    changed = seed_text().replace("IMAP_PORT=993", "IMAP_PORT=143").encode()
    path.write_bytes(changed)
    with pytest.raises(EnvChangedError, match="changed since it was read"):
        rewrite_env(path, env, {"IMAP_PASSWORD": "keyring"})
    assert path.read_bytes() == changed
    assert [p.name for p in tmp_path.iterdir()] == [".env"]
    path.write_bytes(b"\xff")
    with pytest.raises(EnvChangedError):
        rewrite_env(path, env, {"IMAP_PASSWORD": "keyring"})


def test_rewrite_nothing_moved_and_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(seed_text(), encoding="utf-8")
    env = parse_env(path.read_text(encoding="utf-8"))
    rewrite_env(path, env, {})
    assert path.read_text(encoding="utf-8") == seed_text()
    with pytest.raises(ValueError, match="NOPE_PASSWORD not defined"):
        rewrite_env(path, env, {"NOPE_PASSWORD": "keyring"})


def test_rewrite_removes_the_temp_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".env"
    path.write_text(seed_text(), encoding="utf-8")
    env = read_env(path)

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        rewrite_env(path, env, {"IMAP_PASSWORD": "keyring"})
    assert [p.name for p in tmp_path.iterdir()] == [".env"]
    assert path.read_text(encoding="utf-8") == seed_text()


def test_rewrite_keeps_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text(seed_text(), encoding="utf-8")
    link = tmp_path / ".env"
    link.symlink_to(real)
    env = read_env(link)
    rewrite_env(link, env, {"IMAP_PASSWORD": "keyring", "SMTP_PASSWORD": "keyring"})
    assert link.is_symlink()
    assert b"IMAP_PASSWORD moved to the OS keyring (keyring)" in real.read_bytes()


def test_rewrite_sanitises_the_text(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A_PASSWORD=x1\nB=2\n", encoding="utf-8")
    rewrite_env(path, read_env(path), {"A_PASSWORD": "evil\nB=3"})
    env = read_env(path)
    assert [(e.key, e.value) for e in env.entries] == [("B", "2")]


# ---------------------------------------------------------------- properties


def _check_plan(plan: EnvImportPlan) -> None:
    for planned in plan.accounts:
        assert validate(planned.account) == planned.account
        if planned.secret is not None:
            assert planned.secret_keys
    plan.preview_lines()


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_plan_any_text(text: str) -> None:
    _check_plan(plan_env_import(parse_env(text)))


KEYS = st.sampled_from(
    [
        "IMAP_HOST",
        "IMAP_PORT",
        "IMAP_USERNAME",
        "IMAP_PASSWORD",
        "IMAP_USE_SSL",
        "SMTP_SERVER",
        "SMTP_PORT",
        "SMTP_USER",
        "SMTP_PASS",
        "SMTP_USE_TLS",
        "SMTP_FROM_EMAIL",
        "SMTP_FROM_NAME",
        "OC_INBOX_HOST",
        "OC_INBOX_LOGIN",
        "OC_INBOX_APP_PASSWORD",
        "MAIL_ENCRYPTION",
        "MAIL_HOST",
        "MAIL_USERNAME",
        "EMAIL_HOST_USER",
        "EMAIL_HOST",
        "DEFAULT_FROM_EMAIL",
        "X_HOST",
        "X_USER",
        "X_PORT",
        "export IMAP_HOST",
    ]
)
VALUES = st.sampled_from(
    [
        "",
        "outlook.office365.com",
        "smtp.gmail.com",
        "imap.gmail.com:993",
        "bad/host",
        "::1",
        "993",
        "587",
        "465",
        "143",
        "0",
        "x",
        "True",
        "no",
        "ssl",
        "tls",
        "controloc@hotelsales.cl",
        "Name <a@b.c>",
        "a b@c",
        "@",
        "abcd efgh ijkl mnop",
        "[CONTRASEÑA_SEGURA]",
        SECRET,
        "'quoted # x'",
        '"unterminated',
        "${APP}",
        "ñ" * 70 + "@x.cl",
    ]
)
ASSIGNMENT = st.tuples(KEYS, st.sampled_from(["=", " = ", " "]), VALUES).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(ASSIGNMENT, max_size=14), st.sampled_from(["\n", "\r\n"]))
def test_plan_mail_like_text(lines: list[str], newline: str) -> None:
    plan = plan_env_import(parse_env(newline.join(lines)), existing_names={"controloc"})
    _check_plan(plan)
    assert_no_secret(plan, SECRET)
    names = [p.account.name.lower() for p in plan.accounts]
    assert len(names) == len(set(names)) and "controloc" not in names
