"""The Checklist screen: tick by key, notes, checks against the lab, evidence, export, Spanish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.smtp import PERSONALITIES, SmtpLabServer
from probes.mail.model import Security
from probes.mail.resolve import Nameserver
from render.text import markdown_text
from tests.conftest import LAB_PASSWORD, LAB_USER
from tests.waits import settle
from tui.app import MxPilotApp
from tui.screens.checklist.dialogs import ExportDialog, NoteDialog
from tui.screens.checklist.evidence import EvidenceDialog
from tui.screens.checklist.screen import ChecklistScreen
from tui.screens.first_run import FirstRunScreen
from tui.widgets.checklist_phases import PhaseList
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side
from workspace.checklist.book import current_user
from workspace.connection import ConnectionSettings
from workspace.session import Workspace

SIZE = (80, 24)


@pytest.fixture
def lab_settings(lab_certs: LabCertificates, zones: DnsLab) -> ConnectionSettings:
    """Trust the lab CA, ask the lab DNS server."""
    return ConnectionSettings(
        ca_file=lab_certs.ca_pem, nameserver=Nameserver("127.0.0.1", zones.port), timeout=3.0
    )


def screen_of(app: MxPilotApp) -> ChecklistScreen:
    screen = app.screen
    assert isinstance(screen, ChecklistScreen), screen
    return screen


async def go_to(pilot: Pilot[Any], item_id: str) -> ChecklistScreen:
    """Move the cursor with the arrow keys until ``item_id`` is highlighted."""
    screen = screen_of(pilot.app)  # type: ignore[arg-type]
    for _ in range(60):
        if screen.current_id == item_id:
            return screen
        await pilot.press("down")
    raise AssertionError(f"{item_id} not reached (at {screen.current_id})")


def row_text(screen: ChecklistScreen, item_id: str) -> str:
    """The visible cells of an item's row, as plain text."""
    return " | ".join(cell.plain for cell in screen.query_one(PhaseList).row_cells(item_id))


async def test_tick_untick_skip_and_block_by_key(workspace: Workspace) -> None:
    checklist = workspace.checklists.create("m365.lab.test")
    first, second = checklist.items[0].item_id, checklist.items[1].item_id
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = screen_of(app)
        assert screen.current_id == first
        await pilot.press("space")
        await pilot.pause()
        item = workspace.checklists.get().item(first)
        assert item.state.value == "done" and item.changed_by == current_user()
        assert item.changed_at is not None
        assert row_text(screen, first).startswith("[x] | ✓ done")
        assert current_user() in row_text(screen, first)
        assert "1/18" in screen.query_one(PhaseList).heading(0).plain  # the first phase's count
        await pilot.press("space")  # untick
        await pilot.pause()
        assert workspace.checklists.get().item(first).state.value == "open"
        assert row_text(screen, first).startswith("[ ] | ○ open")
        await pilot.press("down", "s")
        await pilot.pause()
        assert screen.current_id == second
        assert workspace.checklists.get().item(second).state.value == "skipped"
        assert row_text(screen, second).startswith("[-] | – skipped")
        await pilot.press("b")
        await pilot.pause()
        assert workspace.checklists.get().item(second).state.value == "blocked"
        await pilot.press("b")  # again: reopened
        await pilot.pause()
        assert workspace.checklists.get().item(second).state.value == "open"
    actions = [e.action for e in workspace.checklists.events(checklist)]
    assert actions == ["done", "open", "skipped", "blocked", "open"]


async def test_edit_a_note(workspace: Workspace) -> None:
    checklist = workspace.checklists.create("m365.lab.test")
    item_id = checklist.items[2].item_id
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await go_to(pilot, item_id)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one(TextArea).text = "waiting for the DNS admin"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)
        assert workspace.checklists.get().item(item_id).note == "waiting for the DNS admin"
        assert "✎ waiting" in row_text(screen, item_id)
        await pilot.press("n")  # escape leaves it as it was
        await pilot.pause()
        app.screen.query_one(TextArea).text = "something else"
        await pilot.press("escape")
        await pilot.pause()
    assert workspace.checklists.get().item(item_id).note == "waiting for the DNS admin"


async def test_run_a_check_evidence_and_regression(
    workspace: Workspace,
    smtp_server: Callable[..., SmtpLabServer],
    lab_settings: ConnectionSettings,
) -> None:
    smtp = smtp_server("starttls")
    workspace.accounts.add(
        Account(
            name="target",
            address=LAB_USER,
            side=Side.TARGET,
            provider="office365",
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint("127.0.0.1", smtp.port, Security.STARTTLS),
        ),
        LAB_PASSWORD,
    )
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace, lab_settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await go_to(pilot, "enable-smtp-auth")
        await pilot.press("r")
        await settle(app, pilot)
        item = workspace.checklists.get().item("enable-smtp-auth")
        assert item.status_label == "verified", item.last_check
        assert "✔ verified" in row_text(screen, "enable-smtp-auth")
        assert "check" in row_text(screen, "enable-smtp-auth")  # who: the check
        await pilot.press("v")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EvidenceDialog)
        text = dialog.plain_text()
        assert "Evidence:" in text and "PASS" in text and "Phases" in text
        assert f"127.0.0.1:{smtp.port}" in text and LAB_PASSWORD not in text
        await pilot.press("j")  # the JSON as stored
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen

        # Microsoft turns SMTP AUTH off for the tenant: run again, the item regresses
        smtp.personality = PERSONALITIES["o365_tenant_disabled"]
        await pilot.press("r")
        await settle(app, pilot)
        item = workspace.checklists.get().item("enable-smtp-auth")
        assert item.status_label == "regressed"
        assert "⚠ regressed" in row_text(screen, "enable-smtp-auth")
        assert "regressed" in str(screen.query_one("#checklist-summary", Static).content)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceDialog)
        text = app.screen.plain_text()
        assert "Last check:" in text and "5.7.139" in text and "Evidence:" in text
        await pilot.press("escape")


