"""The Probes screen against the lab: live rows, detail, copy a fix, cancel, watch until fixed."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, SelectionList, Sparkline, Static

from mxlab.certs import LabCertificates
from mxlab.smtp import PERSONALITIES, SmtpLabServer
from probes.mail.model import (
    Phase,
    PhaseName,
    PhaseStarted,
    ProbeFinished,
    ProbeResult,
    Protocol,
    Security,
    Target,
)
from probes.status import Status
from tests.conftest import IMAP_USERS, LAB_PASSWORD, LAB_USER, secret_free
from tests.labkit.hostile import HostilePeer
from tests.labkit.latency import LatencyProxy
from tests.waits import wait_until
from tui.app import MxPilotApp
from tui.screens.probes.board import ProbeBoard, RowSpec
from tui.screens.probes.plan import preset_choice
from tui.screens.probes.screen import ProbesScreen
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side, with_preset_endpoints
from workspace.connection import ConnectionSettings
from workspace.session import Workspace

IMAP_USER, IMAP_PASSWORD = next(iter(IMAP_USERS.items()))


def sender(port: int, name: str = "sender") -> Account:
    """An application's sending account on a lab SMTP port (STARTTLS)."""
    return Account(
        name=name,
        address=LAB_USER,
        side=Side.SERVICE,
        roles=(AccountRole.SENDER,),
        smtp=MailEndpoint("127.0.0.1", port, Security.STARTTLS),
    )


def lab_app(workspace: Workspace, certs: LabCertificates, timeout: float = 3.0) -> MxPilotApp:
    if not workspace.checklists.names():
        workspace.checklists.create("m365.lab.test")
    return MxPilotApp(workspace, ConnectionSettings(ca_file=certs.ca_pem, timeout=timeout))


async def open_probes(pilot: Pilot[Any], *checked: str) -> ProbesScreen:
    await pilot.pause()
    await pilot.press("2")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ProbesScreen)
    accounts = screen.query_one("#probes-accounts", SelectionList)
    for name in checked:
        accounts.select(name)
    await pilot.pause()
    return screen


def cells(screen: ProbesScreen, key: str) -> list[str]:
    table = screen.query_one("#probes-table", DataTable)
    return [str(cell) for cell in table.get_row(key)]


def verdict(screen: ProbesScreen, key: str) -> Status | None:
    row = screen.board.get(key)
    return row.verdict if row is not None and not row.running else None


def detail_text(screen: ProbesScreen) -> str:
    console = Console(width=160, file=io.StringIO(), record=True, color_system=None)
    for part in ("#probes-verdict", "#probes-facts"):
        console.print(screen.query_one(part, Static).content)
    return console.export_text()


def only_key(screen: ProbesScreen) -> str:
    (key,) = screen.board.rows
    return key


async def test_rows_update_live_then_pass(
    workspace: Workspace, lab_certs: LabCertificates, smtp_server: Callable[..., SmtpLabServer]
) -> None:
    server = smtp_server("starttls")
    with LatencyProxy("127.0.0.1", server.port, rtt=0.1) as proxy:
        workspace.accounts.add(sender(proxy.port), LAB_PASSWORD)
        app = lab_app(workspace, lab_certs)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_probes(pilot, "sender")
            await pilot.press("r")
            seen: list[list[str]] = []

            def finished() -> bool:
                if not screen.board.rows:
                    return False
                seen.append(cells(screen, only_key(screen)))
                return verdict(screen, only_key(screen)) is not None

            await wait_until(pilot, finished, "the probe to finish")
            await app.workers.wait_for_complete()
            key = only_key(screen)
            running = [row for row in seen if row[2] == "…"]
            phases = {row[1].split(" ", 1)[1] for row in running}
            assert phases & {"greeting", "capabilities", "starttls", "tls (after STARTTLS)"}, seen
            assert seen.index(running[0]) < len(seen) - 1
            assert cells(screen, key)[2] == "PASS"
            assert cells(screen, key)[3].endswith(" ms")
    (run,) = workspace.history.recent(account_name="sender")
    assert run.status == "pass" and run.kind == "probe"


