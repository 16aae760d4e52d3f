"""Account secrets in the OS keyring, and nowhere else.

Every secret is one keyring entry: service ``mxpilot``, username
``<account uid>/<credential>`` (``password``, later ``oauth-refresh``). The
account's uid never changes, so renaming an account keeps its secrets.

Before storing anything the backend is checked: the ``fail`` and ``null``
backends (no keyring at all) and plaintext file backends are refused with
the way to get a real one on this OS.
"""

from __future__ import annotations

import enum
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keyring is imported when a secret is first needed (start-up time)
    from keyring.backend import KeyringBackend

SERVICE = "mxpilot"
PASSWORD = "password"
OAUTH_REFRESH = "oauth-refresh"
OAUTH_CLIENT_SECRET = "oauth-client-secret"

# Backends that store nothing, or store secrets readable by anyone with the file.
_MISSING = {
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyring.backends.chainer.ChainerBackend",  # a chain with no member
}
_PLAINTEXT = {
    "keyrings.alt.file.PlaintextKeyring",
    "keyrings.alt.file.EncryptedKeyring",  # encrypted with a key kept next to it
    "keyrings.alt.Gnome.Keyring",
    "keyring.backends.file.PlaintextKeyring",
}


class BackendState(enum.StrEnum):
    """Whether secrets can be stored."""

    READY = "ready"
    MISSING = "missing"
    INSECURE = "insecure"


class SecretStoreError(RuntimeError):
    """The keyring refused or failed; the message never contains a secret."""


def _qualified(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def how_to_get_a_keyring(platform: str | None = None) -> str:
    """The way to a real keyring on this OS, in one paragraph."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return (
            "Windows Credential Manager is used normally; if it is missing, check that the "
            "'pywin32-ctypes' package is installed and that you are not in a service session."
        )
    if platform == "darwin":
        return (
            "The macOS Keychain is used normally; run mxpilot from a logged-in user session "
            "(not over plain SSH without an unlocked login keychain)."
        )
    return (
        "Install a Secret Service provider and run inside a D-Bus session: on Debian/Ubuntu "
        "'sudo apt install gnome-keyring' (or KDE Wallet), then log in graphically, or on a "
        "headless server run 'dbus-run-session -- bash' and 'gnome-keyring-daemon --unlock' "
        "(it reads the keyring password from stdin) before starting mxpilot."
    )


@dataclass(frozen=True)
class BackendStatus:
    """The keyring backend in use and whether mxpilot will store secrets in it."""

    name: str
    state: BackendState
    advice: str = ""

    @property
    def ready(self) -> bool:
        """True when secrets may be stored."""
        return self.state is BackendState.READY

    def describe(self) -> str:
        """One line for the user: the backend and, if unusable, why and what to do."""
        if self.ready:
            return f"keyring backend: {self.name}"
        why = "no keyring available" if self.state is BackendState.MISSING else "insecure"
        return f"keyring backend: {self.name} ({why}). {self.advice}"


def _leaves(backend: KeyringBackend) -> list[KeyringBackend]:
    children = getattr(backend, "backends", None)
    if isinstance(children, list | tuple) and children:
        found: list[KeyringBackend] = []
        for child in children:
            found.extend(_leaves(child))
        return found
    return [backend]


def backend_status(backend: KeyringBackend | None = None) -> BackendStatus:
    """Classify ``backend`` (default: the one keyring chose).

    A chain of backends stores in its first (highest-priority) member, so
    that member decides.
    """
    import keyring

    chosen = backend if backend is not None else keyring.get_keyring()
    leaves = _leaves(chosen)
    name = _qualified(leaves[0])
    advice = how_to_get_a_keyring()
    if name in _MISSING:
        return BackendStatus(name, BackendState.MISSING, advice)
    if name in _PLAINTEXT or "plaintext" in name.lower():
        return BackendStatus(name, BackendState.INSECURE, advice)
    return BackendStatus(name, BackendState.READY)


class SecretStore:
    """Reads and writes account secrets in the keyring (service ``mxpilot``).

    One call at a time: keyring backends do not promise to be thread-safe, and the app
    reads secrets from worker threads (several OAuth refreshes at once).
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend
        self._lock = threading.RLock()

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend in use."""
        import keyring

        return self._backend if self._backend is not None else keyring.get_keyring()

    def status(self) -> BackendStatus:
        """The backend's state (see :func:`backend_status`)."""
        return backend_status(self.backend)

    @staticmethod
    def entry(uid: str, credential: str = PASSWORD) -> str:
        """The keyring username for an account's credential."""
        if not uid or "/" in uid:
            raise ValueError("an account uid is needed to address its secret")
        return f"{uid}/{credential}"

    def require_ready(self) -> None:
        """Raise :class:`SecretStoreError` unless secrets may be stored."""
        status = self.status()
        if not status.ready:
            raise SecretStoreError(f"refusing to store a secret: {status.describe()}")

    def put(self, uid: str, secret: str, credential: str = PASSWORD) -> None:
        """Store (or replace) a secret."""
        if not secret:
            raise SecretStoreError("refusing to store an empty secret")
        self.require_ready()
        import keyring.errors

        try:
            with self._lock:
                self.backend.set_password(SERVICE, self.entry(uid, credential), secret)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keyring refused to store the secret ({exc.__class__.__name__})"
            ) from None

    def get(self, uid: str, credential: str = PASSWORD) -> str | None:
        """The secret, or None when none is stored or no keyring is available."""
        import keyring.errors

        try:
            with self._lock:
                return self.backend.get_password(SERVICE, self.entry(uid, credential))
        except keyring.errors.KeyringError:
            return None

    def has(self, uid: str, credential: str = PASSWORD) -> bool:
        """True when a secret is stored."""
        return self.get(uid, credential) is not None

    def delete(self, uid: str, credential: str = PASSWORD) -> bool:
        """Remove a secret; False when there was none (or no keyring to ask)."""
        import keyring.errors

        try:
            with self._lock:
                self.backend.delete_password(SERVICE, self.entry(uid, credential))
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError:
            return False
        return True
