"""The stored result behind a checklist item's check, rendered readably from its JSON.

Probe runs show their target, phases and diagnosis; DNS runs show the checks
of the audit, the record the item is about first. ``j`` switches to the raw
JSON as stored (it holds no secret: the workspace masks them on the way in).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Console, Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.widgets.checklist_rows import local_time
from tui.widgets.footer import Footer
from workspace.history import RunRecord

STATUS_STYLE = {
    "pass": ("PASS", "bold green"),
    "warn": ("WARN", "bold yellow"),
    "fail": ("FAIL", "bold red"),
    "skipped": ("SKIP", "dim"),
}


@dataclass(frozen=True)
class StoredRun:
    """One stored run to show, with why it is shown (``Evidence``, ``Last check``)."""

    role: str
    record: RunRecord
    result: Mapping[str, Any]


def status_word(status: object) -> Text:
    """PASS / WARN / FAIL / SKIP, coloured."""
    word, style = STATUS_STYLE.get(str(status), (str(status).upper(), ""))
    return Text(word, style=style)


def _line(*parts: tuple[str, str] | Text, indent: int = 0) -> Text:
    line = Text(" " * indent)
    for part in parts:
        if isinstance(part, Text):
            line.append_text(part)
        else:
            line.append(*part)
    return line


def probe_lines(result: Mapping[str, Any]) -> list[Text]:
    """A stored probe result: target, phases, diagnosis with its fixes."""
    target = result.get("target") or {}
    user = target.get("username") or "no login"
    where = (
        f"{target.get('protocol', '?')} {target.get('host', '?')}:{target.get('port', '?')}"
        f" ({target.get('security', '?')}), {user}"
    )
    lines = [_line(("Target: ", "bold"), (where, ""))]
    used = result.get("security_used")
    if used and used != target.get("security"):
        lines.append(_line((f"the server speaks {used}", "yellow"), indent=2))
    if result.get("verified") is False:
        lines.append(_line(("certificate NOT verified", "bold red"), indent=2))
    lines.append(Text("Phases", style="bold"))
    for phase in result.get("phases") or []:
        line = _line(status_word(phase.get("status")), indent=2)
        line.append(f" {phase.get('label') or phase.get('name', '')}: ", style="bold")
        line.append(str(phase.get("summary") or ""))
        if phase.get("code") is not None:
            code = f"{phase['code']} {phase.get('enhanced') or ''}".strip()
            line.append(f"  [{code}]", style="cyan")
        lines.append(line)
    diagnoses = result.get("diagnoses") or []
    if diagnoses:
        lines.append(Text("Diagnosis", style="bold"))
    for diagnosis in diagnoses:
        style = STATUS_STYLE.get(str(diagnosis.get("severity")), ("", "bold"))[1]
        lines.append(_line((f"▶ {diagnosis.get('title', '')}", style), indent=2))
        lines.append(_line((str(diagnosis.get("cause", "")), ""), indent=4))
        if diagnosis.get("evidence"):
            lines.append(_line((f"evidence: {diagnosis['evidence']}", "dim"), indent=4))
        for number, fix in enumerate(diagnosis.get("fixes") or [], 1):
            shell = f" ({fix['shell']})" if fix.get("shell") else ""
            lines.append(_line((f"{number}. {fix.get('text', '')}{shell}", ""), indent=4))
            for command_line in str(fix.get("command") or "").splitlines():
                lines.append(_line((command_line, "bold cyan"), indent=7))
    return lines


def _dns_check_full(check: Mapping[str, Any]) -> list[Text]:
    line = _line(status_word(check.get("status")), indent=2)
    line.append(f" {check.get('id', '')}", style="bold")
    line.append(f" — {check.get('title', '')}")
    if not check.get("required", True):
        line.append(" (optional)", style="dim")
    lines = [line]
    for found in check.get("found") or []:
        lines.append(_line(("found:    ", "dim"), (str(found), ""), indent=6))
    if check.get("expected"):
        lines.append(_line(("expected: ", "dim"), (str(check["expected"]), ""), indent=6))
    for message in check.get("messages") or []:
        lines.append(_line((f"• {message}", ""), indent=6))
    return lines


def dns_lines(result: Mapping[str, Any], record: str | None = None) -> list[Text]:
    """A stored DNS audit: the record the item is about in full, then the other checks."""
    lines = [
        _line(
            ("Domain: ", "bold"),
            (f"{result.get('domain', '?')} — profile {result.get('profile', '?')}, ", ""),
            (f"resolver {result.get('resolver', '?')}", "dim"),
        )
    ]
    checks = list(result.get("checks") or [])

    def mine(check: Mapping[str, Any]) -> bool:
        cid = str(check.get("id", ""))
        return record is not None and (cid == record or cid.startswith(record + ":"))

    focused = [c for c in checks if mine(c)] if record else checks
    others = [c for c in checks if not mine(c)] if record else []
    lines.append(Text("Checks", style="bold"))
    for check in focused:
        lines.extend(_dns_check_full(check))
    if others:
        lines.append(Text("Other checks of the same audit", style="bold"))
    for check in others:
        line = _line(status_word(check.get("status")), indent=2)
        line.append(f" {check.get('id', '')}", style="bold")
        messages = check.get("messages") or []
        if check.get("status") != "pass" and messages:
            line.append(f" — {messages[0]}")
        lines.append(line)
    return lines


def run_renderable(run: StoredRun, record: str | None = None) -> RenderableType:
    """One stored run: heading, then the probe or DNS view of its JSON."""
    rec = run.record
    heading = Text(f"{run.role}: ", style="bold reverse")
    heading.append(" ")
    heading.append_text(status_word(rec.status))
    heading.append(f"  run #{rec.id} {rec.kind} — {rec.subject}", style="bold")
    meta = Text(
        f"{local_time(rec.started_at)} · {rec.duration_ms:.0f} ms"
        + (f" · account {rec.account_name}" if rec.account_name else ""),
        style="dim",
    )
    body = probe_lines(run.result) if rec.kind == "probe" else dns_lines(run.result, record)
    return Group(heading, meta, Text(rec.summary), *body, Text(""))


class EvidenceDialog(ModalScreen[None]):
    """The stored result(s) of an item's check; j switches to the raw JSON."""

    DEFAULT_CSS = """
    EvidenceDialog {
        align: center middle;
    }
    EvidenceDialog > Vertical {
        width: 95%;
        height: 95%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    EvidenceDialog VerticalScroll {
        height: 1fr;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="checklist_evidence.close"),
        Binding("j", "toggle_json", "Raw JSON", id="checklist_evidence.json"),
    ]

    def __init__(self, title: str, runs: Sequence[StoredRun], record: str | None = None) -> None:
        super().__init__()
        self.item_title = title
        self.runs = list(runs)
        self.record = record
        self.raw = False

    def compose(self) -> ComposeResult:
        """Title and the runs."""
        with Vertical():
            yield Label(f"Stored result — {self.item_title}", id="evidence-title")
            with VerticalScroll(id="evidence-scroll"):
                yield Static("", id="evidence-body")
        yield Footer()

    def on_mount(self) -> None:
        """Render, and let the arrows scroll."""
        self._render_runs()
        self.query_one("#evidence-scroll").focus()

    def action_toggle_json(self) -> None:
        """Readable view <-> the JSON as stored."""
        self.raw = not self.raw
        self._render_runs()

    def _render_runs(self) -> None:
        body = self.query_one("#evidence-body", Static)
        if self.raw:
            text = "\n\n".join(
                f"# run {run.record.id}\n" + json.dumps(run.result, indent=2, ensure_ascii=False)
                for run in self.runs
            )
            body.update(Text(text))
            return
        body.update(Group(*(run_renderable(run, self.record) for run in self.runs)))

    def plain_text(self, width: int = 120) -> str:
        """The readable view as plain text (for tests, and to paste into a ticket)."""
        console = Console(width=width, record=True, file=io.StringIO())
        for run in self.runs:
            console.print(run_renderable(run, self.record))
        return console.export_text()
