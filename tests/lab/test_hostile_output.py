"""Untrusted text is data: hostile DNS data, banners, addresses and paths never steer the output.

Real peers on loopback (the lab's dnslib server with a hostile zone, an SMTP peer whose every
reply carries C1 controls and markup) through the CLI (in-process, and a subprocess with colour
forced), ``--json``, the TUI, the reports, and one test that renders every result type with
hostile strings in every field.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console, RenderableType
from textual.pilot import Pilot
from textual.widgets import DataTable, SelectionList, Static

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.dns_zones import HOSTILE_DOMAIN, hostile_zone, provider_records
from mxlab.smtp import SmtpLabServer
from probes.diagnosis.model import Diagnosis, Fix
from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient
from probes.dns.profiles import Profile
from probes.mail.model import Credentials, ProbeResult, Protocol, Security, Target
from probes.mail.resolve import Nameserver
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status
from render.checklist_report import ChecklistReport
from render.diagnosis import diagnosis_block
from render.dns import audit_lines, check_detail, stored_dns_lines
from render.probe import evidence_lines, result_block, results_block, stored_probe_lines
from tests.conftest import LAB_USER, ROOT, Run
from tests.labkit.hostile_text import HOSTILE_WORDS, HostileTextSmtp
from tui.app import MxPilotApp
from tui.screens.dns.screen import DnsScreen
from tui.screens.probes.screen import ProbesScreen
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side
from workspace.checklist.model import ItemState
from workspace.connection import ConnectionSettings
from workspace.session import Workspace

SGR = re.compile(r"\x1b\[[0-9;]*m")
"""Rich's own colour codes: the only escape sequences allowed in the output."""

HOSTILE = (
    "[/bold] [link=https://evil.test]click[/link] [bold red]loud[/] "
    "\x1b[2J\x1b]0;owned title\x07 \x9b2J \x9d0;t\x9c \u202egnp.exe \u2066x\u2069 \r\x08\x00 ok"
)
"""Markup, ESC/OSC sequences, C1 controls, bidi overrides and C0 controls in one string."""


def assert_clean(output: str) -> None:
    """No raw control, escape sequence, bidi override or hyperlink other than Rich's SGR."""
    rest = SGR.sub("", output)
    for bad in ("\x1b", "\x9b", "\x9d", "\x9c", "\x07", "\x08", "\x00", "\r", "\u202e", "\u2066"):
        assert bad not in rest, (bad, rest[max(0, rest.find(bad) - 80) : rest.find(bad) + 80])
    assert "]8;;" not in rest  # no hyperlink (OSC 8) anywhere


def rendered(*parts: RenderableType, colour: bool = True) -> str:
    """What a terminal would receive (colours on): the raw output of a Rich console."""
    out = io.StringIO()
    console = Console(
        file=out, width=200, force_terminal=colour, color_system="truecolor" if colour else None
    )
    for part in parts:
        console.print(part)
    return out.getvalue()


def plain_text(*parts: RenderableType) -> str:
    return SGR.sub("", rendered(*parts, colour=False))


# The lab --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_dns() -> Iterator[DnsLab]:
    """The lab's dnslib server with the hostile zone (and the providers' names)."""
    lab = DnsLab()
    provider_records(lab)
    hostile_zone(lab)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture
def hostile_smtp() -> Iterator[HostileTextSmtp]:
    with HostileTextSmtp() as peer:
        yield peer


def dns_args(lab: DnsLab) -> list[str]:
    return [
        "dns",
        HOSTILE_DOMAIN,
        "--nameserver",
        f"{lab.host}:{lab.port}",
        "--timeout",
        "1",
        "--selector",
        "selector1",
        "--https-port",
        "1",
        "--no-history",
    ]


# mxpilot dns ----------------------------------------------------------------------------------


