"""Fixtures only the lab tests use: probe options, the mail DNS zone, the OAuth Dovecot, ``mx``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mxlab.certs import LabCertificates
from probes.mail.model import Credentials, Timeouts
from probes.mail.runner import ProbeOptions
from probes.mail.tls import TlsSettings
from tests.conftest import (
    IMAP_MESSAGES,
    IMAP_USERS,
    LAB_PASSWORD,
    LAB_USER,
    OAUTH_IMAP_MESSAGES,
    OAUTH_IMAP_SCOPE,
    Run,
    require_lab,
)


@pytest.fixture
def lab_options(lab_certs: LabCertificates) -> ProbeOptions:
    """Probe options that trust the lab CA only, with short timeouts."""
    return ProbeOptions(
        timeouts=Timeouts(resolve=2.0, connect=2.0, tls=2.0, reply=2.0, detect=1.0),
        tls=TlsSettings(ca_file=lab_certs.ca_pem),
    )


@pytest.fixture
def lab_credentials() -> Credentials:
    """The SMTP lab's user and password."""
    return Credentials(LAB_USER, LAB_PASSWORD)


@pytest.fixture(scope="session")
def dns_lab() -> Iterator[Any]:
    """The lab's authoritative DNS server with the mail fixture zone."""
    from mxlab.dns_server import DnsLab, mail_lab_zone

    lab = DnsLab()
    mail_lab_zone(lab)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture
def mx(
    tmp_path: Path,
    memory_keyring: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    """Run ``mxpilot --workspace TMP ...`` in-process; returns (exit code, stdout, stderr)."""
    import io
    import sys

    from mxpilot.cli import main

    workspace = tmp_path / "ws"
    workspace.mkdir()

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--workspace", str(workspace), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    run.workspace = workspace  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="session")
def dovecot_oauth(
    tmp_path_factory: pytest.TempPathFactory, lab_certs: LabCertificates, identity_provider: Any
) -> Iterator[Any]:
    """A private Dovecot whose XOAUTH2/OAUTHBEARER tokens are checked by ``identity_provider``.

    Introspection (RFC 7662, POST) must show an active token of the user with the IMAP
    scope. The IMAP_USERS plus LAB_USER (the identity provider's user, who also has a
    password) sign in with PLAIN/LOGIN as on the ``dovecot`` fixture.
    """
    from tests.labkit.dovecot import DovecotLab

    require_lab(DovecotLab.oauth2_unavailable())
    lab = DovecotLab(
        tmp_path_factory.mktemp("dovecot-oauth"),
        cert_pem=lab_certs.cert_pem,
        key_pem=lab_certs.key_pem,
        users={**IMAP_USERS, LAB_USER: LAB_PASSWORD},
        messages={**IMAP_MESSAGES, LAB_USER: OAUTH_IMAP_MESSAGES},
        oauth2_introspection_url=f"{identity_provider.base_url}/introspect",
        oauth2_ca_file=identity_provider.ca_file,
        oauth2_scope=OAUTH_IMAP_SCOPE,
    )
    lab.start()
    yield lab
    lab.stop()
