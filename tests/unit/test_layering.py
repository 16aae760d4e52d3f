"""The layering rule: probes and workspace never import textual (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after_import(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(out.stdout.split())


def test_headless_packages_do_not_import_textual() -> None:
    every_module = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for package in ("probes", "workspace")
        for p in (ROOT / package).rglob("*.py")
        if p.stem != "__init__"
    )
    statement = "\n".join(f"import {name}" for name in ["probes", "workspace", *every_module])
    loaded = _modules_after_import(statement)
    assert "probes.mail.runner" in loaded and "probes.diagnosis.explain" in loaded
    assert "workspace.checklist.verification" in loaded and "workspace.accounts.book" in loaded
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded)


def test_cli_probe_path_does_not_import_textual() -> None:
    loaded = _modules_after_import(
        "import mxpilot.cli, mxpilot.probe_command, render.probe, probes.mail.matrix, "
        "mxpilot.accounts_command, mxpilot.checklist_command, workspace.session"
    )
    assert "mxpilot.probe_command" in loaded and "mxpilot.checklist_command" in loaded
    assert "textual" not in loaded


def test_tui_does_import_textual() -> None:
    """The check above can fail: the TUI module really pulls textual in."""
    loaded = _modules_after_import("import tui.app")
    assert "textual" in loaded


def test_app_start_up_imports_no_network_engine() -> None:
    """Start-up stays light: the engine, DNS, HTTP and keyring load when first used."""
    loaded = _modules_after_import("import tui.app, workspace.session, workspace.connection")
    heavy = {"dns", "httpx", "keyring", "probes.mail.runner", "probes.dns.audit", "cryptography"}
    assert not heavy & loaded, heavy & loaded
