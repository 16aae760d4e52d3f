"""The import graph, read from the source (ast): the CLI's commands and the app kept apart.

Cycles: tests/unit/test_import_cycles.py; layers: the import-linter contracts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_commands_share_only_the_common_module() -> None:
    """A command imports ``mxpilot.common``, not another command (sub-modules excepted)."""
    allowed = {
        "mxpilot.accounts_command": {"mxpilot.import_commands", "mxpilot.accounts_views"},
        "mxpilot.auth_command": {"mxpilot.auth_state"},
    }
    for name, path in _modules("mxpilot").items():
        if name in ("mxpilot", "mxpilot.cli", "mxpilot.__main__", "mxpilot.common"):
            continue
        modules = {".".join(m.split(".")[:2]) for m in _imports(path) if m.startswith("mxpilot.")}
        siblings = modules - {"mxpilot.common"}
        assert siblings <= allowed.get(name, set()), (name, siblings)


def test_the_cli_imports_the_app_only_to_launch_it() -> None:
    for name, path in _modules("mxpilot").items():
        top = {m for m in _imports(path, top_level_only=True) if m.split(".")[0] == "tui"}
        assert not top, (name, top)


def test_the_app_and_the_workspace_never_import_the_cli() -> None:
    for package in ("tui", "workspace", "render", "probes"):
        for name, path in _modules(package).items():
            cli = {m for m in _imports(path) if m.split(".")[0] == "mxpilot"}
            assert not cli, (name, cli)


def test_use_cases_import_no_front_end() -> None:
    for name, path in _modules("workspace").items():
        front = {m for m in _imports(path) if m.split(".")[0] in ("textual", "tui", "render")}
        assert not front, (name, front)
