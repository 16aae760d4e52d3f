"""Benchmark: start-up time to the first interactive screen, mxpilot vs a bare Textual app.

Each run is a fresh Python process (interpreter start and imports count, as
they do for a user) that starts the app headless; when the first screen has
settled (the auto-pilot's first pause) it prints the wall-clock time and
exits. The figure is launch -> first screen ready (shutdown not counted). mxpilot opens
a workspace with a checklist and four accounts (its real start-up work); the
bare app shows one Static. Measured side by side, alternating, median of N.

Target (DESIGN.md): mxpilot / bare <= 1.3.

Usage: .venv/bin/python bench/tui_startup.py [--repeat 9]
Results also go to bench/results/tui_startup.txt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import time

from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()


async def first_screen(pilot):
    await pilot.pause()
    print(time.time(), flush=True)
    pilot.app.exit()


Bare().run(headless=True, size=(80, 24), auto_pilot=first_screen)
"""

MXPILOT = """
import sys
import time
from pathlib import Path

from tui.app import MxPilotApp
from workspace.session import Workspace


async def first_screen(pilot):
    await pilot.pause()
    print(time.time(), flush=True)
    pilot.app.exit()


with Workspace.open(Path(sys.argv[1])) as ws:
    MxPilotApp(ws).run(headless=True, size=(80, 24), auto_pilot=first_screen)
"""

SETUP = """
import sys
from pathlib import Path

from workspace.accounts.model import Account, AccountRole, Side, with_preset_endpoints
from workspace.session import Workspace

with Workspace.open(Path(sys.argv[1])) as ws:
    ws.checklists.create("example.com", lang="es")
    for n, side in enumerate((Side.SOURCE, Side.TARGET, Side.SERVICE, Side.TARGET)):
        provider = "gmail" if side is Side.SOURCE else "office365"
        ws.accounts.add(with_preset_endpoints(Account(
            name=f"box{n}", address=f"box{n}@example.com", side=side, provider=provider,
            roles=(AccountRole.MAILBOX,))))
"""


# As installed for a user, Python caches compiled modules (__pycache__); this machine's
# environment may turn that off (PYTHONDONTWRITEBYTECODE), which would make every run
# recompile both apps from source and measure the compiler instead of the start-up.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(code: str, *args: str) -> float:
    """From launching a fresh process running ``code`` to its first screen being ready.

    The child prints the wall-clock time when its first screen has settled; the
    process's own shutdown afterwards is not counted.
    """
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=ENV,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.split()[-1]) - started


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs per app (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = str(Path(tmp) / "ws.sqlite3")
        subprocess.run([sys.executable, "-c", SETUP, workspace], cwd=ROOT, check=True, timeout=60)
        timed(BARE)  # warm the file and bytecode caches for both
        timed(MXPILOT, workspace)
        bare: list[float] = []
        mine: list[float] = []
        for _ in range(args.repeat):
            bare.append(timed(BARE))
            mine.append(timed(MXPILOT, workspace))
    b, m = statistics.median(bare), statistics.median(mine)
    ratio = m / b
    lines = [
        f"start-up to the first interactive screen (fresh process, headless 80x24), "
        f"median of {args.repeat}",
        f"  bare Textual app            {b * 1000:7.1f} ms",
        f"  mxpilot (checklist screen)  {m * 1000:7.1f} ms",
        f"mxpilot / bare = {ratio:.3f}   (target <= 1.30: {'OK' if ratio <= 1.3 else 'MISSED'})",
    ]
    print("\n".join(lines))
    out = ROOT / "bench" / "results" / "tui_startup.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
