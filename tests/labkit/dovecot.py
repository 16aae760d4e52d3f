"""A real Dovecot IMAP server for the test lab, run as a private instance on loopback.

``DovecotLab`` writes its own ``dovecot.conf`` (base_dir, state, logs, users and Maildirs all
inside the directory it is given), starts ``dovecot -F -c CONF`` in the foreground on two free
loopback ports, and stops it with SIGTERM. No system service or system path is touched.

Ports:

- ``imaps_port``: implicit TLS (like 993), served by Dovecot directly.
- ``imap_port``: plain IMAP with STARTTLS (like 143). Dovecot treats a connection whose client
  address equals its own address as "secured" (no LOGINDISABLED, cleartext LOGIN accepted), and
  on loopback they are always equal. So this port is a tiny relay that forwards each connection
  to a Dovecot ``haproxy`` listener, announcing the real client and server addresses in a PROXY
  v1 header; Dovecot then judges the connection like a remote one: CAPABILITY shows
  LOGINDISABLED and LOGIN is refused until STARTTLS. Bytes are relayed untouched.

OAuth 2.0 (optional): given ``oauth2_introspection_url``, Dovecot also offers SASL XOAUTH2 and
OAUTHBEARER and checks each bearer token with an RFC 7662 introspection request (``POST
token=...``, answer ``active``/``username``/``scope``) made by its auth process over HTTPS,
trusting ``oauth2_ca_file``; ``oauth2_scope`` makes a token without that scope fail. PLAIN and
LOGIN keep using the passwd-file (each passdb is limited to its own mechanisms).

Two Dovecot delays are switched off for fast tests: ``auth_failure_delay = 0`` (a failed login
still answers within ~0.5 s, Dovecot's failure-queue tick) and the per-IP auth penalty (the
``anvil-auth-penalty`` socket is not created, so the auth process runs without penalties).

Usage::

    with DovecotLab(tmp_path, cert_pem, key_pem, {"user@lab.test": "pw"}) as imap:
        imaplib.IMAP4_SSL(imap.host, imap.imaps_port, ssl_context=ctx)
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from mxlab.loop_thread import LOOPBACK, LoopThreadServer
from mxlab.service import LabService

DOVECOT_BINARY = "dovecot"
DOVECOT_LIBEXEC = Path("/usr/lib/dovecot")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
MAIL_USER_WHEN_ROOT = "nobody"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; Dovecot adds e.g. "/token-login/tokenlogin"
_SOCKET_SUFFIX_MAX = 30
_START_ATTEMPTS = 3
_READ_SIZE = 65536
PASSWORD_MECHANISMS = "plain login"
OAUTH2_MECHANISMS = "xoauth2 oauthbearer"


class DovecotLab(LabService):
    """A private Dovecot (``dovecot-imapd``) on 127.0.0.1 with passwd-file users and Maildirs.

    ``users`` maps login name to cleartext password (stored as ``{PLAIN}`` in a passwd-file);
    ``messages`` optionally gives how many messages each user's INBOX starts with. Ports are
    chosen at ``start()``; ``host`` is always ``127.0.0.1``.
    """

    def __init__(
        self,
        directory: Path,
        cert_pem: Path,
        key_pem: Path,
        users: dict[str, str],
        messages: dict[str, int] | None = None,
        *,
        oauth2_introspection_url: str | None = None,
        oauth2_ca_file: Path | None = None,
        oauth2_scope: str | None = None,
    ) -> None:
        """Prepare (but do not start) an instance living entirely inside ``directory``.

        ``oauth2_introspection_url`` turns on XOAUTH2/OAUTHBEARER against that RFC 7662
        endpoint (HTTPS verified with ``oauth2_ca_file``; ``oauth2_scope``: a scope the token
        must carry). OAuth users still need an entry in ``users`` for their Maildir.
        """
        for user, password in users.items():
            _check_user(user, password)
        unknown = set(messages or {}) - set(users)
        if unknown:
            raise ValueError(f"messages for unknown users: {sorted(unknown)}")
        self.directory = directory.resolve()
        self.cert_pem = cert_pem.resolve()
        self.key_pem = key_pem.resolve()
        self.users = dict(users)
        self.messages = {user: (messages or {}).get(user, 0) for user in users}
        if oauth2_introspection_url is not None and re.search(r"\s", oauth2_introspection_url):
            raise ValueError("oauth2_introspection_url must not contain white space")
        self.oauth2_introspection_url = oauth2_introspection_url
        self.oauth2_ca_file = oauth2_ca_file.resolve() if oauth2_ca_file else None
        self.oauth2_scope = oauth2_scope
        self.host: str = LOOPBACK
        self.imaps_port: int = 0
        self.imap_port: int = 0
        self.config_path = self.directory / "dovecot.conf"
        self.log_path = self.directory / "log" / "dovecot.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._relay: ProxyProtocolRelay | None = None
        self._short_base_dir: Path | None = None

    @staticmethod
    def available() -> str | None:
        """None when Dovecot can run here, else the reason it cannot (e.g. binary missing)."""
        binary = _dovecot_binary()
        if binary is None:
            return "dovecot not found (install the Debian package dovecot-imapd)"
        for helper in ("imap", "imap-login"):
            if not (DOVECOT_LIBEXEC / helper).exists():
                return f"{DOVECOT_LIBEXEC / helper} missing (install dovecot-imapd)"
        try:
            dovecot_version()
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            return f"dovecot --version failed: {error}"
        return None

    @staticmethod
    def oauth2_unavailable() -> str | None:
        """None when the OAuth 2.0 set-up can run here, else why not (it targets Dovecot 2.3)."""
        reason = DovecotLab.available()
        if reason is not None:
            return reason
        if dovecot_version() >= (2, 4):
            return "DovecotLab's OAuth 2.0 set-up is written for Dovecot 2.3 (2.4 found)"
        return None

    def start(self) -> None:
        """Write the configuration and Maildirs, start Dovecot and wait until both ports serve."""
        if self._process is not None:
            raise RuntimeError("DovecotLab already started")
        reason = self.available()
        if reason is not None:
            raise RuntimeError(reason)
        self._prepare_tree()
        last_error: RuntimeError | None = None
        for _ in range(_START_ATTEMPTS):  # a chosen port can be taken before Dovecot binds it
            try:
                self._start_once()
                return
            except RuntimeError as error:
                last_error = error
                self._stop_process()
                if "Address already in use" not in str(error):
                    break
        self.stop()
        raise last_error or RuntimeError("Dovecot did not start")

    def stop(self) -> None:
        """Stop Dovecot (SIGTERM, then SIGKILL after 5 s) and the STARTTLS relay."""
        self._stop_process()
        if self._relay is not None:
            self._relay.stop()
            self._relay = None
        if self._short_base_dir is not None:
            shutil.rmtree(self._short_base_dir, ignore_errors=True)
            self._short_base_dir = None

    def log_text(self) -> str:
        """Dovecot's log so far (for assertions and failure messages; holds no passwords)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- internals -------------------------------------------------------------------------

    def _start_once(self) -> None:
        self.imaps_port, haproxy_port = _free_port(), _free_port()
        base_dir = self._base_dir()
        shutil.rmtree(base_dir, ignore_errors=True)  # stale sockets would stall the auth process
        base_dir.mkdir(parents=True)
        self.config_path.write_text(self._config(base_dir, haproxy_port))
        stderr_path = self.directory / "log" / "dovecot.stderr"
        binary = _dovecot_binary() or DOVECOT_BINARY
        with stderr_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                [binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, so a hung stop can kill it all
            )
        if self._relay is None:
            self._relay = ProxyProtocolRelay(haproxy_port)
            self._relay.start()
        else:
            self._relay.upstream_port = haproxy_port
        self.imap_port = self._relay.port
        self._wait_ready(stderr_path)

    def _wait_ready(self, stderr_path: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                raise RuntimeError(f"Dovecot exited at start-up:\n{self._diagnostics(stderr_path)}")
            if _accepts(self.host, self.imaps_port) and _greets(self.host, self.imap_port):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Dovecot not serving within {START_TIMEOUT_S} s:\n"
                    f"{self._diagnostics(stderr_path)}"
                )
            time.sleep(0.05)

    def _diagnostics(self, stderr_path: Path) -> str:
        stderr = stderr_path.read_text(errors="replace") if stderr_path.exists() else ""
        return (stderr + self.log_text())[-3000:]

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group we created at start
            process.wait(STOP_TIMEOUT_S)

    def _base_dir(self) -> Path:
        base_dir = self.directory / "run"
        if len(str(base_dir)) + _SOCKET_SUFFIX_MAX <= _SOCKET_PATH_MAX:
            return base_dir
        if self._short_base_dir is None:  # unix socket paths must stay short
            self._short_base_dir = Path(tempfile.mkdtemp(prefix="dovecot-lab-"))
        return self._short_base_dir / "run"

    def _prepare_tree(self) -> None:
        for sub in ("state", "log", "mail"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        mail_root = self.directory / "mail"
        mail_root.chmod(0o755)  # the chroot's "/" must be searchable by the mail user
        uid, gid = _mail_ids()
        for user, count in self.messages.items():
            _write_maildir(mail_root / user / "Maildir", user, count)
        if os.geteuid() == 0:
            for path in [mail_root, *mail_root.rglob("*")]:
                if path != mail_root:
                    os.chown(path, uid, gid)
        users = self.directory / "users"
        users.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        users.chmod(0o600)
        if self.oauth2_introspection_url is not None:
            self.oauth2_args_path.write_text(_oauth2_args(self))

    @property
    def oauth2_args_path(self) -> Path:
        """Where the oauth2 passdb's settings file is written (only used with OAuth 2.0)."""
        return self.directory / "oauth2.conf.ext"

    def _config(self, base_dir: Path, haproxy_port: int) -> str:
        major, minor = dovecot_version()
        if (major, minor) >= (2, 4):
            return _config_24(self, base_dir, haproxy_port)
        return _config_23(self, base_dir, haproxy_port)


class ProxyProtocolRelay(LoopThreadServer):
    """Forward loopback TCP to a Dovecot ``haproxy`` listener with a PROXY v1 header.

    The header names the real client and the relay's own address, so Dovecot sees exactly
    who connected where, but judges the connection as it would a remote one.
    """

    def __init__(self, upstream_port: int) -> None:
        """Bind 127.0.0.1:0; connections go to 127.0.0.1:``upstream_port``."""
        super().__init__(f"dovecot-relay-{upstream_port}")
        self.upstream_port = upstream_port

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Connect upstream, send the PROXY header and relay bytes both ways until EOF."""
        client_host, client_port = writer.get_extra_info("peername")[:2]
        local_host, local_port = writer.get_extra_info("sockname")[:2]
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(LOOPBACK, self.upstream_port), timeout=5.0
        )
        try:
            up_writer.write(
                f"PROXY TCP4 {client_host} {local_host} {client_port} {local_port}\r\n".encode()
            )
            pumps = [
                asyncio.create_task(_pipe(reader, up_writer)),
                asyncio.create_task(_pipe(up_reader, writer)),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            up_writer.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while chunk := await source.read(_READ_SIZE):
        sink.write(chunk)
        await sink.drain()
    if sink.can_write_eof():
        with contextlib.suppress(OSError):
            sink.write_eof()


def dovecot_version() -> tuple[int, int]:
    """The installed Dovecot's (major, minor) version, from ``dovecot --version``."""
    binary = _dovecot_binary() or DOVECOT_BINARY
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    match = re.match(r"\s*(\d+)\.(\d+)", output)
    if match is None:
        raise ValueError(f"unexpected dovecot --version output: {output[:80]!r}")
    return int(match.group(1)), int(match.group(2))


def _dovecot_binary() -> str | None:
    found = shutil.which(DOVECOT_BINARY)
    if found is not None:
        return found
    fallback = Path("/usr/sbin") / DOVECOT_BINARY
    return str(fallback) if fallback.exists() else None


def _identity() -> tuple[str, str]:
    """(internal user, login user) for Dovecot's own processes."""
    if os.geteuid() == 0:
        return "root", "dovenull" if _user_exists("dovenull") else "nobody"
    name = pwd.getpwuid(os.geteuid()).pw_name
    return name, name


def _mail_ids() -> tuple[int, int]:
    """(uid, gid) owning the mail: Dovecot refuses uid 0, so root hands mail to nobody."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(MAIL_USER_WHEN_ROOT)
        return entry.pw_uid, entry.pw_gid
    return os.geteuid(), os.getegid()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _common_settings(lab: DovecotLab, base_dir: Path) -> str:
    internal_user, login_user = _identity()
    uid, gid = _mail_ids()
    internal_group = grp.getgrgid(os.getegid()).gr_name
    return f"""\
base_dir = {base_dir}
state_dir = {lab.directory / "state"}
instance_name = mxpilot-lab-{os.getpid()}-{lab.imaps_port}
log_path = {lab.log_path}
listen = {LOOPBACK}
protocols = imap
ssl = yes
auth_failure_delay = 0
auth_mechanisms = {_mechanisms(lab)}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {min(uid, 500)}
first_valid_gid = {min(gid, 1)}
haproxy_trusted_networks = {LOOPBACK}
"""


def _services(lab: DovecotLab, haproxy_port: int) -> str:
    unprivileged = ""
    if os.geteuid() != 0:  # chroot needs root
        unprivileged = "  chroot =\n"
    return f"""\
service imap-login {{
{unprivileged}  inet_listener imap {{
    port = 0
  }}
  inet_listener imap_haproxy {{
    address = {LOOPBACK}
    port = {haproxy_port}
    haproxy = yes
  }}
  inet_listener imaps {{
    address = {LOOPBACK}
    port = {lab.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
{unprivileged}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _mail_layout() -> tuple[str, str]:
    """(chroot line, home template prefix): chroot into the mail tree when root."""
    if os.geteuid() == 0:
        return "mail_chroot = {mail}\n", "/"
    return "", "{mail}/"


def _config_23(lab: DovecotLab, base_dir: Path, haproxy_port: int) -> str:
    mail = lab.directory / "mail"
    chroot, home = _mail_layout()
    return (
        _common_settings(lab, base_dir)
        + f"""\
ssl_cert = <{lab.cert_pem}
ssl_key = <{lab.key_pem}
disable_plaintext_auth = yes
mail_location = maildir:~/Maildir
{chroot.format(mail=mail)}passdb {{
  driver = passwd-file
  mechanisms = {PASSWORD_MECHANISMS}
  args = scheme=PLAIN username_format=%u {lab.directory / "users"}
}}
{_oauth2_passdb_23(lab)}userdb {{
  driver = static
  args = home={home.format(mail=mail)}%u
}}
"""
        + _services(lab, haproxy_port)
    )


def _config_24(lab: DovecotLab, base_dir: Path, haproxy_port: int) -> str:
    if lab.oauth2_introspection_url is not None:
        # 2.4 moved token checks out of the passdb (an "oauth2 { }" filter); not written yet.
        raise RuntimeError("DovecotLab's OAuth 2.0 set-up supports Dovecot 2.3 only")
    mail = lab.directory / "mail"
    chroot, home = _mail_layout()
    return (
        "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"
        + _common_settings(lab, base_dir)
        + f"""\
ssl_server_cert_file = {lab.cert_pem}
ssl_server_key_file = {lab.key_pem}
auth_allow_cleartext = no
mail_driver = maildir
mail_path = ~/Maildir
{chroot.format(mail=mail)}passdb passwd-file {{
  passwd_file_path = {lab.directory / "users"}
}}
userdb static {{
  fields {{
    home = {home.format(mail=mail)}%{{user}}
  }}
}}
"""
        + _services(lab, haproxy_port)
    )


def _mechanisms(lab: DovecotLab) -> str:
    if lab.oauth2_introspection_url is None:
        return PASSWORD_MECHANISMS
    return f"{PASSWORD_MECHANISMS} {OAUTH2_MECHANISMS}"


def _oauth2_passdb_23(lab: DovecotLab) -> str:
    if lab.oauth2_introspection_url is None:
        return ""
    return f"""\
passdb {{
  driver = oauth2
  mechanisms = {OAUTH2_MECHANISMS}
  args = {lab.oauth2_args_path}
}}
"""


def _oauth2_args(lab: DovecotLab) -> str:
    """The oauth2 passdb's settings file: RFC 7662 introspection by POST, nothing cached."""
    lines = [
        f"introspection_url = {lab.oauth2_introspection_url}",
        "introspection_mode = post",
        "force_introspection = yes",
        "username_attribute = username",
        "active_attribute = active",
        "active_value = true",
        "timeout_msecs = 5000",
    ]
    if lab.oauth2_ca_file is not None:
        lines.append(f"tls_ca_cert_file = {lab.oauth2_ca_file}")
    if lab.oauth2_scope:
        lines.append(f"scope = {lab.oauth2_scope}")
    return "\n".join(lines) + "\n"


def _write_maildir(maildir: Path, user: str, count: int) -> None:
    """Create ``cur/ new/ tmp/`` and ``count`` minimal RFC 5322 messages in ``new/``."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    for number in range(1, count + 1):
        message = (
            "From: Lab Sender <sender@lab.test>\n"
            f"To: <{user}>\n"
            f"Subject: Lab message {number}\n"
            "Date: Mon, 01 Jan 2024 10:00:00 +0000\n"
            f"Message-ID: <{number}.{now}@lab.test>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n"
            "\n"
            f"Body of lab message {number}.\n"
        )
        (maildir / "new" / f"{now}.M{number}P{os.getpid()}.lab").write_text(message)


def _check_user(user: str, password: str) -> None:
    if not user or re.search(r"[:/\s]", user) or user.startswith("."):
        raise ValueError(f"user name not usable in a passwd-file: {user!r}")
    if not password or re.search(r"[:\r\n]", password):
        raise ValueError(f"password of {user!r} not usable in a passwd-file (':' or newline)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _greets(host: str, port: int) -> bool:
    """True when an IMAP greeting arrives on ``host:port`` (through the relay)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as connection:
            return connection.recv(256).startswith(b"* OK")
    except OSError:
        return False
