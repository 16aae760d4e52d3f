"""The DNS screen against the lab's DNS servers: verdicts, records to copy, watch, propagation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import full_lab, propagation_zone
from probes.dns.client import DnsClient
from probes.dns.profiles import Profile
from probes.mail.resolve import Nameserver
from probes.status import Status
from tests.waits import wait_until
from tui.app import MxPilotApp
from tui.screens.dns.screen import DnsScreen
from tui.widgets.dns_propagation import AGREE, DISAGREE
from workspace.connection import ConnectionSettings
from workspace.history import dns_subject
from workspace.session import Workspace


@dataclass(frozen=True)
class LabSettings(ConnectionSettings):
    """The session's settings with a fixed resolver label (keeps the port out of snapshots)."""

    resolver_label: str = ""

    def dns_client(self) -> DnsClient:
        client = super().dns_client()
        if self.resolver_label:
            client.label = self.resolver_label
        return client


def lab_settings(lab: Any, **kwargs: Any) -> LabSettings:
    return LabSettings(
        nameserver=Nameserver("127.0.0.1", lab.port), timeout=1.0, https_port=1, **kwargs
    )


@pytest.fixture
def own_lab() -> Iterator[DnsLab]:
    """A lab DNS server of this test alone (its zones change during the test)."""
    lab = DnsLab()
    full_lab(lab)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def prop_lab() -> Iterator[DnsLab]:
    """Every zone, and prop.lab.test served by 127.0.0.2 and 127.0.0.3 that disagree on MX."""
    main = DnsLab()
    full_lab(main)
    main.start()
    first = DnsLab("127.0.0.2", main.port)
    second = DnsLab("127.0.0.3", main.port)
    propagation_zone(main, first, second)
    first.start()
    second.start()
    yield main
    for server in (main, first, second):
        server.stop()


