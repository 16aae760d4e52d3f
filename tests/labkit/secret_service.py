"""A real Secret Service for the test lab: gnome-keyring-daemon on a private D-Bus session bus.

``SecretServiceSession`` starts, inside a private temporary directory that it removes again:

1. ``dbus-daemon --config-file=CONF --nofork --print-address=1`` with a generated configuration
   that listens on a socket in that directory and has no service directories, so nothing on the
   machine is auto-activated on this bus;
2. ``gnome-keyring-daemon --foreground --unlock --components=secrets`` on that bus, with HOME,
   XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME inside the directory (the
   user's real keyring is never touched). A throwaway keyring password is written to its stdin,
   never its command line; with ``--unlock`` it creates the ``login`` collection from it, unlocked.

``start()`` returns once ``org.freedesktop.secrets`` is owned on the bus and its ``default``
alias names an unlocked collection (what keyring's SecretService backend stores into). ``env``
is then the environment for a child process that should use this Secret Service.

Usage::

    with SecretServiceSession() as session:
        subprocess.run([sys.executable, "script.py"], env=session.env, timeout=30)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from mxlab.service import LabService

DBUS_DAEMON = "dbus-daemon"
KEYRING_DAEMON = "gnome-keyring-daemon"
SECRETS_NAME = "org.freedesktop.secrets"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
_POLL_S = 0.05
_CALL_TIMEOUT_S = 2.0
_SERVICE = DBusAddress(
    "/org/freedesktop/secrets", bus_name=SECRETS_NAME, interface="org.freedesktop.Secret.Service"
)
_NO_OBJECT = "/"
# Variables of the caller's own desktop session that must not leak into the private one.
_FOREIGN_ENV = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
    "GNOME_KEYRING_CONTROL",
    "GNOME_KEYRING_PID",
    "SSH_AUTH_SOCK",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "PYTHON_KEYRING_BACKEND",
)
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretServiceError(RuntimeError):
    """The private Secret Service could not be started (the message never holds a password)."""


class SecretServiceSession(LabService):
    """gnome-keyring-daemon serving ``org.freedesktop.secrets`` on a private D-Bus session bus.

    Everything (bus socket, keyrings, runtime and config directories) lives in a temporary
    directory created by ``start()`` and removed by ``stop()``. After ``start()``, ``address``
    is the bus address and ``env`` the environment a child process should run with.
    """

    def __init__(self, start_timeout: float = START_TIMEOUT_S) -> None:
        """Prepare (but do not start) a session; ``start_timeout`` bounds each start step."""
        self.start_timeout = start_timeout
        self.address = ""
        self.env: dict[str, str] = {}
        self.directory: Path | None = None
        self._bus: subprocess.Popen[bytes] | None = None
        self._keyring: subprocess.Popen[bytes] | None = None
        self._keyring_log: IO[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """None when both daemons can run here, else the reason they cannot."""
        missing = [name for name in (DBUS_DAEMON, KEYRING_DAEMON) if shutil.which(name) is None]
        if missing:
            return (
                f"{', '.join(missing)} not found "
                "(install the Debian packages gnome-keyring and dbus-daemon)"
            )
        return None

    def start(self) -> dict[str, str]:
        """Start the bus and the keyring daemon; return ``env`` once secrets can be stored."""
        if self._bus is not None:
            raise SecretServiceError("the Secret Service session is already started")
        reason = self.available()
        if reason is not None:
            raise SecretServiceError(reason)
        # A short path under the temp dir: unix socket paths are limited to 108 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="mxpilot-ss-"))
        try:
            self.env = self._private_env(self.directory)
            self.address = self._start_bus(self.directory)
            self.env["DBUS_SESSION_BUS_ADDRESS"] = self.address
            self._start_keyring(self.directory)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.env

    def stop(self) -> None:
        """Stop the keyring daemon, then the bus (bounded waits), and remove the directory."""
        for process in (self._keyring, self._bus):
            if process is not None:
                _end(process)
        self._keyring = self._bus = None
        if self._keyring_log is not None:
            self._keyring_log.close()
            self._keyring_log = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self.address = ""
        self.env = {}

    @staticmethod
    def _private_env(directory: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        places = {
            "HOME": "home",
            "XDG_RUNTIME_DIR": "run",
            "XDG_DATA_HOME": "data",
            "XDG_CONFIG_HOME": "config",
            "XDG_CACHE_HOME": "cache",
        }
        for variable, name in places.items():
            path = directory / name
            path.mkdir(mode=0o700)
            env[variable] = str(path)
        return env

    def _start_bus(self, directory: Path) -> str:
        config = directory / "bus.conf"
        config.write_text(_BUS_CONFIG.format(directory=directory), encoding="utf-8")
        self._bus = subprocess.Popen(
            [
                DBUS_DAEMON,
                f"--config-file={config}",
                "--nofork",
                "--nopidfile",
                "--print-address=1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert self._bus.stdout is not None
        line = _read_line(self._bus.stdout, self.start_timeout)
        address = line.decode("utf-8", "replace").strip()
        if not address:
            code = self._bus.poll()
            raise SecretServiceError(
                f"{DBUS_DAEMON} printed no address within {self.start_timeout:.0f} s"
                + (f" (exit status {code})" if code is not None else "")
            )
        return address

    def _start_keyring(self, directory: Path) -> None:
        self._keyring_log = (directory / "gnome-keyring.log").open("wb")
        self._keyring = subprocess.Popen(
            [KEYRING_DAEMON, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=self._keyring_log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        assert self._keyring.stdin is not None
        # A throwaway password for the login keyring, on stdin only; EOF ends it.
        with contextlib.suppress(BrokenPipeError):
            self._keyring.stdin.write(secrets.token_urlsafe(24).encode())
        with contextlib.suppress(BrokenPipeError):
            self._keyring.stdin.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        with open_dbus_connection(bus=self.address, auth_timeout=_CALL_TIMEOUT_S) as bus:
            while True:
                if _collection_ready(bus):
                    return
                if self._keyring is not None and self._keyring.poll() is not None:
                    raise SecretServiceError(
                        f"{KEYRING_DAEMON} exited with status {self._keyring.returncode}: "
                        f"{self._log_tail()}"
                    )
                if time.monotonic() >= deadline:
                    raise SecretServiceError(
                        f"{SECRETS_NAME} had no unlocked default collection within "
                        f"{self.start_timeout:.0f} s: {self._log_tail()}"
                    )
                time.sleep(_POLL_S)

    def _log_tail(self) -> str:
        if self.directory is None:
            return ""
        log = self.directory / "gnome-keyring.log"
        with contextlib.suppress(OSError):
            return log.read_text("utf-8", "replace")[-500:].strip() or "(no output)"
        return "(no log)"


def _collection_ready(bus: DBusConnection) -> bool:
    """True when the Secret Service is on the bus with an unlocked ``default`` collection."""
    owned = bus.send_and_get_reply(
        message_bus.NameHasOwner(SECRETS_NAME), timeout=_CALL_TIMEOUT_S
    ).body[0]
    if not owned:
        return False
    reply = bus.send_and_get_reply(
        new_method_call(_SERVICE, "ReadAlias", "s", ("default",)), timeout=_CALL_TIMEOUT_S
    )
    path = reply.body[0] if reply.body else _NO_OBJECT
    if not isinstance(path, str) or path == _NO_OBJECT:
        return False
    collection = DBusAddress(
        path, bus_name=SECRETS_NAME, interface="org.freedesktop.DBus.Properties"
    )
    locked: Any = bus.send_and_get_reply(
        new_method_call(collection, "Get", "ss", ("org.freedesktop.Secret.Collection", "Locked")),
        timeout=_CALL_TIMEOUT_S,
    ).body[0]
    return bool(locked == ("b", False))  # a variant: (signature, value)


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from a pipe, or what arrived before ``timeout`` / EOF."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``; always reaped, pipes closed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
