"""One open workspace: the store with its accounts, checklists and history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workspace.accounts.book import AccountBook
from workspace.checklist.book import ChecklistBook
from workspace.history import RunHistory
from workspace.secrets import SecretStore
from workspace.store import Store, default_path, resolve_path

if TYPE_CHECKING:
    from workspace.auth.signins import OAuthSignIns
    from workspace.auth.token_keeper import TokenKeeper
    from workspace.connection import ConnectionSettings


class Workspace:
    """What the CLI and the TUI open: every book over one SQLite file."""

    def __init__(self, store: Store, secrets: SecretStore | None = None) -> None:
        self.store = store
        self.secrets = secrets or SecretStore()
        self.accounts = AccountBook(store, self.secrets)
        self.checklists = ChecklistBook(store)
        self.history = RunHistory(store)
        self._signins: OAuthSignIns | None = None
        self._tokens: TokenKeeper | None = None
        self._connection: ConnectionSettings | None = None

    @property
    def signins(self) -> OAuthSignIns:
        """The accounts' OAuth app registrations and sign-ins (made on first use)."""
        if self._signins is None:
            from workspace.auth.signins import OAuthSignIns

            self._signins = OAuthSignIns(self.store, self.secrets)
        return self._signins

    @property
    def tokens(self) -> TokenKeeper:
        """Access tokens in memory for this session (made on first use: start-up time)."""
        if self._tokens is None:
            from workspace.auth.token_keeper import TokenKeeper
            from workspace.connection import ConnectionSettings

            settings = self._connection or ConnectionSettings()
            self._tokens = TokenKeeper(self.signins, self.accounts, settings)
        return self._tokens

    def use_connection(self, settings: ConnectionSettings) -> None:
        """How this session reaches identity platforms (trust, time limits)."""
        self._connection = settings
        if self._tokens is not None:
            self._tokens.settings = settings

    @classmethod
    def open(cls, path: Path | None = None, secrets: SecretStore | None = None) -> Workspace:
        """Open (creating if needed) the workspace at ``path`` or the default one."""
        location = resolve_path(path) if path is not None else default_path()
        return cls(Store(location), secrets)

    @property
    def path(self) -> Path:
        """The workspace file."""
        return self.store.path

    def close(self) -> None:
        """Close the file."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