async def test_detail_shows_phases_certificate_and_masked_transcript(
    workspace: Workspace,
    lab_certs: LabCertificates,
    smtp_server: Callable[..., SmtpLabServer],
    dovecot: Any,
) -> None:
    server = smtp_server("starttls", users={IMAP_USER: IMAP_PASSWORD})
    mailbox = Account(
        name="mailbox",
        address=IMAP_USER,
        roles=(AccountRole.MAILBOX,),
        imap=MailEndpoint("127.0.0.1", dovecot.imaps_port, Security.TLS),
        smtp=MailEndpoint("127.0.0.1", server.port, Security.STARTTLS),
    )
    workspace.accounts.add(mailbox, IMAP_PASSWORD)
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=(160, 60)) as pilot:
        screen = await open_probes(pilot, "mailbox")
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                len(screen.board) == 2
                and all(verdict(screen, k) is Status.PASS for k in screen.board.rows)
            ),
            "both probes to pass",
        )
        await app.workers.wait_for_complete()
        assert screen.has_class("-wide")  # the detail pane sits beside the table
        table = screen.query_one("#probes-table", DataTable)
        table.focus()
        for index, key in enumerate(screen.board.rows):
            table.move_cursor(row=index)
            await pilot.pause()
            assert screen.highlighted == key
            text = detail_text(screen)
            assert "Phases" in text and "auth" in text and " ms" in text
            assert "Certificate (tls" in text and "mail.lab.test" in text
            assert "verified  yes" in text and "Capabilities" in text
            assert "Transcript (secrets masked)" in text and "****" in text
            assert secret_free(text, IMAP_PASSWORD)
            assert secret_free(app.export_screenshot(), IMAP_PASSWORD)
        sparkline = screen.query_one("#probes-sparkline", Sparkline)
        assert sparkline.data is not None and len(sparkline.data) == 1
    assert {r.status for r in workspace.history.recent(account_name="mailbox")} == {"pass"}


async def test_copy_a_fix_command_of_a_failing_probe(
    workspace: Workspace, lab_certs: LabCertificates, smtp_server: Callable[..., SmtpLabServer]
) -> None:
    server = smtp_server("starttls", personality="o365_tenant_disabled")
    workspace.accounts.add(sender(server.port), LAB_PASSWORD)
    app = lab_app(workspace, lab_certs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(pilot, "sender")
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(screen.board.rows), "the rows")
        key = only_key(screen)
        await wait_until(pilot, lambda: verdict(screen, key) is Status.FAIL, "the failure")
        await app.workers.wait_for_complete()
        screen.query_one("#probes-table", DataTable).focus()
        await pilot.press("c")
        first = app.clipboard
        assert "Set-CASMailbox" in first
        assert "SMTP AUTH is disabled for the tenant" in detail_text(screen)
        commands = screen.board.rows[key].commands
        if len(commands) > 1:
            await pilot.press("c")
            assert app.clipboard == commands[1][1]
        assert secret_free(app.export_screenshot(), LAB_PASSWORD)
    (run,) = workspace.history.recent(account_name="sender")
    assert run.status == "fail"


async def test_cancel_stops_a_silent_server_quickly(
    workspace: Workspace, lab_certs: LabCertificates, hostile_peer: Callable[..., HostilePeer]
) -> None:
    peer = hostile_peer("silent")
    workspace.accounts.add(sender(peer.port), LAB_PASSWORD)
    app = lab_app(workspace, lab_certs, timeout=10.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(pilot, "sender")
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(screen.board.rows), "the rows")
        key = only_key(screen)
        await wait_until(pilot, lambda: screen.board.rows[key].phase == "greeting", "greeting")
        started = time.monotonic()
        await pilot.press("x")
        await wait_until(pilot, lambda: not screen.board.running, "the cancellation")
        await app.workers.wait_for_complete()
        assert time.monotonic() - started < 2.0
        assert cells(screen, key)[2] == "CANCELLED"
        row = screen.board.rows[key]
        assert row.result is not None and row.result.cancelled
    assert workspace.history.recent(account_name="sender") == []  # a cancelled run is no verdict


async def test_watch_until_fixed(
    workspace: Workspace, lab_certs: LabCertificates, smtp_server: Callable[..., SmtpLabServer]
) -> None:
    server = smtp_server("starttls", personality="o365_tenant_disabled")
    workspace.accounts.add(sender(server.port), LAB_PASSWORD)
    app = lab_app(workspace, lab_certs)
    bells: list[bool] = []
    app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(pilot, "sender")
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(screen.board.rows), "the rows")
        key = only_key(screen)
        await wait_until(pilot, lambda: verdict(screen, key) is Status.FAIL, "the failure")
        await app.workers.wait_for_complete()
        screen.query_one("#probes-interval", Input).value = "0.3"
        await pilot.pause()
        assert screen.watch_interval == 0.3
        screen.query_one("#probes-table", DataTable).focus()
        await pilot.press("w")
        assert screen.watching
        sparkline = screen.query_one("#probes-sparkline", Sparkline)
        await wait_until(
            pilot, lambda: len(screen.board.rows[key].latencies) >= 3, "three watch rounds"
        )
        assert verdict(screen, key) is Status.FAIL and not bells
        server.personality = PERSONALITIES["ok"]  # the admin enabled SMTP AUTH
        await wait_until(pilot, lambda: verdict(screen, key) is Status.PASS, "the fix")
        await wait_until(pilot, lambda: not screen.watching, "the watch to end")
        assert bells
        titles = [n.title for n in app._notifications]
        assert "Verdict changed: passes now" in titles
        assert cells(screen, key)[2] == "PASS"
        assert sparkline.data is not None and len(sparkline.data) >= 4
    statuses = [r.status for r in workspace.history.recent(account_name="sender")]
    assert statuses[0] == "pass" and statuses.count("fail") >= 3


