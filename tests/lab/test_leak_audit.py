"""Leak audit: a whole session of imports, probes, checks and reports leaves no secret on disk.

The session runs the command line in-process (secrets in the in-memory
keyring) against the lab: it imports a seed-style ``.env``, a Django
``.env`` and a migration CSV, probes the accounts with transcripts, verifies
the checklist and exports reports. Then every file the workspace and the run
wrote, and everything it printed, is searched for every secret in every
encoding a mail protocol would send it in.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.memory_keyring import MemoryKeyring
from mxlab.smtp import SmtpLabServer
from mxpilot.cli import main
from tests.conftest import IMAP_USERS
from tests.labkit.browser import LabBrowser

IMAP_USER = "imap@lab.test"
SOURCE_USER = "empty@lab.test"
DJANGO_USER = "notify@lab.test"
DJANGO_SECRET = "dj4ngo-Sm7p!pass#1"


def encodings(secret: str, users: list[str]) -> set[bytes]:
    """A secret as it could appear: raw, base64 (LOGIN), JSON-escaped, inside SASL PLAIN,
    XOAUTH2 and OAUTHBEARER."""
    raw = secret.encode()
    forms = {raw, base64.b64encode(raw), json.dumps(secret).encode()[1:-1]}
    for user in users:
        for sasl in (
            f"\0{user}\0{secret}",
            f"{user}\0{user}\0{secret}",
            f"user={user}\x01auth=Bearer {secret}\x01\x01",
            f"n,a={user},\x01auth=Bearer {secret}\x01\x01",
        ):
            forms.add(base64.b64encode(sasl.encode()))
    return forms


def test_no_secret_in_any_file_the_session_wrote(
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    smtp_server: Callable[..., SmtpLabServer],
    dovecot: Any,
    lab_certs: LabCertificates,
    zones: DnsLab,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imap_secret, source_secret = IMAP_USERS[IMAP_USER], IMAP_USERS[SOURCE_USER]
    smtp = smtp_server("starttls", users={IMAP_USER: imap_secret, DJANGO_USER: DJANGO_SECRET})
    run_dir, inputs = tmp_path / "run", tmp_path / "inputs"
    (run_dir / "app").mkdir(parents=True)
    (run_dir / "django").mkdir()
    inputs.mkdir()
    seed_env = run_dir / "app" / ".env"
    seed_env.write_text(
        "# ==================== CORREO DE MONITOREO (IMAP) ====================\n"
        f"IMAP_HOST=127.0.0.1\nIMAP_PORT={dovecot.imaps_port}\nIMAP_USERNAME={IMAP_USER}\n"
        f"IMAP_PASSWORD={imap_secret}\nIMAP_MAILBOX=INBOX\nIMAP_USE_SSL=True\n\n"
        f"SMTP_HOST=127.0.0.1\nSMTP_PORT={smtp.port}\nSMTP_USERNAME={IMAP_USER}\n"
        f'SMTP_PASSWORD="{imap_secret}"\nSMTP_FROM_EMAIL={IMAP_USER}\n'
        "SMTP_FROM_NAME=Kontrol Travel - Administración\nSMTP_USE_TLS=True\n\n"
        f"OC_INBOX_HOST=127.0.0.1\nOC_INBOX_PORT={dovecot.imaps_port}\n"
        f"OC_INBOX_USERNAME={IMAP_USER}\nOC_INBOX_PASSWORD='{imap_secret}'\n"
        "OC_INBOX_MAILBOX=INBOX\nOC_INBOX_USE_SSL=True\nDEBUG=False\n",
        encoding="utf-8",
    )
    django_env = run_dir / "django" / ".env"
    django_env.write_bytes(
        (
            f"export EMAIL_HOST=127.0.0.1\r\nEMAIL_PORT={smtp.port}\r\nEMAIL_USE_TLS=true\r\n"
            f"EMAIL_HOST_USER={DJANGO_USER}\r\nEMAIL_HOST_PASSWORD={DJANGO_SECRET}\r\n"
        ).encode()
    )
    csv = inputs / "gmail-batch.csv"  # the user's own input file: not written by the run
    csv.write_text(
        f"EmailAddress,UserName,Password\r\nsrc@m365.lab.test,{SOURCE_USER},{source_secret}\r\n",
        encoding="utf-8",
    )
    workspace = run_dir / "workspace"
    workspace.mkdir()
    printed: list[str] = []

    def mx(*argv: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main(["--workspace", str(workspace), *argv])
        out, err = capsys.readouterr()
        printed.extend([out, err])
        return code

    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    imported = mx("accounts", "import-env", str(seed_env), "--side", "target", "--rewrite", "--yes")
    assert imported == 0
    assert mx("accounts", "import-env", str(django_env), "--rewrite", "--yes") == 0
    assert mx("accounts", "import-csv", str(csv), "--provider", "custom", "--yes",
              "--imap", f"127.0.0.1:{dovecot.imap_port}") == 0  # fmt: skip
    assert mx("accounts", "list", "--json") == 0
    listed = {a["address"]: a for a in json.loads(printed[-2])["accounts"]}
    assert {a["secret"] for a in listed.values()} == {"stored"}
    assert set(memory_keyring.entries.values()) == {imap_secret, DJANGO_SECRET, source_secret}
    for address in (IMAP_USER, DJANGO_USER, SOURCE_USER):
        name = listed[address]["name"]
        assert mx("probe", "--account", name, "-v", *lab) == 0, printed[-1]
        assert mx("probe", "--account", name, "--json", "-v", *lab) == 0
        assert mx("accounts", "show", name) == 0
    assert mx("checklist", "new", "--domain", "m365.lab.test", "--lang", "es") == 0
    mx("checklist", "verify", "--nameserver", f"127.0.0.1:{zones.port}", *lab)
    assert mx("checklist", "show", "--json") == 0
    items = json.loads(printed[-2])["items"]
    verified = [i for i in items if i["status"] == "verified"]
    assert any(i["check"].get("kind") == "probe" for i in verified)  # the run was real
    assert mx("checklist", "report", "--output", str(run_dir / "informe.md")) == 0
    html = str(run_dir / "informe.html")
    assert mx("checklist", "report", "--format", "html", "--output", html) == 0
    (run_dir / "printed.txt").write_text("\n".join(printed), encoding="utf-8")

    rewritten = seed_env.read_text(encoding="utf-8")
    assert "IMAP_PASSWORD moved to the OS keyring" in rewritten
    assert "IMAP_HOST=127.0.0.1" in rewritten and "DEBUG=False" in rewritten
    assert django_env.read_bytes().count(b"\r\n") == 5  # CRLF kept

    secrets = {
        imap_secret: [IMAP_USER],
        DJANGO_SECRET: [DJANGO_USER],
        source_secret: [SOURCE_USER],
    }
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {
        "workspace.sqlite3",
        ".env",
        "informe.md",
        "informe.html",
        "printed.txt",
    }
    for path in written:
        data = path.read_bytes()
        for secret, users in secrets.items():
            for form in encodings(secret, users):
                assert form not in data, f"a secret is in {path.relative_to(tmp_path)}"


def test_no_token_in_any_file_an_oauth_session_wrote(
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    smtp_server: Callable[..., SmtpLabServer],
    dovecot_oauth: Any,
    identity: Any,
    lab_certs: LabCertificates,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sign in (device code and browser), probe with XOAUTH2, verify, report: no token on disk."""

    from mxlab.identity import LAB_GOOGLE_CLIENT, LAB_GOOGLE_SECRET, LAB_MS_CLIENT, LAB_USER
    from mxpilot import auth_command

    introspect = {
        "oauth_introspection_url": f"{identity.base_url}/introspect",
        "oauth_ca_file": identity.ca_file,
    }
    smtp = smtp_server("starttls", "o365_basic_disabled", users={}, **introspect)
    gmail = smtp_server("starttls", "gmail_bad_credentials", users={}, **introspect)
    run_dir = tmp_path / "run"
    workspace = run_dir / "workspace"
    workspace.mkdir(parents=True)
    printed: list[str] = []

    def mx(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--workspace", str(workspace), *argv])
        out, err = capsys.readouterr()
        printed.extend([out, err])
        return code

    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    authority = ["--authority", identity.base_url]
    assert mx("accounts", "add", "ops", "--address", LAB_USER, "--side", "target",
              "--provider", "office365", "--role", "mailbox", "--role", "sender",
              "--imap", f"127.0.0.1:{dovecot_oauth.imaps_port}", "--imap-security", "tls",
              "--smtp", f"127.0.0.1:{smtp.port}", "--smtp-security", "starttls",
              "--no-password") == 0, printed[-1]  # fmt: skip
    assert mx("accounts", "add", "gm", "--address", LAB_USER, "--side", "source",
              "--provider", "gmail", "--role", "sender", "--smtp", f"127.0.0.1:{gmail.port}",
              "--smtp-security", "starttls", "--no-password") == 0, printed[-1]  # fmt: skip

    identity.auto_approve = LAB_USER
    assert mx("auth", "login", "--account", "ops", "--provider", "microsoft",
              "--client-id", LAB_MS_CLIENT, *authority, *lab) == 0, printed[-1]  # fmt: skip

    browser = LabBrowser(identity.ca_file)
    monkeypatch.setattr(auth_command, "_browser", lambda: browser.open)
    assert mx("auth", "login", "--account", "gm", "--provider", "google",
              "--client-id", LAB_GOOGLE_CLIENT, "--client-secret-stdin", *authority, *lab,
              stdin=LAB_GOOGLE_SECRET + "\n") == 0, printed[-1]  # fmt: skip

    for name in ("ops", "gm"):
        assert mx("probe", "--account", name, "-v", *lab) == 0, printed[-2] + printed[-1]
        assert mx("probe", "--account", name, "--json", "-v", *lab) == 0
        assert mx("accounts", "show", name) == 0
    assert json.loads(printed[-4])["status"] == "pass"
    assert "AUTH XOAUTH2 ****" in printed[-4]  # the token masked in the transcript
    assert any("token: " in p and "SMTP.Send" in p for p in printed)  # -v: the JWT's claims
    identity.expire_access_tokens()  # the next run refreshes its token first
    assert mx("probe", "--account", "ops", "--protocol", "imap", "-v", *lab) == 0, printed[-1]
    assert mx("auth", "status", "--check", "--json", *lab) == 0
    assert mx("checklist", "new", "--domain", "lab.test") == 0
    mx("checklist", "verify", *lab)
    assert mx("checklist", "show", "oauth-readiness") == 0
    assert "verified" in printed[-2]
    assert mx("checklist", "report", "--output", str(run_dir / "report.md")) == 0
    assert mx("checklist", "report", "--format", "html", "--output",
              str(run_dir / "report.html")) == 0  # fmt: skip
    assert mx("auth", "logout", "--account", "gm", *lab) == 0
    (run_dir / "printed.txt").write_text("\n".join(printed), encoding="utf-8")

    tokens = set(identity._access) | set(identity._refresh)  # every token the provider issued
    assert len(tokens) >= 6
    secrets = [*tokens, LAB_GOOGLE_SECRET]
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"workspace.sqlite3", "report.md", "printed.txt"}
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            for form in encodings(secret, [LAB_USER]):
                assert form not in data, f"a token is in {path.relative_to(tmp_path)}"


