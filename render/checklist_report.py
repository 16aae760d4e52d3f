"""A checklist report for stakeholders: progress, evidence, open items.

The report is built once as a small list of blocks and rendered to Markdown
or to a self-contained HTML page. It holds what the workspace holds (no
secret ever reaches the workspace, so none can reach a report). Every piece of
text in it (titles, notes, names, evidence summaries, filled-in values, and
the labels around them) is escaped for the format it is written in: Markdown
special characters backslash-escaped (:func:`render.text.markdown_text`), HTML
escaped (:func:`render.text.html_text`), control characters visibly escaped in
both; the only markup is the structure the renderer writes itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from render.text import escape_controls, html_text, markdown_text
from workspace.checklist.model import Checklist, ChecklistItem
from workspace.history import RunHistory
from workspace.store import now

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "generated": "Generated {at} by mxpilot from checklist '{name}' (template {template}).",
        "progress": "Progress",
        "overall": "{done} of {total} items done ({verified} verified by a check)",
        "phase": "Phase",
        "done": "Done",
        "attention": "Needs attention",
        "regressed": "Regressed: its check passed before and fails now",
        "blocked": "Blocked",
        "open": "Open items",
        "none_open": "Nothing open.",
        "evidence": "Evidence",
        "run": "run",
        "by": "by",
        "note": "Note",
        "how": "How",
        "check": "Automatic check",
        "last_check": "last check",
    },
    "es": {
        "generated": (
            "Generado {at} por mxpilot desde el checklist '{name}' (plantilla {template})."
        ),
        "progress": "Avance",
        "overall": "{done} de {total} ítems listos ({verified} verificados por una prueba)",
        "phase": "Fase",
        "done": "Listos",
        "attention": "Requiere atención",
        "regressed": "Regresión: su prueba pasaba y ahora falla",
        "blocked": "Bloqueado",
        "open": "Ítems pendientes",
        "none_open": "Nada pendiente.",
        "evidence": "Evidencia",
        "run": "ejecución",
        "by": "por",
        "note": "Nota",
        "how": "Cómo",
        "check": "Prueba automática",
        "last_check": "última prueba",
    },
}

STATE_MARK = {
    "verified": "✅",
    "done": "☑",
    "skipped": "➖",
    "blocked": "⛔",
    "regressed": "⚠️",
    "open": "☐",
}


@dataclass(frozen=True)
class Span:
    """A run of text in a line; ``strong`` shows it in bold. Never markup itself."""

    text: str
    strong: bool = False


@dataclass
class Block:
    """One piece of the report: a heading, paragraph, table, list or code."""

    kind: str
    text: str = ""
    level: int = 2
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    lines: list[list[Span]] = field(default_factory=list)
    """A list's items, each a line of spans (``kind == "list"``)."""


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "█" * filled + "░" * (width - filled)


