"""The Probes screen's table cells and detail pane for one probe.

The pane shows the verdict and diagnosis, the fix commands to copy, the
latency sparkline, then phases with timings, certificate facts, capabilities, the OAuth
token's claims and the transcript with every secret masked (the engine already writes
``****`` for AUTH lines; the workspace's redaction runs over every line again).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from probes.mail.model import Phase, PhaseName
from probes.status import Status
from render.probe import diagnosis_block, status_text
from tui.screens.probes.board import ProbeRow
from workspace.history import redact

MAX_TRANSCRIPT_LINES = 400
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def row_cells(row: ProbeRow, frame: int = 0) -> tuple[Text, Text, Text, Text]:
    """The table cells of a row: probe, phase (spinning while it runs), status, time."""
    title, result = Text(row.title), row.result
    if row.running:
        phase = Text(f"{SPINNER[frame % len(SPINNER)]} {row.phase}", style="yellow")
        return title, phase, Text("…", style="yellow"), Text(f"{row.elapsed:.1f} s")
    phase = Text(row.phase)
    if result is None:
        return title, phase, Text("—", style="dim"), Text("")
    if result.cancelled:
        return title, phase, Text("CANCELLED", style="dim"), Text("")
    return title, phase, status_text(result.status), Text(f"{result.duration * 1000:.0f} ms")


def _heading(row: ProbeRow, spinner: str) -> Text:
    heading = Text()
    result = row.result
    if row.running:
        heading.append(f"{spinner} running: {row.phase}".strip(), style="bold yellow")
    elif result is not None and result.cancelled:
        heading.append("CANCELLED", style="dim")
    elif result is not None:
        heading.append_text(status_text(result.status))
    else:
        heading.append("not run yet", style="dim")
    heading.append(f"  {row.title}", style="bold")
    if result is not None and not row.running:
        heading.append(f"  {result.duration * 1000:.0f} ms", style="dim")
        if result.security_used and result.security_used is not result.target.security:
            heading.append(f"  (speaks {result.security_used.value})")
        if not result.verified:
            heading.append("  UNVERIFIED", style="bold red")
    return heading


def phase_line(phase: Phase) -> Text:
    """One phase: status, name, time, summary and reply code."""
    line = Text()
    line.append_text(status_text(phase.status))
    line.append(f" {phase.duration * 1000:7.1f} ms  ")
    line.append(phase.title, style="bold")
    if phase.summary:
        line.append(f"  {phase.summary}")
    if phase.code is not None:
        line.append(f"  [{phase.code} {phase.enhanced or ''}]".rstrip(), style="cyan")
    return line


def certificate_lines(phase: Phase) -> list[Text]:
    """The certificate and TLS facts of a TLS phase (empty when it saw no certificate)."""
    facts: dict[str, Any] = phase.facts
    cert = facts.get("certificate")
    if not isinstance(cert, dict):
        return []
    names = ", ".join(cert.get("sans") or [str(cert.get("subject_cn", "?"))])
    valid = f"{str(cert.get('not_before', '?'))[:10]} → {str(cert.get('not_after', '?'))[:10]}"
    if cert.get("days_to_expiry") is not None:
        valid += f" ({cert['days_to_expiry']} days left)"
    verified = "yes" if facts.get("verified") else f"NO — {facts.get('verify_error', '')}"
    rows = [
        ("subject", str(cert.get("subject_cn") or cert.get("subject", "?"))),
        ("names", names),
        ("issuer", str(cert.get("issuer_org") or cert.get("issuer", "?"))),
        ("valid", valid),
        ("verified", verified),
        ("tls", f"{facts.get('version', '?')} {facts.get('cipher', '')}".strip()),
    ]
    if cert.get("self_signed"):
        rows.append(("note", "self-signed"))
    if cert.get("interception_product"):
        rows.append(("intercepted by", str(cert["interception_product"])))
    lines = [Text(f"Certificate ({phase.title})", style="bold underline")]
    lines += [Text(f"  {name:<9} {value}") for name, value in rows]
    return lines


def capability_lines(phases: list[Phase]) -> list[Text]:
    """What the server offers, from its last capabilities answer."""
    found = [p for p in phases if p.name is PhaseName.CAPABILITIES and p.facts]
    if not found:
        return []
    facts = found[-1].facts
    lines = [Text(f"Capabilities ({found[-1].title})", style="bold underline")]
    keywords = facts.get("keywords") or []
    lines.append(Text(f"  {' · '.join(str(k) for k in keywords) or '(none)'}"))
    auth = facts.get("auth_mechanisms") or []
    lines.append(Text(f"  login: {', '.join(auth) if auth else 'no AUTH mechanism offered'}"))
    if facts.get("login_disabled"):
        lines.append(Text("  LOGINDISABLED on this connection", style="yellow"))
    return lines


def token_lines(phases: list[Phase]) -> list[Text]:
    """What an XOAUTH2 login's access token says of itself (claims, never the token)."""
    found = [p for p in phases if p.name is PhaseName.AUTH and p.facts.get("token")]
    if not found:
        return []
    facts = found[-1].facts
    lines = [Text("OAuth token (its own claims)", style="bold underline")]
    lines += [Text(f"  {name:<9} {value}") for name, value in facts["token"].items()]
    for problem in facts.get("token_problems") or []:
        text = problem.get("message", "") if isinstance(problem, dict) else str(problem)
        lines.append(Text(f"  ! {text}", style="yellow"))
    return lines


def transcript_lines(row: ProbeRow) -> list[Text]:
    """The conversation, phase by phase, with every secret masked."""
    creds = row.target.credentials
    secrets = [creds.secret] if creds else []
    users = [creds.username] if creds else []
    lines: list[Text] = []
    for phase in row.phases:
        if not phase.transcript:
            continue
        lines.append(Text(f"  -- {phase.title}", style="dim"))
        for said in phase.transcript[:MAX_TRANSCRIPT_LINES]:
            style = "cyan" if said.startswith("C:") else ""
            lines.append(Text(f"  {redact(said, secrets, users)}", style=style))
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
                Option(Text(f"{number}. {what}")) for number, (what, _) in enumerate(commands, 1)
            )
            options.border_title = "Fix commands: enter (or c) copies"
            options.display = bool(commands)