@pytest.mark.parametrize("protocol", ["smtp", "imap"])
def test_no_secret_from_a_server_that_echoes_it(
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    hostile_peer: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    protocol: str,
) -> None:
    """A peer that echoes the password and the SASL blob in its error replies.

    Probed from the command line (verbose text, then JSON, each stored in the
    history); nothing printed and no file written holds the secret in any form.
    """
    secret = "Echo-Me-S3cret!pass"
    user = "echo@lab.test"
    peer = hostile_peer("echo", protocol=protocol)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    printed: list[str] = []
    for mode in (["-v"], ["--json"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
        main(
            [
                "--workspace", str(workspace),
                "probe", f"{peer.host}:{peer.port}", "--protocol", protocol,
                "--security", "none", "--allow-plaintext-auth", "--timeout", "1",
                "--user", user, "--password-stdin", *mode,
            ]
        )  # fmt: skip
        out, err = capsys.readouterr()
        printed.append(out + err)
    assert any("••••••" in text for text in printed), printed
    forms = encodings(secret, [user])
    written = [p for p in workspace.rglob("*") if p.is_file()]
    assert written, "the probes were stored in the history"
    for text in printed:
        for form in forms:
            assert form.decode() not in text
    for path in written:
        data = path.read_bytes()
        for form in forms:
            assert form not in data, (path.name, form)
