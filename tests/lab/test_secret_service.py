"""SecretStore against the real Secret Service: gnome-keyring-daemon on a private D-Bus bus.

The test body runs in a child Python process whose environment points at the private bus, so
keyring picks up ``DBUS_SESSION_BUS_ADDRESS`` cleanly and this process' own keyring is never
used. The secret reaches the child on stdin only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAB_PASSWORD, LAB_USER, ROOT, require_lab, secret_free
from tests.labkit.secret_service import SecretServiceSession

pytestmark = [pytest.mark.lab, pytest.mark.timeout(60)]

CHILD_TIMEOUT_S = 30.0
UID = "0f4c2a9e-lab-secret-service"
SECRET = "ss-S3cret!pw-7f3a9c"
DONE = "secret-service-roundtrip: ok"

CHILD = f"""
import sys

import keyring.backends.SecretService as secret_service
import secretstorage

from workspace.secrets import SERVICE, SecretStore

uid = {UID!r}
secret = sys.stdin.read()
assert secret, "no secret on stdin"


def check(ok, what):
    if not ok:
        raise SystemExit(f"failed: {{what}}")


def items_in_daemon():
    connection = secretstorage.dbus_init()
    try:
        attributes = {{"service": SERVICE, "username": SecretStore.entry(uid)}}
        return [item.get_secret().decode() for item in
                secretstorage.search_items(connection, attributes)]
    finally:
        connection.close()


store = SecretStore(secret_service.Keyring())
status = store.status()
check(status.ready, "status().ready")
check("SecretService" in status.name, "backend name mentions SecretService")
check(store.get(uid) is None, "nothing stored before put")
store.put(uid, secret)
check(store.get(uid) == secret, "get after put returns the secret")
check(SecretStore(secret_service.Keyring()).get(uid) == secret, "a second store reads it")
check(items_in_daemon() == [secret], "exactly one item in the daemon holds the secret")
check(store.delete(uid) is True, "delete returns True")
check(store.get(uid) is None, "get after delete is None")
check(items_in_daemon() == [], "no item left in the daemon")
check(store.delete(uid) is False, "delete again returns False")
print({DONE!r})
"""


@pytest.fixture
def secret_service() -> Iterator[SecretServiceSession]:
    """A private gnome-keyring Secret Service on its own D-Bus session bus."""
    reason = SecretServiceSession.available()
    require_lab(
        None
        if reason is None
        else "gnome-keyring / dbus-daemon not installed (apt install gnome-keyring dbus-daemon)"
    )
    with SecretServiceSession() as session:
        yield session


def test_secret_store_roundtrip_in_gnome_keyring(
    secret_service: SecretServiceSession, tmp_path: Path
) -> None:
    """put, get (twice, from fresh backends), delete and delete again, in the real daemon."""
    script = tmp_path / "roundtrip.py"
    script.write_text(CHILD, encoding="utf-8")
    env = dict(secret_service.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(script)],
        input=SECRET,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    output = result.stdout + result.stderr
    assert secret_free(output, SECRET), "the secret leaked into the child's output"
    assert result.returncode == 0, output
    assert result.stdout.strip() == DONE


COUNT_ITEMS = """
import secretstorage
connection = secretstorage.dbus_init()
print(len(list(secretstorage.search_items(connection, {"service": "mxpilot"}))))
connection.close()
"""


def test_a_user_session_moves_a_dotenv_secret_into_gnome_keyring(
    secret_service: SecretServiceSession,
    tmp_path: Path,
    smtp_server: Any,
    lab_certs: Any,
) -> None:
    """As a user runs it: import a .env, probe the account with the keyring password, remove it."""
    smtp = smtp_server("starttls")
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"SMTP_HOST=127.0.0.1\nSMTP_PORT={smtp.port}\nSMTP_USERNAME={LAB_USER}\n"
        f"SMTP_PASSWORD={LAB_PASSWORD}\nSMTP_USE_TLS=True\n",
        encoding="utf-8",
    )
    env = dict(secret_service.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MXPILOT_WORKSPACE"] = str(tmp_path / "ws.sqlite3")
    env.pop("PYTHON_KEYRING_BACKEND", None)  # the backend keyring picks by itself

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        assert secret_free(done.stdout + done.stderr, LAB_PASSWORD)
        return done

    def in_daemon() -> int:
        return int(run("-c", COUNT_ITEMS).stdout)

    keyring_state = run("-m", "mxpilot", "accounts", "keyring")
    assert keyring_state.returncode == 0 and "SecretService" in keyring_state.stdout
    imported = run("-m", "mxpilot", "accounts", "import-env", str(dotenv), "--rewrite", "--yes")
    assert imported.returncode == 0, imported.stderr
    assert LAB_PASSWORD not in dotenv.read_text(encoding="utf-8")
    assert in_daemon() == 1
    name = LAB_USER.partition("@")[0]
    probe = run(
        "-m", "mxpilot", "probe", "--account", name, "--json",
        "--ca-file", str(lab_certs.ca_pem), "--timeout", "3",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert '"status": "pass"' in probe.stdout
    removed = run("-m", "mxpilot", "accounts", "remove", name, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert in_daemon() == 0
    assert LAB_PASSWORD.encode() not in (tmp_path / "ws.sqlite3").read_bytes()


def test_an_oauth_sign_in_lives_in_gnome_keyring_across_processes(
    secret_service: SecretServiceSession,
    tmp_path: Path,
    smtp_server: Any,
    identity: Any,
    lab_certs: Any,
) -> None:
    """Sign in (one process), probe with XOAUTH2 (another: the refresh token from the daemon),
    sign out (the daemon's item goes)."""
    from mxlab.identity import LAB_MS_CLIENT
    from mxlab.identity import LAB_USER as OAUTH_USER

    smtp = smtp_server(
        "starttls",
        "o365_basic_disabled",
        users={},
        oauth_introspection_url=f"{identity.base_url}/introspect",
        oauth_ca_file=identity.ca_file,
    )
    env = dict(secret_service.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MXPILOT_WORKSPACE"] = str(tmp_path / "ws.sqlite3")
    env.pop("PYTHON_KEYRING_BACKEND", None)
    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mxpilot", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )

    added = run("accounts", "add", "ops", "--address", OAUTH_USER, "--provider", "office365",
                "--role", "sender", "--smtp", f"127.0.0.1:{smtp.port}",
                "--smtp-security", "starttls", "--no-password")  # fmt: skip
    assert added.returncode == 0, added.stderr
    identity.auto_approve = OAUTH_USER
    login = run("auth", "login", "--account", "ops", "--client-id", LAB_MS_CLIENT,
                "--authority", identity.base_url, *lab)  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "Signed in as" in login.stdout
    count = subprocess.run(
        [sys.executable, "-c", COUNT_ITEMS], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=CHILD_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert int(count.stdout) == 1  # the refresh token, and nothing else
    probe = run("probe", "--account", "ops", "--json", "-v", *lab)
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert '"status": "pass"' in probe.stdout and "XOAUTH2 ****" in probe.stdout
    logout = run("auth", "logout", "--account", "ops", *lab)
    assert logout.returncode == 0, logout.stderr
    count = subprocess.run(
        [sys.executable, "-c", COUNT_ITEMS], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=CHILD_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert int(count.stdout) == 0
    tokens = set(identity._access) | set(identity._refresh)
    data = (tmp_path / "ws.sqlite3").read_bytes()
    output = login.stdout + login.stderr + probe.stdout + probe.stderr
    assert all(secret_free(output, t) and t.encode() not in data for t in tokens)