async def open_dns(pilot: Pilot[Any]) -> DnsScreen:
    """Go to the DNS screen and let its first audit (the checklist's domain) finish."""
    await pilot.press("3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DnsScreen)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def audit(pilot: Pilot[Any], screen: DnsScreen, domain: str, profile: Profile) -> None:
    screen.query_one("#dns-domain", Input).value = domain
    screen.query_one("#dns-profile", Select).value = profile
    await pilot.press("ctrl+r")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.audit is not None and screen.audit.domain == domain


def shown_text(screen: DnsScreen, selector: str) -> str:
    """The text a Static shows (its Rich renderable, rendered wide)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(screen.query_one(selector, Static).content)
    return console.export_text()


def verdicts(screen: DnsScreen) -> dict[str, Status]:
    assert screen.audit is not None
    return {check.id: check.status for check in screen.audit.checks}


async def test_office365_domain_passes_mx_and_is_recorded(workspace: Workspace, zones: Any) -> None:
    workspace.checklists.create("m365.lab.test", tenant="labtenant")
    app = MxPilotApp(workspace, lab_settings(zones))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dns(pilot)
        assert screen.audit is not None  # the checklist's domain, audited on arrival
        assert screen.audit.profile is Profile.COEXISTENCE
        await audit(pilot, screen, "m365.lab.test", Profile.OFFICE365)
        assert verdicts(screen)["mx"] is Status.PASS
        table = screen.query_one("#dns-checks", DataTable)
        assert table.row_count == len(screen.audit.checks)
        assert str(table.get_row_at(0)[1]) == "PASS"
    runs = workspace.history.recent()
    assert [r.kind for r in runs] == ["dns", "dns"]
    assert runs[0].subject == dns_subject("m365.lab.test", "office365")


async def test_gmail_domain_for_office365_copies_the_mx_to_add(
    workspace: Workspace, zones: Any
) -> None:
    workspace.checklists.create("gmail.lab.test", tenant="labtenant")
    app = MxPilotApp(workspace, lab_settings(zones))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dns(pilot)
        await audit(pilot, screen, "gmail.lab.test", Profile.OFFICE365)
        assert verdicts(screen)["mx"] is Status.FAIL
        screen.query_one("#dns-checks", DataTable).move_cursor(row=0)
        await pilot.pause()
        detail = shown_text(screen, "#dns-detail-body")
        assert "gmail-lab-test.mail.protection.outlook.com" in detail
        await pilot.press("c")
        await pilot.pause()
        lines = app.clipboard.splitlines()
        assert "gmail.lab.test. 3600 IN MX 0 gmail-lab-test.mail.protection.outlook.com." in lines
        assert "; gmail.lab.test. 3600 IN MX 1 smtp.google.com." in lines  # to remove


async def test_audit_runs_in_a_worker_while_keys_answer(
    workspace: Workspace, own_lab: DnsLab
) -> None:
    app = MxPilotApp(workspace, lab_settings(own_lab))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")  # no checklist: the first-run form
        screen = await open_dns(pilot)
        assert screen.audit is None
        own_lab.delay = 0.3  # every answer late: the audit takes a few seconds
        screen.query_one("#dns-domain", Input).value = "coexist.lab.test"
        await pilot.press("enter")  # the domain field has the focus
        await pilot.pause()
        worker = screen._worker
        assert worker is not None and worker.group == "dns" and not worker.is_finished
        await pilot.press("p")
        await pilot.pause()
        assert screen.has_class("-propagation")
        assert not worker.is_finished, "the key was answered while the audit ran"
        await app.workers.wait_for_complete()
        assert screen.audit is not None and screen.audit.domain == "coexist.lab.test"


async def test_watch_mode_sees_a_record_change_and_notifies(
    workspace: Workspace, own_lab: DnsLab
) -> None:
    workspace.checklists.create("gmail.lab.test", tenant="labtenant")
    app = MxPilotApp(workspace, lab_settings(own_lab))
    notes: list[str] = []
    bells: list[bool] = []
    async with app.run_test(size=(80, 24)) as pilot:
        real_notify = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            notes.append(message)
            real_notify(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
        screen = await open_dns(pilot)
        await audit(pilot, screen, "gmail.lab.test", Profile.OFFICE365)
        assert verdicts(screen)["mx"] is Status.FAIL
        screen.watch_interval = 0.2
        await pilot.press("w")
        await pilot.pause()
        assert screen.watching
        # the cut-over happens on the server, mid-test
        own_lab.records = [
            r for r in own_lab.records if not (r.name == "gmail.lab.test." and r.rtype == "MX")
        ]
        own_lab.add("gmail.lab.test", "MX", "0 gmail-lab-test.mail.protection.outlook.com.")
        own_lab.add("gmail-lab-test.mail.protection.outlook.com", "A", "127.0.2.1")
        await wait_until(pilot, lambda: verdicts(screen)["mx"] is Status.PASS, "MX to pass")
        await wait_until(pilot, lambda: any("MX: FAIL → PASS" in n for n in notes), "a notice")
        assert bells
        runs = len(workspace.history.recent())
        await wait_until(pilot, lambda: len(workspace.history.recent()) > runs, "another run")
        await pilot.press("w")
        await pilot.pause()
        assert not screen.watching
        await app.workers.wait_for_complete()


async def test_propagation_view_shows_servers_that_disagree(
    workspace: Workspace, prop_lab: DnsLab
) -> None:
    workspace.checklists.create("prop.lab.test")
    app = MxPilotApp(workspace, lab_settings(prop_lab, authoritative_port=prop_lab.port))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dns(pilot)
        assert screen.audit is not None and screen.audit.domain == "prop.lab.test"
        await pilot.press("p")
        await pilot.pause()
        table = screen.query_one("#dns-propagation-table", DataTable)
        assert table.display and table.has_focus
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        mx = rows[:2]  # MX first, one row per server
        assert {row[3] for row in mx} == {
            "ns1.prop.lab.test (127.0.0.2)",
            "ns2.prop.lab.test (127.0.0.3)",
        }
        assert all(row[0] == DISAGREE for row in mx)
        assert [row[1] for row in mx] == ["prop.lab.test MX", ""]
        assert sorted(row[2] for row in mx) == [
            "0 prop-lab-test.mail.protection.outlook.com.",
            "1 smtp.google.com.",
        ]
        assert any(row[1] == "prop.lab.test TXT" and row[0] == AGREE for row in rows)
        await pilot.press("p")
        await pilot.pause()
        assert screen.query_one("#dns-detail").display


async def test_asking_the_authoritative_servers(workspace: Workspace, zones: Any) -> None:
    workspace.checklists.create("m365.lab.test", tenant="labtenant")
    app = MxPilotApp(workspace, lab_settings(zones, authoritative_port=zones.port))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dns(pilot)
        screen.query_one("#dns-authoritative", Checkbox).value = True
        await audit(pilot, screen, "m365.lab.test", Profile.OFFICE365)
        assert screen.audit is not None
        assert screen.audit.resolver.startswith("authoritative: ns1.m365.lab.test")
        assert "authoritative: ns1.m365.lab.test" in shown_text(screen, "#dns-summary")


def test_snapshot_gmail_domain_during_coexistence(
    workspace: Workspace, zones: Any, snap_compare: Any
) -> None:
    workspace.checklists.create("gmail.lab.test", tenant="labtenant")
    app = MxPilotApp(workspace, lab_settings(zones, resolver_label="lab resolver"))

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_dns(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
