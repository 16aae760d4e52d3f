"""``mxpilot demo``: the demo lab, its workspace, the checks it proves and the command."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mxlab.demo import (
    ALERTS_ADDRESS,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    SALES_ADDRESS,
    DemoError,
    DemoLab,
    create_demo_workspace,
)
from mxlab.memory_keyring import MemoryKeyring
from probes.status import Status
from workspace.accounts.model import AccountRole, Side
from workspace.auth.sign_in import SignIn
from workspace.secrets import SecretStore
from workspace.session import Workspace
from workspace.usecases.verify_checklist import ChecklistVerifier

PASSING = {
    "verify-domain",
    "enable-imap",
    "gmail-enable-imap",
    "gmail-app-passwords",
    "spf-coexistence",
    "test-imap",
    "test-imap-order-inbox",
    "migration-csv",
    "dmarc-enforce",
}
FAILING = {"enable-smtp-auth", "test-smtp", "dkim-cnames", "mx-cutover", "autodiscover"}
SMTP_AUTH_ITEMS = ["enable-smtp-auth", "test-smtp"]


@pytest.fixture(scope="module")
def lab() -> Iterator[DemoLab]:
    """One demo lab for the module's tests."""
    with DemoLab() as running:
        yield running


@pytest.fixture
def demo_ws(tmp_path: Path, lab: DemoLab) -> Iterator[tuple[Workspace, MemoryKeyring]]:
    """A demo workspace on the lab, its passwords in a private in-memory keyring."""
    backend = MemoryKeyring()
    ws = create_demo_workspace(tmp_path / "demo", lab, SecretStore(backend))
    yield ws, backend
    ws.close()


def _ports(lab: DemoLab) -> list[int]:
    assert lab.imap and lab.gmail_imap and lab.smtp_submission and lab.smtp_tls
    assert lab.smtp_tenant_disabled
    return [
        lab.dns.port,
        lab.imap.tls_port,
        lab.imap.plain_port,
        lab.gmail_imap.tls_port,
        lab.gmail_imap.plain_port,
        lab.smtp_submission.port,
        lab.smtp_tls.port,
        lab.smtp_tenant_disabled.port,
    ]


def test_lab_starts_on_loopback_and_stops_without_leftovers() -> None:
    before = set(threading.enumerate())
    lab = DemoLab().start()
    try:
        ports = _ports(lab)
        directory = lab.directory
        assert directory is not None and lab.ca_file.is_file()
        for port in ports:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with pytest.raises(OSError):  # MTA-STS fetches are refused at once
            socket.create_connection(("127.0.0.1", lab.https_port), timeout=2).close()
        settings = lab.connection_settings("es")
        assert settings.ca_file == lab.ca_file and settings.nameserver == lab.nameserver
        assert settings.https_port == lab.https_port and settings.lang == "es"
    finally:
        started = time.monotonic()
        lab.stop()
    assert time.monotonic() - started < 5
    assert not lab.running and not directory.exists()
    deadline = time.monotonic() + 3
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(threading.enumerate()) - before
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    lab.stop()  # a second stop is harmless


def test_workspace_has_the_seed_accounts_and_a_checklist(
    demo_ws: tuple[Workspace, MemoryKeyring], lab: DemoLab
) -> None:
    ws, backend = demo_ws
    accounts = {a.name: a for a in ws.accounts.list()}
    assert set(accounts) == {"controloc", "controloc-gmail", "ana.garcia", "alerts", "ventas"}
    service = accounts["controloc"]
    assert service.address == f"controloc@{DEMO_DOMAIN}" and service.side is Side.SERVICE
    assert set(service.roles) == {
        AccountRole.MONITORING,
        AccountRole.SENDER,
        AccountRole.ORDER_INBOX,
    }
    assert lab.imap is not None and lab.smtp_tenant_disabled is not None
    assert service.imap is not None and service.imap.port == lab.imap.tls_port
    assert accounts["controloc-gmail"].side is Side.SOURCE
    assert accounts["alerts"].smtp is not None
    assert accounts["alerts"].smtp.port == lab.smtp_tenant_disabled.port
    for account in accounts.values():
        assert ws.accounts.secret(account) == DEMO_PASSWORD
        assert account.notes.startswith("Demo account")
        assert account.imap is None or account.imap.host == "127.0.0.1"
        assert account.smtp is None or account.smtp.host == "127.0.0.1"
    assert len(backend.entries) == len(accounts)
    checklist = ws.checklists.get()
    assert (checklist.domain, checklist.tenant, checklist.lang) == (DEMO_DOMAIN, "demotenant", "en")


