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

import pytest

from tests.conftest import ROOT, require_lab, secret_free
from tests.lab.secret_service import SecretServiceSession

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
