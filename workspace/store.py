"""The workspace file: one SQLite database (WAL, foreign keys, migrations).

Every change runs in :meth:`Store.transaction` (``BEGIN IMMEDIATE``: the
write lock is taken up front, so two processes never interleave a
read-modify-write); a second process waits up to the busy timeout instead of
failing. WAL with ``synchronous=FULL`` keeps every committed transaction
through a crash or a SIGKILL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from workspace.schema import MIGRATIONS, SCHEMA_VERSION

FILE_NAME = "workspace.sqlite3"


class StoreError(RuntimeError):
    """The workspace file cannot be used (locked, corrupt, from a newer mxpilot)."""


def now() -> str:
    """The current time as stored: ISO 8601, UTC, seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def default_path() -> Path:
    """``$MXPILOT_WORKSPACE``, else the workspace in the platform's user data directory."""
    configured = os.environ.get("MXPILOT_WORKSPACE")
    if configured:
        return resolve_path(Path(configured))
    import platformdirs

    return Path(platformdirs.user_data_dir("mxpilot", appauthor=False)) / FILE_NAME


def resolve_path(path: Path) -> Path:
    """A workspace path as given by the user: a directory means the file inside it."""
    path = path.expanduser()
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a folder on the way this user may not enter
        raise StoreError(f"cannot open the workspace {path}: {exc.strerror or exc}") from None
    return path / FILE_NAME if is_dir else path


class Store:
    """An open workspace database."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 15.0) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self._prepare_file()
        try:
            self._conn = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the workspace {self.path}: {exc}") from None
        self._lock = threading.RLock()
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if "readonly" in str(exc):
                raise StoreError(
                    f"cannot write the workspace {self.path}: it is read-only for this user "
                    "(check the file's and its folder's permissions)"
                ) from None
            raise StoreError(f"{self.path} is not a usable mxpilot workspace: {exc}") from None

    def _prepare_file(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot create the workspace {self.path}: {exc.strerror}") from None

    @property
    def schema_version(self) -> int:
        """Migrations applied to this file."""
        row = self._conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer mxpilot (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade mxpilot to open it"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) != number:
                    continue  # another process migrated meanwhile
                for statement in MIGRATIONS[number]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the workspace {self.path} is busy: {exc}") from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # a failed COMMIT leaves it open
                    self._conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only statement."""
        with self._lock:
            return list(self._conn.execute(sql, params))

    def integrity(self) -> str:
        """``PRAGMA integrity_check``: ``ok`` when the file is sound."""
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