def test_a_used_workspace_is_refused_and_spanish_is_offered(tmp_path: Path, lab: DemoLab) -> None:
    secrets = SecretStore(MemoryKeyring())
    create_demo_workspace(tmp_path / "es", lab, secrets, lang="es").close()
    with Workspace.open(tmp_path / "es", secrets) as ws:
        assert ws.checklists.get().lang == "es"
    with pytest.raises(DemoError, match="not empty"):
        create_demo_workspace(tmp_path / "es", lab, secrets)


async def test_verifier_proves_what_works_and_shows_the_5_7_139_failure_and_its_fix(
    demo_ws: tuple[Workspace, MemoryKeyring], lab: DemoLab
) -> None:
    ws, _ = demo_ws
    settings = lab.connection_settings()

    def verifier() -> ChecklistVerifier:
        return ChecklistVerifier(
            ws, settings.probe_options(), settings.dns_client(), settings.https()
        )

    outcomes = {o.item_id: o for o in await verifier().run(ws.checklists.get())}
    for item_id in PASSING:
        assert outcomes[item_id].status is Status.PASS, (item_id, outcomes[item_id].summary)
    for item_id in FAILING:
        assert outcomes[item_id].status is Status.FAIL, (item_id, outcomes[item_id].summary)
    for item_id in SMTP_AUTH_ITEMS:
        summary = outcomes[item_id].summary
        assert (
            "alerts" in summary and "5.7.139" in summary and "SmtpClientAuthentication" in summary
        )
    assert ws.checklists.get().item("test-imap").status_label == "verified"

    assert "ventas" in outcomes[SMTP_AUTH_ITEMS[0]].summary  # its password: Basic auth is off

    assert not lab.tenant_smtp_auth_enabled
    lab.set_tenant_smtp_auth(True)  # the fix: SMTP AUTH turned on for the tenant
    ws.use_connection(settings)
    ventas = ws.accounts.get("ventas")
    app = ws.signins.app(ventas)
    assert app is not None  # the demo's app registration is ready

    async def no_wait(_: float) -> None:
        await asyncio.sleep(0)

    assert lab.identity is not None
    lab.identity.device_interval = 0  # the demo's one-second polls, without the waiting
    try:
        signed = await SignIn(ws.tokens, ventas, app).device(lambda _: None, sleep=no_wait)
    finally:
        lab.identity.device_interval = 1
    assert signed.tokens.signed_in_as == SALES_ADDRESS  # and ventas moves to OAuth
    try:
        fixed = await verifier().run(ws.checklists.get(), SMTP_AUTH_ITEMS)
    finally:
        lab.set_tenant_smtp_auth(False)
    assert [o.status for o in fixed] == [Status.PASS, Status.PASS], fixed[0].summary
    assert ALERTS_ADDRESS in fixed[0].summary and "ventas" in fixed[0].summary


def test_lab_modules_stay_free_of_ui_and_test_code() -> None:
    code = (
        "import sys, mxlab.demo, mxlab.imap, mxlab.smtp, mxlab.dns_zones, mxlab.memory_keyring\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "bad = sorted(roots & {'textual', 'tests', 'pytest'})\n"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_demo_command_without_tui_prints_banner_and_endpoints_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mxpilot", "demo", "--no-tui", "--lang", "en"],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while "ctrl+c" not in out.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, err.read_text()
                time.sleep(0.1)
            printed = out.read_text()
            assert "ctrl+c" in printed, err.read_text()
            process.send_signal(signal.SIGINT)
            started = time.monotonic()
            code = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert code == 0, err.read_text()
    assert time.monotonic() - started < 5
    banner = err.read_text()
    assert "mxpilot DEMO" in banner and "no real account" in banner
    for what in ("DNS server", "IMAP, Microsoft 365", "SMTP submission", "SMTP, tenant AUTH off"):
        assert what in printed
    assert re.search(
        r"probe --account controloc --ca-file \S+ --nameserver 127\.0\.0\.1:\d+", printed
    )
    workspace = Path(re.findall(r"--workspace (\S+) accounts list", printed)[0])
    ca_file = Path(re.findall(r"--ca-file (\S+)", printed)[0])
    assert not workspace.exists() and not ca_file.exists()  # the temporary files are gone
