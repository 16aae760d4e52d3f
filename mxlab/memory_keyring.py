"""An in-memory keyring backend for tests and the offline demo (never the user's keyring)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict, per instance; nothing touches the disk."""

    priority = 1.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret or None."""
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Remove a secret or raise PasswordDeleteError."""
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no secret for {username}") from None
