"""Moving a .env's secrets with --rewrite: every secret ends in exactly one place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mxlab.memory_keyring import MemoryKeyring
from workspace.accounts.model import Side
from workspace.imports.dotenv import read_env
from workspace.imports.env_import import plan_env_import
from workspace.imports.env_move import EnvMoveError, check_rewritable, move_env_secrets
from workspace.secrets import SecretStore
from workspace.session import Workspace

SECRET = "s3cret-Pa55-word"
ENV = (
    "SMTP_HOST=smtp.office365.com\n"
    "SMTP_PORT=587\n"
    "SMTP_USER=ventas@example.com\n"
    f"SMTP_PASSWORD={SECRET}\n"
    "DEBUG=true\n"
)
ROOT = Path(__file__).resolve().parents[2]


def _plan(ws: Workspace, path: Path):  # type: ignore[no-untyped-def]
    env = read_env(path)
    plan = plan_env_import(env, path=path, side=Side.SERVICE, existing_names=ws.accounts.names())
    assert plan.ok and len(plan.accounts) == 1
    return env, plan


def test_secrets_move_and_the_file_keeps_a_comment(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV)
    env, plan = _plan(workspace, path)
    result = move_env_secrets(workspace.accounts, path, env, plan, rewrite=True)
    assert result.rewritten == 1 and len(result.created) == 1
    account = workspace.accounts.get(result.created[0].name)
    assert workspace.accounts.secret(account) == SECRET
    text = path.read_text()
    assert SECRET not in text and "moved to the OS keyring" in text and "DEBUG=true" in text


def test_a_file_changed_after_reading_creates_nothing(
    workspace: Workspace, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV)
    env, plan = _plan(workspace, path)
    path.write_text(ENV + "EXTRA=1\n")  # edited while the confirmation waited
    with pytest.raises(EnvMoveError, match="changed since it was read; nothing imported"):
        move_env_secrets(workspace.accounts, path, env, plan, rewrite=True)
    assert workspace.accounts.names() == set() and memory_keyring.entries == {}
    assert SECRET in path.read_text()


class EditingKeyring(MemoryKeyring):
    """A keyring during whose write another program edits the .env (a real race)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        with self.path.open("a") as handle:
            handle.write("ADDED_BY_SOMEONE_ELSE=1\n")


def test_a_rewrite_that_fails_undoes_the_accounts(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV)
    keyring = EditingKeyring(path)
    with Workspace.open(tmp_path / "ws.sqlite3", SecretStore(keyring)) as ws:
        env, plan = _plan(ws, path)
        with pytest.raises(EnvMoveError, match="removed again, so the secrets are only in"):
            move_env_secrets(ws.accounts, path, env, plan, rewrite=True)
        assert ws.accounts.names() == set()
    assert keyring.entries == {}
    assert SECRET in path.read_text()


def test_without_rewrite_nothing_is_checked(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV)
    env, plan = _plan(workspace, path)
    path.write_text("")  # the file no longer matters
    result = move_env_secrets(workspace.accounts, path, env, plan, rewrite=False)
    assert result.rewritten == 0 and len(result.created) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_file_this_user_cannot_rewrite_is_refused_before_anything(tmp_path: Path) -> None:
    """As an unprivileged user (root's checks pass everywhere, so the test drops to nobody)."""
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / ".env"
    path.write_text(ENV)
    os.chmod(folder, 0o755)
    os.chmod(path, 0o644)
    os.chmod(tmp_path, 0o755)
    script = (
        "import sys; from pathlib import Path\n"
        "from workspace.imports.dotenv import read_env\n"
        "from workspace.imports.env_move import EnvMoveError, check_rewritable\n"
        f"p = Path({str(path)!r})\n"
        "try:\n    check_rewritable(p, read_env(p))\n"
        "except EnvMoveError as e:\n    print(e); sys.exit(7)\n"
    )
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        parents = [p for p in [tmp_path, *tmp_path.parents] if p != Path("/")]
        for parent in parents:  # nobody must reach the file to read it
            os.chmod(parent, os.stat(parent).st_mode | 0o005)
    else:
        os.chmod(folder, 0o555)
        command = []
    done = subprocess.run(
        [*command, sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 7, done.stderr
    assert "cannot be rewritten (Permission denied); nothing imported" in done.stdout
    check_rewritable(path, read_env(path))  # its owner can
