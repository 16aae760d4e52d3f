"""A workspace written by release 0.1.0 (schema 2, fixture made with that code) opens and renders.

``tests/fixtures/workspace-v2.sqlite3`` was made by the 0.1.0 code: two accounts
(a service mailbox on the lab's Dovecot and SMTP server, a Gmail source),
the Gmail -> Microsoft 365 checklist verified against the lab (probe and DNS
runs as evidence). Its passwords lived in an in-memory keyring, never in it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from probes.mail.model import ProbeResult
from probes.stored import StoredResultError
from workspace.schema import SCHEMA_VERSION
from workspace.session import Workspace
from workspace.store import Store, StoreError
from workspace.stored_result import RESULT_SCHEMA, upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "workspace-v2.sqlite3"


@pytest.fixture
def old_workspace(tmp_path: Path, memory_keyring: object) -> Path:
    path = tmp_path / "workspace.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    return path


def test_the_fixture_is_from_the_old_schema() -> None:
    assert SCHEMA_VERSION > 2, "the fixture must be older than the schema this release writes"


def test_an_old_workspace_is_upgraded_and_keeps_everything(old_workspace: Path) -> None:
    with sqlite3.connect(old_workspace) as conn:
        before = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("accounts", "runs", "checklists", "checklist_items", "checks")
        }
    ws = Workspace.open(old_workspace)
    try:
        assert ws.store.schema_version == SCHEMA_VERSION
        assert ws.store.integrity() == "ok"
        assert {a.name for a in ws.accounts.list()} == {"controloc", "gmail-source"}
        runs = ws.history.recent(100)
        assert len(runs) == before["runs"] and {r.kind for r in runs} == {"probe", "dns"}
        assert all(r.result_schema == 1 for r in runs)
        checklist = ws.checklists.get()
        verified = [i for i in checklist.items if i.status_label == "verified"]
        assert verified and len(checklist.items) == before["checklist_items"]
        for item in verified:  # every piece of evidence reads back as a typed result
            assert item.evidence is not None
            for run_id in item.evidence.run_ids:
                run = ws.history.get(run_id)
                assert run is not None
                typed = run.typed(ws.store)
                assert typed is not None and typed.status.value == run.status
                assert typed.to_dict() == run.result(ws.store)
    finally:
        ws.close()


def test_old_probe_results_render_like_live_ones(old_workspace: Path) -> None:
    from render.probe import result_block

    ws = Workspace.open(old_workspace)
    try:
        probe = next(r for r in ws.history.recent(100) if r.kind == "probe")
        typed = probe.typed(ws.store)
        assert isinstance(typed, ProbeResult)
        assert typed.phases and typed.target.host == "127.0.0.1"
        from rich.console import Console

        console = Console(width=100, record=True, color_system=None)
        console.print(result_block(typed, verbose=True))
        text = console.export_text()
        assert typed.target.label in text and "127.0.0.1" in text
    finally:
        ws.close()


def test_a_result_from_a_newer_release_is_refused_clearly() -> None:
    with pytest.raises(StoredResultError, match="upgrade mxpilot"):
        upgrade("probe", RESULT_SCHEMA + 1, {"status": "pass"})
    with pytest.raises(StoredResultError, match="not a JSON object"):
        upgrade("probe", 1, ["pass"])


def test_a_newer_workspace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="upgrade mxpilot"):
        Store(path)
