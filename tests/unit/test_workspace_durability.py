"""The workspace file survives a SIGKILL and two processes writing at once."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from workspace.session import Workspace
from workspace.store import Store

KILL_AFTER = 150


def writer(path: Path, tag: str, count: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.labkit.checklist_writer", str(path), tag, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def new_workspace(path: Path) -> None:
    with Workspace.open(path) as ws:
        ws.checklists.create("hotelsales.cl", lang="es")


def notes_in(path: Path, tag: str) -> set[int]:
    with Store(path) as store:
        rows = store.query(
            "SELECT detail FROM checklist_events WHERE action = 'note' AND actor = ?", (tag,)
        )
    return {int(row["detail"].split()[1]) for row in rows}


def test_sigkill_mid_write_keeps_every_committed_change(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    new_workspace(path)
    proc = writer(path, "crash", 100_000)
    assert proc.stdout is not None
    committed: list[int] = []
    deadline = time.monotonic() + 60
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    while len(committed) < KILL_AFTER and time.monotonic() < deadline:
        if selector.select(timeout=1):
            line = proc.stdout.readline()
            if not line:
                break
            committed.append(int(line))
    proc.send_signal(signal.SIGKILL)  # mid-stream: the next write is under way
    proc.wait(timeout=10)
    selector.close()
    committed += [int(line) for line in proc.stdout.read().split()]  # reported, not read yet
    assert len(committed) >= KILL_AFTER, proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL
    with Store(path) as store:
        assert store.integrity() == "ok"
    found = notes_in(path, "crash")
    assert set(committed) <= found  # every change reported committed is there
    assert found <= set(range(max(committed) + 2))  # at most the one in flight besides
    with Workspace.open(path) as ws:
        accounts = {a.name for a in ws.accounts.list()}
    assert {f"crash-{i}" for i in committed if i % 10 == 0} <= accounts


def test_two_processes_on_one_workspace_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    new_workspace(path)
    procs = {tag: writer(path, tag, 120) for tag in ("alpha", "beta")}
    for proc in procs.values():
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        assert out.split() == [str(i) for i in range(120)]
    for tag in procs:
        assert notes_in(path, tag) == set(range(120))
    with Workspace.open(path) as ws:
        names = {a.name for a in ws.accounts.list()}
        assert names == {f"{t}-{i}" for t in procs for i in range(0, 120, 10)}
        assert ws.store.integrity() == "ok"
