"""What the Checklist screen asks of the workspace: run checks, word outcomes, stored runs, reports.

No widgets here: plain functions over the workspace, so the screen keeps to
keys and layout. The verification engine is imported when a check first runs
(the app starts without the network stack).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from probes.status import Status
from tui.screens.checklist.dialogs import report_paths
from tui.screens.checklist.evidence import StoredRun
from workspace.checklist.model import Checklist, ChecklistItem, CheckOutcome
from workspace.connection import ConnectionSettings
from workspace.session import Workspace
from workspace.usecases.checklist_values import checklist_values

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """A notification to show: title, text, severity."""

    title: str
    text: str
    severity: Severity = "information"


async def run_checks(
    workspace: Workspace,
    settings: ConnectionSettings,
    checklist: Checklist,
    item_ids: list[str],
) -> list[CheckOutcome]:
    """Run the items' checks with the session's network settings; outcomes are stored."""
    from workspace.usecases.verify_checklist import verify_checklist

    return await verify_checklist(workspace, settings, checklist, item_ids)


def outcome_notice(checklist: Checklist, outcomes: list[CheckOutcome]) -> Notice:
    """One item: its new state and the summary; several: how many passed, failed, did not run."""
    if len(outcomes) == 1:
        outcome = outcomes[0]
        label = checklist.item(outcome.item_id).status_label
        severity: Severity = {Status.FAIL: "error", Status.SKIPPED: "warning"}.get(
            outcome.status, "information"
        )  # type: ignore[assignment]
        title = f"{outcome.item_id}: {label} ({outcome.status.value})"
        return Notice(title, outcome.summary[:300], severity)
    counts = {s: sum(1 for o in outcomes if o.status is s) for s in Status}
    failed = counts[Status.FAIL]
    text = (
        f"{counts[Status.PASS] + counts[Status.WARN]} passed, {failed} failed, "
        f"{counts[Status.SKIPPED]} could not run"
    )
    return Notice(f"{len(outcomes)} checks", text, "error" if failed else "information")


def stored_runs(workspace: Workspace, item: ChecklistItem) -> list[StoredRun]:
    """The stored runs behind an item: a last check that differs from the evidence, then it."""
    shown: list[tuple[str, tuple[int, ...]]] = []
    last, evidence = item.last_check, item.evidence
    if last is not None and (evidence is None or last.id != evidence.id):
        shown.append(("Last check", last.run_ids))
    if evidence is not None:
        shown.append(("Evidence", evidence.run_ids))
    runs: list[StoredRun] = []
    for role, run_ids in shown:
        for run_id in run_ids:
            record = workspace.history.get(run_id)
            if record is not None:
                runs.append(StoredRun(role, record, record.result(workspace.store)))
    return runs


def default_report_path(workspace: Workspace, checklist: Checklist) -> Path:
    """Next to the workspace file: ``<checklist>-report`` (``.md`` and ``.html`` are added)."""
    return workspace.path.parent / f"{checklist.name}-report"


def write_reports(workspace: Workspace, checklist_name: str, answer: str) -> tuple[Path, Path]:
    """Write the Markdown and HTML reports for a typed path; OSError when it cannot."""
    from render.checklist_report import ChecklistReport
    from workspace.atomic_file import replace_file

    checklist = workspace.checklists.get(checklist_name)
    report = ChecklistReport(checklist, workspace.history, checklist_values(workspace, checklist))
    markdown, html = report_paths(answer)
    replace_file(markdown, report.markdown().encode("utf-8"))
    replace_file(html, report.html().encode("utf-8"))
    return markdown, html