async def test_dns_item_verified_against_the_lab_zones(
    workspace: Workspace, lab_settings: ConnectionSettings
) -> None:
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace, lab_settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await go_to(pilot, "mx-cutover")
        await pilot.press("r")
        await settle(app, pilot)
        assert workspace.checklists.get().item("mx-cutover").status_label == "verified"
        assert "✔ verified" in row_text(screen, "mx-cutover")
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceDialog)
        text = app.screen.plain_text()
        assert "Domain: m365.lab.test — profile office365" in text
        assert "PASS mx" in text


async def test_export_writes_the_reports(workspace: Workspace, tmp_path: Path) -> None:
    checklist = workspace.checklists.create("m365.lab.test")
    workspace.checklists.set_state(checklist, checklist.items[0].item_id, checklist.items[0].state)
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert app.screen.query_one(Input).value == str(tmp_path / "m365.lab.test-report")
        await pilot.press("enter")
        await pilot.pause()
        markdown = (tmp_path / "m365.lab.test-report.md").read_text(encoding="utf-8")
        assert (tmp_path / "m365.lab.test-report.html").read_text().startswith("<!")
        for item in checklist.items:  # escaped for Markdown: ( ) become \( \)
            assert markdown_text(item.title) in markdown
        await pilot.press("x")  # a path of one's own, suffix optional
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "out.md")
        await pilot.press("enter")
        await pilot.pause()
    assert (tmp_path / "out.md").exists() and (tmp_path / "out.html").exists()


async def test_copy_the_first_command(workspace: Workspace) -> None:
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await go_to(pilot, "enable-smtp-auth")
        await pilot.press("c")
        await pilot.pause()
    first = workspace.checklists.get().item("enable-smtp-auth").commands[0].command
    assert app.clipboard == first


async def test_spanish_checklist_shows_spanish_titles(workspace: Workspace) -> None:
    workspace.checklists.create("m365.lab.test", lang="es")
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = screen_of(app)
        phases = screen.query_one(PhaseList)
        titles = ["Pre-migración", "Pruebas", "Migración", "Post-migración"]
        assert [phase.title for phase in phases.phases] == titles
        for index, title in enumerate(titles):  # each phase's heading line shows its title
            assert phases.heading(index).plain.startswith(f"{title} ")
        assert "Habilitar SMTP AUTH" in row_text(screen, "enable-smtp-auth")
        assert "Gmail a Microsoft 365" in str(
            screen.query_one("#checklist-summary", Static).content
        )


async def test_without_a_checklist_it_says_how_to_start(workspace: Workspace) -> None:
    app = MxPilotApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("escape")
        await pilot.pause()
        screen = screen_of(app)
        assert "mxpilot checklist new" in str(
            screen.query_one("#checklist-empty-text", Static).content
        )
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        app.screen.query_one("#first-run-domain", Input).value = "hotelsales.cl"
        await pilot.pause()
        await pilot.click("#first-run-create")
        await pilot.pause()
        await pilot.pause()
        assert screen_of(app).checklist is not None
        assert len(screen.query_one(PhaseList).phases) == 4


def test_snapshot_fresh_checklist(workspace: Workspace, snap_compare: Any) -> None:
    workspace.checklists.create("m365.lab.test")

    async def highlight(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await go_to(pilot, "enable-smtp-auth")
        await pilot.pause()

    assert snap_compare(MxPilotApp(workspace), terminal_size=SIZE, run_before=highlight)


async def test_run_all_checks(workspace: Workspace, lab_settings: ConnectionSettings) -> None:
    """Every check at once: DNS items pass or show failing; probes without accounts say why."""
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace, lab_settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await settle(app, pilot)
        screen = screen_of(app)
        assert not screen.checking
        after = workspace.checklists.get()
        assert after.item("mx-cutover").status_label == "verified"
        failing = 0
        for item in after.items:
            if item.check is None:
                continue
            assert item.last_check is not None, item.item_id
            row = row_text(screen, item.item_id)
            if item.last_check.status == "fail":
                failing += 1
                assert "✗ failing" in row, row
            elif item.last_check.status == "skipped":
                assert "○ open" in row and "accounts add" in item.last_check.summary
            else:
                assert "✔ verified" in row, row
        assert failing, "the coexistence checks fail on a domain that moved to Microsoft 365"
