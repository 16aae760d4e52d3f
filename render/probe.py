"""Readable text for probe results, matrices and explanations (the CLI's output).

Rich renderables, no Textual: the CLI prints them to a console; the same
text goes to a pipe without colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from probes.diagnosis.model import Diagnosis
from probes.mail.model import Phase, ProbeResult, Target
from probes.status import Status

STATUS_STYLE = {
    Status.PASS: ("PASS", "bold green"),
    Status.WARN: ("WARN", "bold yellow"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.SKIPPED: ("SKIP", "dim"),
}


def status_text(status: Status) -> Text:
    """A coloured status word."""
    word, style = STATUS_STYLE[status]
    return Text(word, style=style)


def live_table(targets: Sequence[Target], state: dict[Target, tuple[str, Status | None]]) -> Table:
    """The live view: one row per target with its current phase or verdict."""
    table = Table(title="mxpilot probes", expand=False)
    table.add_column("Target")
    table.add_column("Phase")
    table.add_column("Status")
    for target in targets:
        phase, status = state.get(target, ("waiting", None))
        table.add_row(target.label, phase, status_text(status) if status else Text("…"))
    return table


def _phase_line(phase: Phase) -> Text:
    line = Text("  ")
    line.append_text(status_text(phase.status))
    line.append(f" {phase.title:<28} {phase.duration * 1000:7.1f} ms  ")
    line.append(phase.summary)
    if phase.code is not None:
        line.append(f"  [{phase.code} {phase.enhanced or ''}]".rstrip() + "", style="cyan")
    return line


def diagnosis_block(diagnosis: Diagnosis, indent: str = "  ") -> RenderableType:
    """A diagnosis with its cause and numbered fixes."""
    _, style = STATUS_STYLE[diagnosis.severity]
    parts: list[RenderableType] = [
        Text(f"{indent}▶ {diagnosis.title}", style=style),
        Text(f"{indent}  {diagnosis.cause}"),
    ]
    if diagnosis.evidence:
        parts.append(Text(f"{indent}  evidence: {diagnosis.evidence}", style="dim"))
    for number, fix in enumerate(diagnosis.fixes, 1):
        heading = Text(f"{indent}  {number}. {fix.text}")
        if fix.shell:
            heading.append(f" ({fix.shell})", style="dim")
        parts.append(heading)
        for command_line in (fix.command or "").splitlines():
            parts.append(Text(f"{indent}       {command_line}", style="bold cyan"))
    return Group(*parts)


def result_block(result: ProbeResult, verbose: bool = False) -> RenderableType:
    """One probe: heading, phases, transcript and token claims when verbose, diagnoses."""
    heading = Text()
    heading.append_text(status_text(result.status))
    heading.append(f" {result.target.label}", style="bold")
    if result.security_used and result.security_used is not result.target.security:
        heading.append(f" (speaks {result.security_used.value})")
    if not result.verified:
        heading.append("  UNVERIFIED", style="bold red")
    heading.append(f"  {result.duration * 1000:.0f} ms", style="dim")
    parts: list[RenderableType] = [heading]
    for phase in result.phases:
        parts.append(_phase_line(phase))
        if verbose and phase.transcript:
            parts.extend(Text(f"      {line}", style="dim") for line in phase.transcript)
        token = phase.facts.get("token")
        if verbose and isinstance(token, dict):  # an XOAUTH2 token's own claims, never the token
            claims = ", ".join(f"{name} {value}" for name, value in token.items())
            parts.append(Text(f"      token: {claims}", style="dim"))
    for diagnosis in result.diagnoses:
        parts.append(diagnosis_block(diagnosis, "  "))
    return Group(*parts)


def results_block(
    results: Iterable[ProbeResult], conclusions: Sequence[Diagnosis] = (), verbose: bool = False
) -> RenderableType:
    """Every probe, then the conclusions drawn across them."""
    parts: list[RenderableType] = []
    for result in results:
        parts.append(result_block(result, verbose))
        parts.append(Text(""))
    if conclusions:
        parts.append(Text("Conclusions across ports", style="bold underline"))
        parts.extend(diagnosis_block(c, "") for c in conclusions)
    return Group(*parts)
