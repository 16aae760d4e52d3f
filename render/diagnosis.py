"""A diagnosis as text: its title in the severity's colour, the cause, numbered fixes.

Every field may carry server text (the evidence is a reply, a cause or a fix can
quote one), so each goes through :mod:`render.text`: escaped, cut, never markup.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from probes.diagnosis.model import Diagnosis
from render.status import STATUS_STYLE
from render.text import LINE_LIMIT, REPLY_LIMIT, one_line


def _line(indent: str, text: str, style: str = "", limit: int = REPLY_LIMIT) -> Text:
    line = Text(indent, style=style)
    line.append_text(one_line(text, limit, style))
    return line


def diagnosis_lines(diagnosis: Diagnosis, indent: str = "  ") -> list[Text]:
    """A diagnosis with its cause, evidence and numbered fixes (commands below each)."""
    _, style = STATUS_STYLE[diagnosis.severity]
    lines = [
        _line(f"{indent}▶ ", diagnosis.title, style, LINE_LIMIT),
        _line(f"{indent}  ", diagnosis.cause),
    ]
    if diagnosis.evidence:
        lines.append(_line(f"{indent}  evidence: ", diagnosis.evidence, "dim"))
    for number, fix in enumerate(diagnosis.fixes, 1):
        heading = _line(f"{indent}  {number}. ", fix.text)
        if fix.shell:
            heading.append(" (", style="dim")
            heading.append_text(one_line(fix.shell, 40, "dim"))
            heading.append(")", style="dim")
        lines.append(heading)
        for command_line in fix.command.split("\n") if fix.command else []:
            lines.append(_line(f"{indent}       ", command_line, "bold cyan"))
    return lines


def diagnosis_block(diagnosis: Diagnosis, indent: str = "  ") -> RenderableType:
    """A diagnosis with its cause and numbered fixes, as one renderable."""
    return Group(*diagnosis_lines(diagnosis, indent))
