"""A diagnosis as text: its title in the severity's colour, the cause, numbered fixes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from probes.diagnosis.model import Diagnosis
from render.status import STATUS_STYLE


def diagnosis_lines(diagnosis: Diagnosis, indent: str = "  ") -> list[Text]:
    """A diagnosis with its cause, evidence and numbered fixes (commands below each)."""
    _, style = STATUS_STYLE[diagnosis.severity]
    lines = [
        Text(f"{indent}▶ {diagnosis.title}", style=style),
        Text(f"{indent}  {diagnosis.cause}"),
    ]
    if diagnosis.evidence:
        lines.append(Text(f"{indent}  evidence: {diagnosis.evidence}", style="dim"))
    for number, fix in enumerate(diagnosis.fixes, 1):
        heading = Text(f"{indent}  {number}. {fix.text}")
        if fix.shell:
            heading.append(f" ({fix.shell})", style="dim")
        lines.append(heading)
        for command_line in (fix.command or "").splitlines():
            lines.append(Text(f"{indent}       {command_line}", style="bold cyan"))
    return lines


def diagnosis_block(diagnosis: Diagnosis, indent: str = "  ") -> RenderableType:
    """A diagnosis with its cause and numbered fixes, as one renderable."""
    return Group(*diagnosis_lines(diagnosis, indent))