def test_dns_cli_shows_hostile_records_as_text(
    mx: Run, hostile_dns: DnsLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # no escape split by a wrapped line
    code, out, err = mx(*dns_args(hostile_dns))
    assert code in (0, 1), err
    assert_clean(out + err)
    assert "[/bold]" in out and "[link=https://evil.test]" in out  # literal, not markup
    assert "\\x1b[2J" in out and "\\x9b" in out and "\\u202e" in out  # visibly escaped
    assert "[bold]mx.hostile.lab.test" in out


def test_dns_cli_json_stays_valid_and_escaped(mx: Run, hostile_dns: DnsLab) -> None:
    code, out, err = mx(*dns_args(hostile_dns), "--json")
    assert code in (0, 1), err
    data = json.loads(out)
    assert {"domain", "profile", "checks", "changes"} <= set(data)
    assert "\x9b" not in out and "\u202e" not in out and "\x1b" not in out
    found = [value for check in data["checks"] for value in check["found"]]
    assert any("[/bold]" in value for value in found)
    assert any("\\x1b[2J" in value for value in found)


def test_dns_subprocess_with_colour_forced(hostile_dns: DnsLab, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FORCE_COLOR": "1",
        "TERM": "xterm-256color",
        "COLUMNS": "160",
        "MXPILOT_WORKSPACE": str(tmp_path / "ws"),
    }
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "mxpilot", *dns_args(hostile_dns)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert SGR.search(done.stdout), "colour was forced: Rich's SGR codes are expected"
    assert_clean(done.stdout + done.stderr)
    assert "[/bold]" in SGR.sub("", done.stdout)


# accounts -------------------------------------------------------------------------------------


def test_accounts_list_and_show_with_markup_in_notes_and_path(
    tmp_path: Path, memory_keyring: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from mxpilot.cli import main

    place = tmp_path / "ws [bold]x[/bold] \x1b[2J"
    place.mkdir(parents=True)  # "[/bold]" holds a "/": the markup spans two directories

    def mx(*argv: str) -> tuple[int, str, str]:
        code = main(["--workspace", str(place), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = mx(
        "accounts",
        "add",
        "evil",
        "--address",
        "evil@example.com",
        "--provider",
        "office365",
        "--username",
        "[/bold]login",
        "--notes",
        f"notes {HOSTILE}",
        "--no-password",
    )
    assert code == 0, err
    code, out, err = mx("accounts", "list")
    assert code == 0, err
    assert_clean(out + err)
    assert "[bold]x[/bold]" in out  # the path, literally
    code, out, err = mx("accounts", "show", "evil")
    assert code == 0, err
    assert_clean(out + err)
    assert "[link=https://evil.test]click[/link]" in out and "\\x9b" in out
    code, out, _ = mx("accounts", "list", "--json")
    data = json.loads(out)
    assert "\x9b" not in out and "\u202e" not in out
    assert data["accounts"][0]["notes"].startswith("notes [/bold]")
    code, _, err = mx("accounts", "show", f"missing{HOSTILE}")
    assert code == 2
    assert_clean(err)


# probe ----------------------------------------------------------------------------------------


def test_probe_of_a_hostile_peer(mx: Run, hostile_smtp: HostileTextSmtp) -> None:
    target = f"127.0.0.1:{hostile_smtp.port}"
    code, out, err = mx("probe", target, "--security", "none", "--no-history", "-v")
    assert code in (0, 1), out + err  # a finding, never exit 3
    assert_clean(out + err)
    assert "[/bold]" in out and "[link=https://evil.test]click[/link]" in out
    assert "\\x9b2J" in out and "\\u202e" in out
    code, out, err = mx("probe", target, "--security", "none", "--no-history", "--json")
    assert code in (0, 1), err
    data = json.loads(out)
    assert "\x9b" not in out and "\u202e" not in out
    greeting = next(p for p in data["probes"][0]["phases"] if p["name"] == "greeting")
    assert "[/bold]" in greeting["summary"]


# The TUI --------------------------------------------------------------------------------------


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15.0
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def static_text(screen: Any, selector: str) -> str:
    return plain_text(screen.query_one(selector, Static).content)


async def test_tui_probe_of_a_hostile_peer(
    workspace: Workspace, hostile_smtp: HostileTextSmtp, lab_certs: LabCertificates
) -> None:
    workspace.checklists.create("m365.lab.test")
    workspace.accounts.add(
        Account(
            name="hostile",
            address="h@example.com",
            side=Side.SERVICE,
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint("127.0.0.1", hostile_smtp.port, Security.NONE),
        ),
        None,
    )
    app = MxPilotApp(workspace, ConnectionSettings(ca_file=lab_certs.ca_pem, timeout=3.0))
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProbesScreen)
        screen.query_one("#probes-accounts", SelectionList).select("hostile")
        await pilot.pause()
        await pilot.press("r")

        def finished() -> bool:
            rows = list(screen.board.rows.values())
            return bool(rows) and all(r.result is not None and not r.running for r in rows)

        await wait_until(pilot, finished, "the probe of the hostile peer")
        await pilot.pause()
        facts = static_text(screen, "#probes-facts")
        assert "[/bold]" in facts and "[link=https://evil.test]click[/link]" in facts
        assert "\\x9b2J" in facts and "\\u202e" in facts
        assert_clean(facts)
        table = screen.query_one("#probes-table", DataTable)
        assert table.row_count == 1
    assert "[/bold]" in HOSTILE_WORDS


async def test_tui_dns_audit_of_a_hostile_zone(workspace: Workspace, hostile_dns: DnsLab) -> None:
    workspace.checklists.create(HOSTILE_DOMAIN)
    settings = ConnectionSettings(
        nameserver=Nameserver("127.0.0.1", hostile_dns.port), timeout=1.0, https_port=1
    )
    app = MxPilotApp(workspace, settings)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DnsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.audit is not None and screen.audit.domain == HOSTILE_DOMAIN
        table = screen.query_one("#dns-checks", DataTable)
        ids = [check.id for check in screen.audit.checks]
        table.move_cursor(row=ids.index("spf"))
        await pilot.pause()
        detail = static_text(screen, "#dns-detail-body")
        assert "[/bold]" in detail and "\\x1b[2J" in detail and "\\u202e" in detail
        assert_clean(detail)
        cells = [
            plain_text(cell) for row in range(table.row_count) for cell in table.get_row_at(row)
        ]
        assert any("[/bold]" in cell for cell in cells)
        assert_clean("".join(cells))
        table.move_cursor(row=ids.index("mx"))
        await pilot.pause()
        assert "[bold]mx.hostile.lab.test" in static_text(screen, "#dns-detail-body")


# Every result type through the one renderer ----------------------------------------------------

KEEP = frozenset(
    {"name", "status", "protocol", "security", "security_used", "severity", "profile", "action"}
)
"""Keys whose values are enumerations (a stored result with a poisoned one is refused)."""


def poisoned(value: Any, key: str = "") -> Any:
    """``value`` with HOSTILE added to every free-text string (keys and enumerations kept)."""
    if isinstance(value, dict):
        return {k: poisoned(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(item, key) for item in value]
    if isinstance(value, str) and key not in KEEP:
        return f"{value} {HOSTILE}"
    return value


def hostile_probe(smtp: SmtpLabServer, options: ProbeOptions) -> ProbeResult:
    """A real STARTTLS probe with a refused login, every text field then poisoned."""
    target = Target(
        "127.0.0.1", smtp.port, Protocol.SMTP, Security.STARTTLS, Credentials(LAB_USER, "nope")
    )
    result = asyncio.run(run_probe(target, options))
    data = result.to_dict()
    for phase in data["phases"]:
        if phase["name"] == "tls":
            phase["facts"]["certificate"]["interception_product"] = "proxy"
        if phase["name"] == "auth":
            phase["facts"]["token"] = {
                "audience": "aud",
                "scopes": "SMTP.Send",
                "user": "u@example.com",
                "tenant": "t",
                "app_id": "app",
                "expires": "2030-01-01",
            }
            phase["facts"]["token_problems"] = [{"kind": "audience", "message": "wrong aud"}]
    return ProbeResult.from_dict(poisoned(data))


def hostile_audit(lab: DnsLab) -> DnsAudit:
    audit = asyncio.run(
        audit_domain(
            HOSTILE_DOMAIN,
            Profile.OFFICE365,
            DnsClient([Nameserver(lab.host, lab.port)], 1.0),
            selectors=("selector1",),
        )
    )
    return DnsAudit.from_dict(poisoned(audit.to_dict()))


def test_every_result_type_renders_hostile_text_inert(
    smtp_server: Callable[..., SmtpLabServer],
    lab_options: ProbeOptions,
    hostile_dns: DnsLab,
    workspace: Workspace,
) -> None:
    probe = hostile_probe(smtp_server("starttls"), lab_options)
    assert any(p.tls and p.tls.certificate for p in probe.phases)
    assert any(p.auth and p.auth.token for p in probe.phases)
    audit = hostile_audit(hostile_dns)
    assert audit.changes
    diagnosis = Diagnosis(
        id="x",
        title=HOSTILE,
        cause=HOSTILE,
        evidence=HOSTILE,
        fixes=(Fix(HOSTILE, f"echo {HOSTILE}\nsecond {HOSTILE}", HOSTILE),),
        severity=Status.WARN,
    )
    parts: list[RenderableType] = [
        result_block(probe, verbose=True),
        results_block([probe], [diagnosis], verbose=True),
        *evidence_lines(probe),
        *stored_probe_lines(probe.to_dict()),
        *audit_lines(audit),
        *stored_dns_lines(audit.to_dict(), "spf"),
        *(check_detail(check) for check in audit.checks),
        diagnosis_block(diagnosis),
    ]
    output = rendered(*parts)
    assert_clean(output)
    text = SGR.sub("", output)
    assert text.count("[/bold]") >= 20 and "[link=https://evil.test]click[/link]" in text
    assert "\\x1b[2J" in text and "\\x9b2J" in text and "\\u202e" in text
    assert "\\x1b]0;owned title\\x07" in text

    # checklist evidence (the stored runs) and the reports
    checklist = workspace.checklists.create("hostile.example")
    item = checklist.items[0]
    workspace.checklists.set_state(
        checklist, item.item_id, ItemState.DONE, actor=f"ana {HOSTILE}", note=f"note {HOSTILE}"
    )
    workspace.checklists.record_check(checklist, item.item_id, Status.PASS, HOSTILE, [1])
    report = ChecklistReport(workspace.checklists.get(), workspace.history)
    markdown = report.markdown()
    assert_clean(markdown)
    page = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<a " not in page and "evil.test" in page and "<b>" not in page
    assert "[/bold]" in page
    html = report.html()
    assert_clean(html)
    assert "<a " not in html and "&lt;" not in HOSTILE
    assert "[link=https://evil.test]click[/link]" in html


# Zone lines and plain prints --------------------------------------------------------------------


def test_zone_lines_escape_hostile_txt_and_mean_the_same_to_a_zone_parser() -> None:
    import dns.rdata

    from probes.dns.model import ChangeAction, RecordChange
    from render.zone_lines import change_lines, zone_line

    value = f'v=spf1 "quoted" back\\slash {HOSTILE} -all'
    change = RecordChange(ChangeAction.ADD, "hostile.example", "TXT", value, reason=HOSTILE)
    line = zone_line(change)
    assert_clean(line)
    _name, _ttl, klass, rtype, data = line.split(" ", 4)
    record = dns.rdata.from_text(klass, rtype, data)  # RFC 1035 \\DDD is decimal
    assert b"".join(record.strings).decode("utf-8") == value  # type: ignore[attr-defined]
    for shown_line in change_lines([change]):
        assert_clean(shown_line)
        assert "[/bold]" in shown_line


@given(st.text(alphabet=st.characters(codec=None), max_size=300))
@settings(max_examples=300, deadline=None)
def test_plain_prints_never_carry_a_control(text: str) -> None:
    from render.text import is_unsafe, shown, shown_block, unescape_controls

    one = shown(text, 10_000)
    assert not any(is_unsafe(char) for char in one)
    assert unescape_controls(one) == text
    block = shown_block(text, 10_000)
    assert not any(is_unsafe(char) and char not in "\n\t" for char in block)
