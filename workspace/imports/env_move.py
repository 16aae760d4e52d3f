"""Moving a ``.env``'s secrets into the keyring: all of it, or nothing.

With a rewrite, a secret must end in exactly one place: the keyring (the
line in the file replaced by a comment) or the file (no account created).
So the file is checked first (unchanged since it was read, a regular file
this process can replace), before anything is created; and when the
rewrite still fails, the accounts just created are removed again, and the
error says where the secrets are.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workspace.accounts.book import AccountBook, NewAccount
from workspace.accounts.model import Account
from workspace.imports.dotenv import EnvFile, parse_env
from workspace.imports.env_import import EnvImportPlan
from workspace.imports.env_rewrite import EnvChangedError, rewrite_env


class EnvMoveError(Exception):
    """The secrets could not be moved; the message says where every secret is now."""


@dataclass(frozen=True)
class EnvMoveResult:
    """What a move did: the accounts created and the ``.env`` lines replaced."""

    created: list[Account]
    rewritten: int


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


def check_rewritable(path: Path, env: EnvFile) -> None:
    """Raise :class:`EnvMoveError` unless ``path`` is unchanged and can be replaced.

    Replacing needs a new file in the same directory and the right to
    rename it over the old one, so both are tried for real (a read-only
    mount or directory refuses even root), not guessed from mode bits.
    """
    real = Path(os.path.realpath(path))
    try:
        data = real.read_bytes()
        if not real.is_file():
            raise EnvMoveError(f"{path}: not a regular file; nothing imported")
        if parse_env(data.decode("utf-8")).lines != env.lines:
            raise EnvMoveError(f"{path} changed since it was read; nothing imported, run it again")
        fd, probe = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".check", dir=real.parent)
        os.close(fd)
        os.unlink(probe)
        if not os.access(real, os.W_OK):
            raise PermissionError(13, "permission denied")
    except UnicodeDecodeError:
        raise EnvMoveError(f"{path} is no longer UTF-8 text; nothing imported") from None
    except OSError as exc:
        raise EnvMoveError(
            f"{path} cannot be rewritten ({_reason(exc)}); nothing imported. "
            "Run it without --rewrite, or fix the file's permissions"
        ) from None


def move_env_secrets(
    accounts: AccountBook,
    path: Path,
    env: EnvFile,
    plan: EnvImportPlan,
    *,
    rewrite: bool,
) -> EnvMoveResult:
    """Create the planned accounts (secrets to the keyring) and, with ``rewrite``, the file."""
    if rewrite:
        check_rewritable(path, env)
    created = accounts.add_many([NewAccount(p.account, p.secret) for p in plan.accounts])
    if not rewrite:
        return EnvMoveResult(created, 0)
    names = {p.account.name: made.name for p, made in zip(plan.accounts, created, strict=True)}
    moved = {
        entry.key: f'keyring service "mxpilot", account "{names[planned.account.name]}"'
        for planned in plan.accounts
        if planned.secret
        for entry in planned.secret_keys
    }
    if not moved:
        return EnvMoveResult(created, 0)
    try:
        rewrite_env(path, env, moved)
    except (OSError, EnvChangedError, KeyboardInterrupt) as exc:
        kept = _undo(accounts, created)
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else _reason(exc)
        if kept:
            raise EnvMoveError(
                f"{path} could not be rewritten ({reason}). The secrets of "
                f"{', '.join(kept)} are now in the keyring AND still in {path}: remove "
                "those lines from the file by hand, or remove the accounts "
                f"(mxpilot accounts remove NAME)"
            ) from None
        raise EnvMoveError(
            f"{path} could not be rewritten ({reason}); the {len(created)} account(s) just "
            f"created were removed again, so the secrets are only in {path}, as before"
        ) from None
    return EnvMoveResult(created, len(moved))


def _undo(accounts: AccountBook, created: list[Account]) -> list[str]:
    """Remove the accounts just created; the names whose removal failed."""
    kept: list[str] = []
    for account in created:
        try:
            accounts.remove(account.name)
        except Exception:
            kept.append(account.name)
    with contextlib.suppress(Exception):
        kept = [name for name in kept if name in accounts.names()]
    return kept