class ChecklistReport:
    """Builds the report of one checklist."""

    def __init__(
        self,
        checklist: Checklist,
        history: RunHistory,
        values: Mapping[str, str] | None = None,
        generated_at: str | None = None,
    ) -> None:
        self.checklist = checklist
        self.history = history
        self.values = dict(values or checklist.values())
        self.generated_at = generated_at or now()
        self.labels = LABELS.get(checklist.lang, LABELS["en"])

    def _item_line(self, item: ChecklistItem) -> list[Span]:
        t = self.labels
        spans = [
            Span(f"{STATE_MARK[item.status_label]} "),
            Span(item.title, strong=True),
            Span(f" — {item.status_label}"),
        ]
        rest = ""
        if item.changed_at:
            rest += f", {item.changed_at} {t['by']} {item.changed_by}"
        if item.evidence is not None:
            runs = ", ".join(f"#{r}" for r in item.evidence.run_ids)
            rest += f". {t['evidence']}: {item.evidence.summary} ({t['run']} {runs})"
        if item.regressed and item.last_check is not None:
            rest += f". {t['last_check']} {item.last_check.at}: {item.last_check.summary}"
        if item.note:
            rest += f". {t['note']}: {item.note}"
        if rest:
            spans.append(Span(rest))
        return spans

    def blocks(self) -> list[Block]:
        """The report's content, in order."""
        c, t = self.checklist, self.labels
        verified = sum(1 for i in c.items if i.status_label == "verified")
        out = [
            Block("heading", f"{c.title} — {c.domain}", level=1),
            Block(
                "para",
                t["generated"].format(at=self.generated_at, name=c.name, template=c.template),
            ),
            Block("heading", t["progress"]),
            Block(
                "para",
                t["overall"].format(done=c.finished, total=len(c.items), verified=verified),
            ),
            Block(
                "table",
                rows=[[t["phase"], t["done"], ""]]
                + [
                    [p.title, f"{p.finished}/{p.total}", _bar(p.finished, p.total)]
                    for p in c.phases()
                ],
            ),
        ]
        attention = [i for i in c.items if i.regressed or i.state.value == "blocked"]
        if attention:
            out.append(Block("heading", t["attention"]))
            out.append(Block("list", lines=[self._item_line(i) for i in attention]))
        for phase in c.phases():
            out.append(Block("heading", f"{phase.title} ({phase.finished}/{phase.total})"))
            out.append(Block("list", lines=[self._item_line(i) for i in phase.items]))
        out.append(Block("heading", t["open"]))
        pending = c.open_items
        if not pending:
            out.append(Block("para", t["none_open"]))
        for item in pending:
            out.append(Block("heading", f"{item.title} ({item.status_label})", level=3))
            out.append(Block("para", _fill(item.help, self.values)))
            if item.check is not None:
                out.append(Block("para", f"{t['check']}: {item.check.label(c.lang)}"))
            for rendered in item.filled_commands(self.values, c.lang):
                if rendered.note:
                    out.append(Block("para", rendered.note))
                if rendered.refused:
                    out.append(Block("para", rendered.command))
                else:
                    out.append(Block("code", rendered.command, items=[rendered.shell]))
        evidence_runs = sorted({r for i in c.items if i.evidence for r in i.evidence.run_ids})
        if evidence_runs:
            out.append(Block("heading", t["evidence"]))
            rows = [["#", "", "", ""]]
            for run_id in evidence_runs:
                run = self.history.get(run_id)
                if run is not None:
                    rows.append([str(run.id), run.started_at, run.status, run.subject])
            out.append(Block("table", rows=rows))
        return out

    def markdown(self) -> str:
        """The report as Markdown: every text escaped, the structure the only markup."""
        lines: list[str] = []
        for block in self.blocks():
            if block.kind == "heading":
                lines += ["#" * block.level + " " + _md_inline(block.text), ""]
            elif block.kind == "para":
                lines += [markdown_text(block.text), ""]
            elif block.kind == "list":
                lines += [f"- {_md_spans(line)}" for line in block.lines] + [""]
            elif block.kind == "code":
                lines += [*_md_code(block.text, block.items[0] if block.items else ""), ""]
            elif block.kind == "table":
                head, *body = block.rows
                lines.append("| " + " | ".join(_md_cell(c) for c in head) + " |")
                lines.append("|" + "---|" * len(head))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def html(self) -> str:
        """The report as one self-contained HTML page: every text escaped."""
        c = self.checklist
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{html_text(c.lang)}"><head><meta charset="utf-8">',
            f"<title>{_html_inline(c.title)} — {_html_inline(c.domain)}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
            "line-height:1.45;padding:0 1rem}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
            "pre{background:#f4f4f4;padding:.5rem;overflow-x:auto}li{margin:.3rem 0}</style>",
            "</head><body>",
        ]
        for block in self.blocks():
            if block.kind == "heading":
                parts.append(f"<h{block.level}>{_html_inline(block.text)}</h{block.level}>")
            elif block.kind == "para":
                parts.append(f"<p>{html_text(block.text)}</p>")
            elif block.kind == "list":
                items = "".join(f"<li>{_html_spans(line)}</li>" for line in block.lines)
                parts.append(f"<ul>{items}</ul>")
            elif block.kind == "code":
                parts.append(f"<pre><code>{html_text(block.text)}</code></pre>")
            elif block.kind == "table":
                head, *body = block.rows
                cells = "".join(f"<th>{_html_inline(x)}</th>" for x in head)
                rows = "".join(
                    "<tr>" + "".join(f"<td>{_html_inline(x)}</td>" for x in row) + "</tr>"
                    for row in body
                )
                parts.append(f"<table><tr>{cells}</tr>{rows}</table>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _one_line(text: str) -> str:
    """Line breaks as spaces: a heading, list item or cell stays one line."""
    return text.replace("\r\n", " ").replace("\n", " ")


def _md_inline(text: str) -> str:
    return markdown_text(_one_line(text))


def _md_cell(text: str) -> str:
    return markdown_text(_one_line(text), table_cell=True)


def _md_spans(spans: Sequence[Span]) -> str:
    return "".join(
        f"**{_md_inline(span.text)}**" if span.strong else _md_inline(span.text) for span in spans
    )


_BACKTICKS = re.compile(r"`+")


def _md_code(text: str, shell: str) -> list[str]:
    """A fenced code block no line of ``text`` can close: the fence is longer than any run."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    info = re.sub(r"[^A-Za-z0-9_+.-]", "", shell)
    return [f"{fence}{info}", escape_controls(text, keep_newlines=True, keep_tabs=True), fence]


def _html_inline(text: str) -> str:
    return html_text(_one_line(text))


def _html_spans(spans: Sequence[Span]) -> str:
    return "".join(
        f"<strong>{_html_inline(span.text)}</strong>" if span.strong else _html_inline(span.text)
        for span in spans
    )
