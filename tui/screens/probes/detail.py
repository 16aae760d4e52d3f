"""The Probes screen's table cells and detail pane for one probe.

The pane shows the verdict and diagnosis, the fix commands to copy, the
latency sparkline, then phases with timings, certificate facts, capabilities, the OAuth
token's claims (those lines come from :mod:`render.probe`, shared with the CLI) and the
transcript with every secret masked (the engine already writes ``****`` for AUTH lines;
the workspace's redaction runs over every line again).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from probes.mail.model import PhaseName
from probes.status import Status
from render.diagnosis import diagnosis_block
from render.probe import capability_lines, certificate_lines, phase_line, token_lines
from render.status import status_text
from render.text import REPLY_LIMIT, one_line
from tui.screens.probes.board import ProbeRow
from workspace.history import redact

MAX_TRANSCRIPT_LINES = 400
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def row_cells(row: ProbeRow, frame: int = 0) -> tuple[Text, Text, Text, Text]:
    """The table cells of a row: probe, phase (spinning while it runs), status, time."""
    title, result = one_line(row.title), row.result
    if row.running:
        phase = one_line(f"{SPINNER[frame % len(SPINNER)]} {row.phase}", style="yellow")
        return title, phase, Text("…", style="yellow"), Text(f"{row.elapsed:.1f} s")
    phase = one_line(row.phase)
    if result is None:
        return title, phase, Text("—", style="dim"), Text("")
    if result.cancelled:
        return title, phase, Text("CANCELLED", style="dim"), Text("")
    return title, phase, status_text(result.status), Text(f"{result.duration * 1000:.0f} ms")


def _heading(row: ProbeRow, spinner: str) -> Text:
    heading = Text()
    result = row.result
    if row.running:
        heading.append_text(
            one_line(f"{spinner} running: {row.phase}".strip(), style="bold yellow")
        )
    elif result is not None and result.cancelled:
        heading.append("CANCELLED", style="dim")
    elif result is not None:
        heading.append_text(status_text(result.status))
    else:
        heading.append("not run yet", style="dim")
    heading.append("  ")
    heading.append_text(one_line(row.title, style="bold"))
    if result is not None and not row.running:
        heading.append(f"  {result.duration * 1000:.0f} ms", style="dim")
        if result.security_used and result.security_used is not result.target.security:
            heading.append(f"  (speaks {result.security_used.value})")
        if not result.verified:
            heading.append("  UNVERIFIED", style="bold red")
    return heading


def transcript_lines(row: ProbeRow) -> list[Text]:
    """The conversation, phase by phase, with every secret masked."""
    creds = row.target.credentials
    secrets = [creds.secret] if creds else []
    users = [creds.username] if creds else []
    lines: list[Text] = []
    for phase in row.phases:
        if not phase.transcript:
            continue
        lines.append(one_line(f"  -- {phase.title}", style="dim"))
        for said in phase.transcript[:MAX_TRANSCRIPT_LINES]:
            style = "cyan" if said.startswith("C:") else ""
            lines.append(one_line(f"  {redact(said, secrets, users)}", REPLY_LIMIT, style))
    if not lines:
        return []
    return [Text("Transcript (secrets masked)", style="bold underline"), *lines]


def verdict_renderable(row: ProbeRow | None, spinner: str = "") -> RenderableType:
    """The top of the detail pane: the verdict, then the diagnosis with its fixes."""
    if row is None:
        return Text(
            "Pick accounts (space) or a preset and a host, then press r. "
            "The highlighted probe's diagnosis, phases, certificate and transcript show here.",
            style="dim",
        )
    parts: list[RenderableType] = [_heading(row, spinner)]
    result = None if row.running else row.result
    if result is not None and result.diagnoses:
        parts.append(Text("Diagnosis", style="bold underline"))
        parts.extend(diagnosis_block(d, "") for d in result.diagnoses)
    elif result is not None and result.status is Status.PASS and not result.cancelled:
        parts.append(Text("Every phase passed.", style="green"))
    if row.conclusions and not row.running:
        parts.append(Text("Across the preset's ports", style="bold underline"))
        parts.extend(diagnosis_block(c, "") for c in row.conclusions)
    return Group(*parts)


def facts_renderable(row: ProbeRow | None) -> RenderableType:
    """The rest of the pane: phases with timings, certificate, capabilities, transcript."""
    if row is None:
        return Text("")
    parts: list[RenderableType] = []
    if row.phases:
        parts.append(Text("Phases", style="bold underline"))
        parts.extend(phase_line(p) for p in row.phases)
    for phase in row.phases:
        if phase.name is PhaseName.TLS:
            parts.extend(certificate_lines(phase))
    parts.extend(capability_lines(row.phases))
    parts.extend(token_lines(row.phases))
    parts.extend(transcript_lines(row))
    return Group(*parts)


def latency_caption(row: ProbeRow | None) -> str:
    """The line above the sparkline: how many runs and their range."""
    if row is None or not row.latencies:
        return "latency: no finished run yet"
    points = list(row.latencies)
    if len(points) == 1:
        return f"latency: {points[0]:.0f} ms (1 run)"
    return (
        f"latency, last {len(points)} runs: {min(points):.0f}–{max(points):.0f} ms "
        f"(now {points[-1]:.0f} ms)"
    )


class ProbeDetail(VerticalScroll):
    """The detail pane: verdict and diagnosis, fix commands (enter copies), latency, facts."""

    def compose(self) -> ComposeResult:
        """Verdict, fix list, latency caption and sparkline, facts."""
        yield Static(verdict_renderable(None), id="probes-verdict")
        yield OptionList(id="probes-fixes")
        yield Label("", id="probes-latency")
        yield Sparkline([], id="probes-sparkline")
        yield Static("", id="probes-facts")

    def on_mount(self) -> None:
        """Nothing to show yet."""
        self.show(None)

    def show(self, row: ProbeRow | None, frame: int = 0, fixes: bool = True) -> None:
        """Show ``row`` (None: the hint); ``fixes=False`` keeps the fix list as it is."""
        spinner = SPINNER[frame % len(SPINNER)]
        self.query_one("#probes-verdict", Static).update(verdict_renderable(row, spinner))
        self.query_one("#probes-facts", Static).update(facts_renderable(row))
        caption = self.query_one("#probes-latency", Label)
        caption.update(latency_caption(row))
        caption.display = row is not None
        sparkline = self.query_one("#probes-sparkline", Sparkline)
        sparkline.data = list(row.latencies) if row else []
        sparkline.display = len(sparkline.data) > 1
        if fixes:
            options = self.query_one("#probes-fixes", OptionList)
            commands = row.commands if row and not row.running else []
            options.clear_options()
            options.add_options(
                Option(one_line(f"{number}. {what}"))
                for number, (what, _) in enumerate(commands, 1)
            )
            options.border_title = "Fix commands: enter (or c) copies"
            options.display = bool(commands)
