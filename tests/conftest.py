"""What every kind of test shares: the lab's users, the lab fixtures, a workspace, the kinds.

Tests are grouped by kind, one folder each, and marked by it (``-m unit``, ``-m lab``,
``-m tui``): ``unit/`` needs no server, ``lab/`` talks to the lab's real servers on
loopback, ``tui/`` drives the app (Pilot, snapshots, tmux). Fixtures only lab tests use
are in ``lab/conftest.py``; waiting helpers are in ``tests/waits.py``; the lab's own
parts (Dovecot, hostile peers, the latency proxy, ...) are in ``tests/labkit/``.

Every server listens on 127.0.0.1 only. A lab component that cannot run here
skips its tests with the reason outside CI and fails them in CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mxlab.certs import LabCertificates
from mxlab.smtp import DEFAULT_USERS, SmtpLabServer
from tests.labkit.hostile import HostilePeer

LAB_USER, LAB_PASSWORD = next(iter(DEFAULT_USERS.items()))
IMAP_USERS = {"imap@lab.test": "imap-S3cret!pass", "empty@lab.test": "empty-pass-42"}
IMAP_MESSAGES = {"imap@lab.test": 3, "empty@lab.test": 0}
OAUTH_IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
OAUTH_IMAP_MESSAGES = 1  # LAB_USER's INBOX on the OAuth Dovecot (lab/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root."""

Run = Callable[..., tuple[int, str, str]]
"""The ``mx`` fixture (lab/conftest.py): argv in, (exit code, stdout, stderr) out."""

KINDS = ("unit", "lab", "tui")
"""The folders under tests/, each a kind of test and the marker its tests carry."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its kind, the folder it lives in (tests/unit/... -> unit)."""
    tests = Path(__file__).resolve().parent
    for item in items:
        parts = item.path.resolve().relative_to(tests).parts
        if len(parts) > 1 and parts[0] in KINDS:
            item.add_marker(getattr(pytest.mark, parts[0]))


def require_lab(reason: str | None) -> None:
    """Skip (outside CI) or fail (in CI) when a lab component is unavailable."""
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"lab component missing in CI: {reason}")
    pytest.skip(f"lab component missing: {reason}")


@pytest.fixture(scope="session")
def lab_certs(tmp_path_factory: pytest.TempPathFactory) -> LabCertificates:
    """The lab CA and its server certificates (good, expired, wrong name, interception)."""
    return LabCertificates.create(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def smtp_server(lab_certs: LabCertificates) -> Iterator[Callable[..., SmtpLabServer]]:
    """Factory: start an SMTP lab server (mode, personality, server_context); stopped after."""
    started: list[SmtpLabServer] = []

    def start(mode: str, personality: str = "ok", **kwargs: Any) -> SmtpLabServer:
        server = SmtpLabServer(mode, personality, certs=lab_certs, **kwargs)  # type: ignore[arg-type]
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def hostile_peer() -> Iterator[Callable[..., HostilePeer]]:
    """Factory: start a hostile peer of a behaviour; stopped after the test."""
    started: list[HostilePeer] = []

    def start(behaviour: str, **options: Any) -> HostilePeer:
        peer = HostilePeer(behaviour, **options)
        peer.start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory, lab_certs: LabCertificates) -> Iterator[Any]:
    """A private Dovecot on two loopback ports (implicit TLS and STARTTLS)."""
    from tests.labkit.dovecot import DovecotLab

    require_lab(DovecotLab.available())
    lab = DovecotLab(
        tmp_path_factory.mktemp("dovecot"),
        cert_pem=lab_certs.cert_pem,
        key_pem=lab_certs.key_pem,
        users=IMAP_USERS,
        messages=IMAP_MESSAGES,
    )
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def zones() -> Iterator[Any]:
    """A lab DNS server with every fixture zone (Gmail-era, coexistence, Microsoft 365, broken)."""
    from mxlab.dns_server import DnsLab
    from mxlab.dns_zones import full_lab

    lab = DnsLab()
    full_lab(lab)
    lab.start()
    yield lab
    lab.stop()


def secret_free(payload: str, *secrets: str) -> bool:
    """True when none of the secrets (nor their simple encodings) appear in the text."""
    import base64

    for secret in secrets:
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        if any(form in payload for form in forms):
            return False
    return True


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """An in-memory keyring installed as the process' keyring (restored afterwards)."""
    import keyring

    from mxlab.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def workspace(tmp_path: Path, memory_keyring: Any) -> Iterator[Any]:
    """A fresh workspace file in tmp_path, its secrets in the in-memory keyring."""
    from workspace.secrets import SecretStore
    from workspace.session import Workspace

    ws = Workspace.open(tmp_path / "ws.sqlite3", SecretStore(memory_keyring))
    yield ws
    ws.close()


@pytest.fixture(scope="session", autouse=True)
def private_default_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Commands run without --workspace keep their history here, not in the user's home."""
    path = tmp_path_factory.mktemp("default-workspace") / "workspace.sqlite3"
    previous = os.environ.get("MXPILOT_WORKSPACE")
    os.environ["MXPILOT_WORKSPACE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("MXPILOT_WORKSPACE", None)
    else:
        os.environ["MXPILOT_WORKSPACE"] = previous


@pytest.fixture(scope="session")
def identity_provider(lab_certs: LabCertificates) -> Iterator[Any]:
    """The lab identity provider (HTTPS on 127.0.0.1, lab CA), shared by the session."""
    from mxlab.identity import LabIdentityProvider

    provider = LabIdentityProvider(lab_certs)
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def identity(identity_provider: Any) -> Any:
    """The session identity provider: behaviour reset, device_interval 0, lab apps and users."""
    from mxlab.identity import register_lab_accounts

    identity_provider.reset_behaviour()
    identity_provider.device_interval = 0
    register_lab_accounts(identity_provider)
    return identity_provider
