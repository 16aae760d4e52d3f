"""Checklist instances: states, notes, events, check outcomes, reports."""

from __future__ import annotations

import pytest

from probes.status import Status
from render.checklist_report import ChecklistReport
from workspace.checklist.book import CHECKER, ChecklistError
from workspace.checklist.check_spec import CheckKind
from workspace.checklist.model import Checklist, ChecklistItem, ItemState
from workspace.checklist.template import load_template
from workspace.session import Workspace


def first_item(checklist: Checklist, kind: CheckKind | None) -> ChecklistItem:
    for item in checklist.items:
        if (item.check.kind if item.check else None) is kind:
            return item
    raise AssertionError(f"no item with check kind {kind}")


def test_new_checklist_copies_the_template(workspace: Workspace) -> None:
    created = workspace.checklists.create("HotelSales.CL.", lang="es", tenant="contoso")
    template = load_template("gmail-to-m365", "es")
    assert created.domain == "hotelsales.cl" and created.name == "hotelsales.cl"
    assert created.lang == "es" and created.title == template.title
    assert [i.item_id for i in created.items] == [i.id for i in template.items]
    assert [p.id for p in created.phases()] == [p.id for p in template.phases]
    assert all(i.state is ItemState.OPEN for i in created.items)
    assert created.finished == 0
    with pytest.raises(ChecklistError, match="exists"):
        workspace.checklists.create("hotelsales.cl")
    with pytest.raises(ChecklistError, match="not a domain"):
        workspace.checklists.create("not a domain")
    english = workspace.checklists.create("hotelsales.cl", name="hs-en", lang="en")
    assert english.items[0].title != created.items[0].title
    assert workspace.checklists.get().name == "hs-en"  # the newest by default
    assert workspace.checklists.names() == ["hotelsales.cl", "hs-en"]


def test_manual_states_notes_and_the_log(workspace: Workspace) -> None:
    checklist = workspace.checklists.create("hotelsales.cl")
    item = first_item(checklist, None)
    done = workspace.checklists.set_state(checklist, item.item_id, ItemState.DONE, actor="ana")
    assert done.state is ItemState.DONE and done.changed_by == "ana" and done.changed_at
    assert done.status_label == "done" and not done.verified
    noted = workspace.checklists.set_note(checklist, item.item_id, "licencia comprada", actor="ana")
    assert noted.note == "licencia comprada"
    blocked = workspace.checklists.set_state(
        checklist, item.item_id, ItemState.BLOCKED, actor="luis", note="esperando al cliente"
    )
    assert blocked.status_label == "blocked" and blocked.note == "esperando al cliente"
    log = workspace.checklists.events(checklist, item.item_id)
    assert [(e.actor, e.action) for e in log] == [
        ("ana", "done"),
        ("ana", "note"),
        ("luis", "blocked"),
        ("luis", "note"),
    ]
    with pytest.raises(KeyError, match="no item"):
        workspace.checklists.set_state(checklist, "no-such-item", ItemState.DONE)
    with pytest.raises(ChecklistError, match="at most"):
        workspace.checklists.set_note(checklist, item.item_id, "x" * 5000)


def test_passing_check_verifies_then_a_failure_regresses(workspace: Workspace) -> None:
    checklist = workspace.checklists.create("hotelsales.cl")
    item = first_item(checklist, CheckKind.PROBE)
    failed = workspace.checklists.record_check(
        checklist, item.item_id, Status.FAIL, "auth: 535 5.7.139", [1]
    )
    assert failed.state is ItemState.OPEN and not failed.regressed  # never passed: just open
    assert failed.last_check is not None and failed.last_check.status == "fail"
    passed = workspace.checklists.record_check(checklist, item.item_id, Status.PASS, "ok", [2])
    assert passed.status_label == "verified" and passed.changed_by == CHECKER
    assert passed.evidence is not None and passed.evidence.run_ids == (2,)
    regressed = workspace.checklists.record_check(
        checklist, item.item_id, Status.FAIL, "auth: 535 5.7.3", [3]
    )
    assert regressed.status_label == "regressed" and regressed.state is ItemState.DONE
    assert regressed.evidence is not None and regressed.evidence.run_ids == (2,)  # kept
    assert regressed.last_check is not None and regressed.last_check.run_ids == (3,)
    skipped = workspace.checklists.record_check(
        checklist, item.item_id, Status.SKIPPED, "no password", []
    )
    assert skipped.status_label == "regressed"  # a check that could not run proves nothing
    recovered = workspace.checklists.record_check(checklist, item.item_id, Status.PASS, "ok", [4])
    assert recovered.status_label == "verified" and not recovered.regressed
    actions = [e.action for e in workspace.checklists.events(checklist, item.item_id)]
    assert actions == ["check failed", "verified", "regressed", "check not run", "recovered"]
    reopened = workspace.checklists.set_state(checklist, item.item_id, ItemState.OPEN)
    assert reopened.status_label == "open" and not reopened.verified


def test_manual_tick_of_a_checked_item_then_failure_is_a_regression(
    workspace: Workspace,
) -> None:
    checklist = workspace.checklists.create("hotelsales.cl")
    item = first_item(checklist, CheckKind.DNS)
    workspace.checklists.set_state(checklist, item.item_id, ItemState.DONE, actor="ana")
    after = workspace.checklists.record_check(checklist, item.item_id, Status.FAIL, "mx: gmail", [])
    assert after.status_label == "regressed"


def test_report_markdown_and_html(workspace: Workspace) -> None:
    checklist = workspace.checklists.create("hotelsales.cl", lang="es", tenant="contoso")
    probe_item = first_item(checklist, CheckKind.PROBE)
    manual = first_item(checklist, None)
    workspace.checklists.set_state(
        checklist, manual.item_id, ItemState.DONE, actor="ana", note="hecho <b>ya</b> | ok"
    )
    workspace.checklists.record_check(checklist, probe_item.item_id, Status.PASS, "IMAP ok", [7])
    checklist = workspace.checklists.get()
    report = ChecklistReport(
        checklist, workspace.history, checklist.values("controloc@hotelsales.cl")
    )
    markdown = report.markdown()
    assert markdown.startswith(f"# {checklist.title} — hotelsales.cl")
    assert "2 de " in markdown and "Avance" in markdown
    assert "hecho <b>ya</b> \\| ok" not in markdown  # list lines are not table cells
    assert "✅" in markdown and "IMAP ok" in markdown and "#7" in markdown
    assert "Ítems pendientes" in markdown
    assert "{domain}" not in markdown and "{mailbox}" not in markdown
    for phase in checklist.phases():
        assert f"| {phase.title} |" in markdown
    page = report.html()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="es">' in page
    assert "hecho &lt;b&gt;ya&lt;/b&gt;" in page and "<b>ya</b>" not in page
    assert f"<strong>{manual.title}</strong>" in page