async def test_preset_on_a_host(workspace: Workspace, lab_certs: LabCertificates) -> None:
    """A preset's ports on one host (loopback: closed ports answer at once), no account."""
    app = lab_app(workspace, lab_certs, timeout=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(pilot)
        screen.query_one("#probes-preset", Select).value = "custom"
        screen.query_one("#probes-host", Input).value = "127.0.0.1"
        screen.query_one("#probes-table", DataTable).focus()
        await pilot.press("r")
        await wait_until(pilot, lambda: len(screen.board) == 5, "the preset's rows")
        await wait_until(pilot, lambda: not screen.board.running, "every port")
        await app.workers.wait_for_complete()
        titles = [row.title for row in screen.board.rows.values()]
        assert titles[0] == "custom submission 127.0.0.1:587"
        assert all(row.verdict is not None for row in screen.board.rows.values())
    runs = workspace.history.recent()
    assert len(runs) == 5 and {r.account_name for r in runs} == {None}


def test_preset_choice_reads_one_or_two_hosts() -> None:
    choice = preset_choice("custom", "smtp.example.org, imap.example.org")
    hosts = {(e.protocol.value, e.host) for e in choice.endpoints}
    assert hosts == {("smtp", "smtp.example.org"), ("imap", "imap.example.org")}
    assert preset_choice("office365", "").host == "smtp.office365.com"
    with pytest.raises(ValueError, match="needs a host"):
        preset_choice("custom", " ")


def test_board_feeds_every_row_of_a_shared_target_and_reports_verdict_changes() -> None:
    target = Target("127.0.0.1", 587, Protocol.SMTP, Security.STARTTLS)
    board = ProbeBoard()
    specs = [RowSpec("a", "a smtp", target, "a"), RowSpec("b", "b smtp", target, "b")]
    for status, expected in ((Status.FAIL, []), (Status.PASS, ["a", "b"])):
        plan = board.begin(specs)
        assert plan.targets == [target]
        board.apply(plan, PhaseStarted(target, PhaseName.CONNECT))
        assert {row.phase for row in board.running} == {"connect"}
        result = ProbeResult(target, [Phase(PhaseName.CONNECT, status)], duration=0.01)
        _, changes = board.apply(plan, ProbeFinished(result))
        assert [c.key for c in changes] == expected
    assert not board.failing and [len(r.latencies) for r in board.rows.values()] == [2, 2]


def test_snapshot_accounts_listed_before_a_run(workspace: Workspace, snap_compare: Any) -> None:
    workspace.checklists.create("hotelsales.cl")
    for name, address, side, provider in (
        ("gmail-source", "ocx@gmail.com", Side.SOURCE, "gmail"),
        ("controloc", "controloc@hotelsales.cl", Side.TARGET, "office365"),
    ):
        workspace.accounts.add(
            with_preset_endpoints(Account(name, address, side=side, provider=provider))
        )
    app = MxPilotApp(workspace, ConnectionSettings())

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_probes(pilot, "controloc")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_an_oauth_account_probes_with_its_token_and_shows_the_claims(
    workspace: Workspace,
    lab_certs: LabCertificates,
    smtp_server: Callable[..., SmtpLabServer],
    identity: Any,
) -> None:
    """Signed in with OAuth: the Probes screen logs in with XOAUTH2 and shows the token's claims;
    expired at the provider, the run fails, and the next run refreshes the token and passes."""
    from mxlab.identity import LAB_MS_CLIENT
    from mxlab.identity import LAB_USER as OAUTH_USER
    from probes.oauth.endpoints import IdentityPlatform, OAuthApp
    from workspace.auth.sign_in import SignIn

    server = smtp_server(
        "starttls",
        "o365_basic_disabled",
        users={},
        oauth_introspection_url=f"{identity.base_url}/introspect",
        oauth_ca_file=identity.ca_file,
    )
    account = workspace.accounts.add(replace(sender(server.port), address=OAUTH_USER))
    app = lab_app(workspace, lab_certs)
    identity.auto_approve = OAUTH_USER
    ms = OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, "lab", identity.base_url)

    async def no_wait(_: float) -> None:
        return None

    async with app.run_test(size=(100, 40)) as pilot:
        signed = await SignIn(workspace.tokens, account, ms).device(lambda _: None, sleep=no_wait)
        screen = await open_probes(pilot, "sender")
        await pilot.press("r")
        await wait_until(pilot, lambda: verdict(screen, only_key(screen)) is not None, "a run")
        await app.workers.wait_for_complete()
        assert verdict(screen, only_key(screen)) is Status.PASS
        await pilot.pause()
        text = detail_text(screen)
        assert "OAuth token (its own claims)" in text and "SMTP.Send" in text
        assert "AUTH XOAUTH2 ****" in text
        assert secret_free(text, signed.tokens.access_token)

        identity.expire_access_tokens()  # the provider ends it early; the clock does not know
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: verdict(screen, only_key(screen)) is Status.FAIL, "fail")
        await pilot.press("r")  # the refused token was dropped: this run refreshes it
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: verdict(screen, only_key(screen)) is Status.PASS, "pass")
