"""The mxpilot terminal app: Accounts, Probes, DNS and Checklist screens over one workspace."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from render.text import shown
from tui.browser import system_browser
from workspace.connection import ConnectionSettings
from workspace.session import Workspace

if TYPE_CHECKING:
    from tui.screens.first_run import MigrationStart

SCREENS_BY_KEY = (
    ("1", "accounts", "Accounts", "mailboxes, service accounts, keyring status"),
    ("2", "probes", "Probes", "live SMTP/IMAP tests, watch until fixed"),
    ("3", "dns", "DNS", "MX, SPF, DKIM, DMARC, autodiscover, MTA-STS"),
    ("4", "checklist", "Checklist", "the migration, item by item, with evidence"),
)


class DemoControls(Protocol):
    """What the offline demo lets the app switch: the demo tenant's SMTP AUTH."""

    @property
    def tenant_smtp_auth_enabled(self) -> bool:
        """True when the demo tenant accepts SMTP AUTH."""

    def set_tenant_smtp_auth(self, enabled: bool) -> None:
        """Turn SMTP AUTH on or off for the demo tenant (the fix for 5.7.139)."""


def _screen(module: str, name: str) -> Screen[None]:
    """A main screen, its module imported on first use (start-up imports only the first)."""
    screen: Screen[None] = getattr(importlib.import_module(f"tui.screens.{module}.screen"), name)()
    return screen


class MxPilotApp(App[int]):
    """The app: four screens (modes) sharing one workspace and one set of network settings."""

    CSS_PATH = "app.tcss"
    TITLE = "mxpilot"
    SUB_TITLE = "Gmail → Microsoft 365"
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {  # type: ignore[assignment]
        "accounts": lambda: _screen("accounts", "AccountsScreen"),
        "probes": lambda: _screen("probes", "ProbesScreen"),
        "dns": lambda: _screen("dns", "DnsScreen"),
        "checklist": lambda: _screen("checklist", "ChecklistScreen"),
    }
    DEFAULT_MODE = "checklist"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        *(
            Binding(key, f"switch_mode('{mode}')", title, id=f"app.screen.{mode}")
            for key, mode, title, _ in SCREENS_BY_KEY
        ),
        Binding("e", "explain", "Explain", id="app.explain"),
        Binding("f2", "toggle_theme", "Theme", id="app.toggle_theme"),
        Binding("f9", "demo_smtp_auth", "Demo: SMTP AUTH", id="app.demo_smtp_auth"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        settings: ConnectionSettings | None = None,
        demo: DemoControls | bool = False,
    ) -> None:
        super().__init__()
        # What exists now (modules, the workspace) lives as long as the app: move it out of
        # the cyclic collector's way, so collections during start-up and use stay short.
        gc.freeze()
        self.workspace = workspace
        self.settings = settings or ConnectionSettings()
        workspace.use_connection(self.settings)
        self.demo = bool(demo)
        # How an OAuth browser sign-in opens its page (run in a thread; tests play the browser).
        self.open_browser: Callable[[str], object] | None = system_browser
        self.demo_controls = None if isinstance(demo, bool) else demo
        if demo:
            self.sub_title = "DEMO — local lab, no real accounts"

    def on_mount(self) -> None:
        """Apply the user's keymap; offer to start a migration when the workspace is empty."""
        from tui.keymap import load_keymap

        keymap, problem = load_keymap()
        if keymap:
            self.set_keymap(keymap)
        if problem:
            self.notify(problem, title="Keymap", severity="warning", markup=False)
        if not self.workspace.checklists.names() and not self.workspace.accounts.list():
            from tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(), self.start_migration)

    def start_migration(self, answer: MigrationStart | None) -> None:
        """Create the checklist and the source and target accounts from the first-run form."""
        if answer is None:
            return
        from workspace.usecases.start_migration import MigrationAnswers, start_migration

        answers = MigrationAnswers(
            domain=answer.domain,
            source=answer.source,
            source_address=answer.source_address,
            target_address=answer.target_address,
            tenant=answer.tenant,
            lang=answer.lang,
        )
        try:
            checklist = start_migration(self.workspace, answers)
        except ValueError as exc:
            self.notify(
                shown(exc), title="Could not start the migration", severity="error", markup=False
            )
            return
        self.notify(
            f"{checklist.title}: {len(checklist.items)} items. Add the passwords on the "
            "Accounts screen (1).",
            title=f"Migration of {checklist.domain} started",
        )
        self.switch_mode("checklist")
        refresh = getattr(self.screen, "reload", None)
        if callable(refresh):
            refresh()

    def _fatal_error(self) -> None:
        """An unhandled error: no traceback on screen, one line and a crash log (no locals)."""
        from rich.segment import Segments
        from rich.text import Text

        from tui.crash import crash_message, write_crash_log

        self.bell()
        error = self._exception or RuntimeError("unknown error")
        line = Text(crash_message(error, write_crash_log(error)), style="bold red")
        self._exit_renderables.append(Segments(self.console.render(line, self.console.options)))
        self._close_messages_no_wait()

    def action_explain(self) -> None:
        """Paste an error, get the diagnosis."""
        from tui.screens.explain import ExplainScreen
        from workspace.accounts.model import Side

        accounts = self.workspace.accounts.list()
        target = next((a for a in accounts if a.side is Side.TARGET), None)
        context = {"mailbox": target.address} if target else {}
        self.push_screen(ExplainScreen(lang=self.settings.lang, context=context))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The demo's switch exists only in the demo."""
        if action == "demo_smtp_auth":
            return self.demo_controls is not None
        return True

    def action_demo_smtp_auth(self) -> None:
        """Demo: turn SMTP AUTH on or off for the demo tenant (watch a probe turn green)."""
        controls = self.demo_controls
        if controls is None:
            return
        enabled = not controls.tenant_smtp_auth_enabled
        controls.set_tenant_smtp_auth(enabled)
        state = "on: 5.7.139 is fixed" if enabled else "off: logins get 535 5.7.139"
        self.notify(f"SMTP AUTH for the demo tenant is now {state}.", title="Demo")

    def action_toggle_theme(self) -> None:
        """Switch between a dark and a light theme."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every screen, Explain, the theme."""
        yield from super().get_system_commands(screen)
        for _, mode, title, help_text in SCREENS_BY_KEY:
            yield SystemCommand(
                f"Go to {title}",
                help_text,
                lambda m=mode: self.switch_mode(m),
            )
        yield SystemCommand("Explain an error", "paste it, get cause and fix", self.action_explain)


def run_app(
    workspace: Path | None = None,
    settings: ConnectionSettings | None = None,
    demo: DemoControls | bool = False,
) -> int:
    """Open the workspace and run the app; returns the exit code."""
    import sys

    from workspace.store import StoreError

    try:
        opened = Workspace.open(workspace)
    except StoreError as exc:
        print(f"mxpilot: {exc}", file=sys.stderr)
        return 1
    with opened:
        app = MxPilotApp(opened, settings, demo)
        app.run()
    return 3 if app.return_code else 0  # 3: internal error, as the command line
