"""A workspace this user may not read or write: a clear message and exit 1, never exit 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")


def _as_unprivileged(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``mxpilot ARGS`` as a user without rights on the folder (nobody when run as root)."""
    command = [sys.executable, "-m", "mxpilot", *args]
    if os.geteuid() == 0:
        for parent in [tmp_path, *tmp_path.parents]:
            if parent != Path("/"):
                os.chmod(parent, os.stat(parent).st_mode | 0o005)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
    )


def test_a_folder_the_user_cannot_enter(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    os.chmod(locked, 0o700 if os.geteuid() == 0 else 0o000)
    try:
        done = _as_unprivileged(tmp_path, "--workspace", str(locked / "inner"), "accounts", "list")
    finally:
        os.chmod(locked, 0o700)
    assert done.returncode == 1, done.stderr
    assert "cannot open the workspace" in done.stderr and "Permission denied" in done.stderr
    assert "internal error" not in done.stderr


def test_a_workspace_the_user_cannot_write(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    subprocess.run(  # a real workspace, made by its owner
        [sys.executable, "-m", "mxpilot", "--workspace", str(folder), "accounts", "list"],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    for path in folder.iterdir():
        os.chmod(path, 0o644)
    os.chmod(folder, 0o755 if os.geteuid() == 0 else 0o555)
    try:
        done = _as_unprivileged(tmp_path, "--workspace", str(folder), "accounts", "list")
    finally:
        os.chmod(folder, 0o755)
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr
    assert "read-only for this user" in done.stderr or "cannot open" in done.stderr
