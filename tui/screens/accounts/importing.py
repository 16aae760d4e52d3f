"""Import accounts from an application's ``.env`` or Microsoft's migration CSV, after a preview.

Both mirror ``mxpilot accounts import-env`` / ``import-csv``: a ``.env`` imports
all-or-nothing (any problem stops it), a CSV imports its good rows and names
the bad ones by line; secrets need a ready keyring (else the advice is shown
and Import stays off); the ``.env`` is rewritten only when asked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from probes.mail.model import Security
from render.text import REPLY_LIMIT, plain
from tui.screens.accounts.draft import security_of_port
from tui.screens.base import ReportsJobErrors
from workspace.accounts.model import PROVIDERS, MailEndpoint, Side

if TYPE_CHECKING:
    from workspace.session import Workspace


@dataclass
class ImportPreview:
    """What an import would do; ``blocked`` says why it cannot (empty: it can)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocked: str = ""
    plan: Any = field(default=None, repr=False)  # holds secrets: never shown


class ImportScreen(ReportsJobErrors, ModalScreen[str | None]):
    """A path, options, the preview, then Import; dismissed with a summary or None."""

    CSS_PATH = "account_import.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="account_import.cancel"),
    ]
    TITLE_TEXT = ""
    PLACEHOLDER = ""

    def __init__(self, workspace: Workspace, path: str = "") -> None:
        super().__init__()
        self.workspace = workspace
        self.initial_path = path
        self.preview: ImportPreview | None = None

    def compose(self) -> ComposeResult:
        """Path, options, preview, buttons."""
        with Vertical(id="import-dialog"):
            yield Static(self.TITLE_TEXT, id="import-title")
            with Horizontal(classes="import-row"):
                yield Label("File", classes="import-label")
                yield Input(
                    self.initial_path, placeholder=self.PLACEHOLDER, id="import-path", compact=True
                )
                yield Button("Preview", id="import-preview", compact=True)
            yield from self.options()
            with VerticalScroll(id="import-result"):
                yield Static(
                    "Type the file's path, then enter to see what would be created.",
                    id="import-lines",
                    markup=False,
                )
                yield Static("", id="import-problems", markup=False)
                yield Static("", id="import-warnings", markup=False)
            yield Static("", id="import-blocked", markup=False)
            with Horizontal(id="import-buttons"):
                yield Button("Import", variant="primary", id="import-run", compact=True)
                yield Button("Cancel", id="import-cancel", compact=True)

    def options(self) -> ComposeResult:
        """The import's own options (subclasses)."""
        yield from ()

    def on_mount(self) -> None:
        """Import stays off until a preview allows it."""
        self.show(None)
        self.query_one("#import-path", Input).focus()
        if self.initial_path:
            self.action_preview()

    @property
    def path(self) -> Path:
        """The file typed, ``~`` expanded."""
        return Path(self.query_one("#import-path", Input).value.strip()).expanduser()

    def show(self, preview: ImportPreview | None) -> None:
        """Show a preview (None: nothing read yet) and switch Import on or off."""
        self.preview = preview
        sections = {
            "lines": preview.lines if preview else [],
            "problems": ["Problems:", *preview.problems] if preview and preview.problems else [],
            "warnings": ["Warnings:", *preview.warnings] if preview and preview.warnings else [],
            "blocked": [preview.blocked] if preview and preview.blocked else [],
        }
        for name, lines in sections.items():
            widget = self.query_one(f"#import-{name}", Static)
            if preview is not None or name != "lines":
                widget.update(plain("\n".join(lines), limit=REPLY_LIMIT * 20))
                widget.display = bool(lines)
        ready = preview is not None and not preview.blocked and preview.plan is not None
        self.query_one("#import-run", Button).disabled = not ready

    @on(Input.Changed, "#import-path")
    def _path_changed(self) -> None:
        if self.preview is not None:
            self.show(None)
            self.query_one("#import-lines", Static).update("Press enter to preview this file.")
            self.query_one("#import-lines", Static).display = True

    @on(Input.Submitted)
    @on(Button.Pressed, "#import-preview")
    def action_preview(self) -> None:
        """Read the file and plan the import (in a worker)."""
        if not self.query_one("#import-path", Input).value.strip():
            return
        self.query_one("#import-lines", Static).update("Reading…")
        self.run_worker(
            self._preview(),
            name="preview import",
            group="import",
            exclusive=True,
            exit_on_error=False,
        )

    async def _preview(self) -> None:
        try:
            preview = await asyncio.to_thread(self.plan, self.path, self.choices())
        except Exception as exc:
            preview = ImportPreview(blocked=f"cannot preview: {exc}")
        self.show(preview)

    def choices(self) -> dict[str, Any]:
        """The options as chosen (read here, in the app's thread, for the worker thread)."""
        return {}

    def plan(self, path: Path, choices: dict[str, Any]) -> ImportPreview:
        """Read ``path`` and say what the import would do (runs in a thread)."""
        raise NotImplementedError

    def run_import(self, preview: ImportPreview, choices: dict[str, Any]) -> str:
        """Create the accounts of ``preview``; returns a summary (runs in a thread)."""
        raise NotImplementedError

    def _progress(self, done: int, total: int) -> None:
        """From the import's thread: how far it got, on the Import button."""
        self.app.call_from_thread(self._show_progress, done, total)

    def _show_progress(self, done: int, total: int) -> None:
        self.query_one("#import-run", Button).label = f"{done:,} / {total:,}"

    def keyring_block(self, secrets: bool) -> str:
        """Why secrets cannot be imported now (empty when the keyring is ready)."""
        status = self.workspace.secrets.status()
        if not secrets or status.ready:
            return ""
        return f"Nothing can be imported: the passwords need the OS keyring. {status.describe()}"

    @on(Button.Pressed, "#import-run")
    def action_import(self) -> None:
        """Create the previewed accounts (in a worker), then close with a summary."""
        preview = self.preview
        if preview is None or preview.blocked or preview.plan is None:
            return
        self.query_one("#import-run", Button).disabled = True
        self.run_worker(
            self._import(preview, self.choices()),
            name="import accounts",
            group="import",
            exclusive=True,
            exit_on_error=False,
        )

    async def _import(self, preview: ImportPreview, choices: dict[str, Any]) -> None:
        try:
            summary = await asyncio.to_thread(self.run_import, preview, choices)
        except Exception as exc:
            preview.blocked = f"Nothing imported: {exc}"
            preview.plan = None
            self.show(preview)
            return
        self.dismiss(summary)

    @on(Button.Pressed, "#import-cancel")
    def action_cancel(self) -> None:
        """Close without importing."""
        self.dismiss(None)


class ImportEnvScreen(ImportScreen):
    """Accounts from an application's ``.env``; its passwords move to the keyring."""

    TITLE_TEXT = "Import a .env file: its mail settings become accounts"
    PLACEHOLDER = "/path/to/app/.env"

    def options(self) -> ComposeResult:
        """The side of the accounts, and whether to rewrite the file."""
        with Horizontal(classes="import-row"):
            yield Label("Side", classes="import-label")
            yield Select(
                [(s.value, s) for s in Side],
                value=Side.SERVICE,
                allow_blank=False,
                compact=True,
                id="import-side",
            )
        yield Checkbox(
            "Rewrite the .env: each moved password line becomes a comment",
            id="import-rewrite",
            compact=True,
        )

    @on(Select.Changed, "#import-side")
    def _side_changed(self) -> None:
        if self.preview is not None:
            self.action_preview()

    def choices(self) -> dict[str, Any]:
        """The side, and whether to rewrite."""
        return {
            "side": Side(str(self.query_one("#import-side", Select).value)),
            "rewrite": self.query_one("#import-rewrite", Checkbox).value,
        }

    def plan(self, path: Path, choices: dict[str, Any]) -> ImportPreview:
        """Plan the accounts of the ``.env`` (all-or-nothing)."""
        from workspace.imports.dotenv import read_env
        from workspace.imports.env_import import plan_env_import

        try:
            env = read_env(path)
        except OSError as exc:
            return ImportPreview(blocked=f"cannot read {path}: {exc.strerror or exc}")
        plan = plan_env_import(
            env, path=path, side=choices["side"], existing_names=self.workspace.accounts.names()
        )
        preview = ImportPreview(
            lines=plan.preview_lines(),
            problems=[str(p) for p in plan.problems],
            warnings=list(plan.warnings),
            plan=(env, plan),
        )
        moving = [e for p in plan.accounts if p.secret for e in p.secret_keys]
        if moving:
            keys = ", ".join(f"{e.key} (line {e.line})" for e in moving)
            preview.lines.append(f"With 'Rewrite': {keys} become comments in {path.name}.")
        if not plan.ok:
            preview.blocked = "Nothing will be imported: fix the problems above first."
        elif not plan.accounts:
            preview.blocked = f"No mail settings recognised in {path.name}."
        else:
            preview.blocked = self.keyring_block(any(p.secret for p in plan.accounts))
        return preview

    def run_import(self, preview: ImportPreview, choices: dict[str, Any]) -> str:
        """Create every account, move the passwords, rewrite the file if asked (all or nothing)."""
        from workspace.imports.env_move import EnvMoveError, move_env_secrets

        env, plan = preview.plan
        if any(p.secret for p in plan.accounts):
            self.workspace.secrets.require_ready()
        try:
            moved = move_env_secrets(
                self.workspace.accounts, plan.path, env, plan, rewrite=bool(choices["rewrite"])
            )
        except EnvMoveError as exc:
            return str(exc)
        summary = f"{len(moved.created)} account(s) created; passwords moved to the OS keyring"
        if moved.rewritten:
            lines = f"{moved.rewritten} secret line(s) of {plan.path.name}"
            summary += f"; {lines} replaced by a comment"
        return summary


class ImportCsvScreen(ImportScreen):
    """Source accounts from Microsoft's IMAP migration CSV; good rows import, bad rows are named."""

    TITLE_TEXT = "Import a migration CSV (EmailAddress,UserName,Password): source accounts"
    PLACEHOLDER = "/path/to/migration.csv"

    def options(self) -> ComposeResult:
        """The source provider, and the IMAP server of a custom one."""
        with Horizontal(classes="import-row"):
            yield Label("Provider", classes="import-label")
            yield Select(
                [(p, p) for p in PROVIDERS],
                value="gmail",
                allow_blank=False,
                compact=True,
                id="import-provider",
            )
            yield Label("IMAP", classes="import-label import-imap-label")
            yield Input(placeholder="host[:port] (custom provider)", id="import-imap", compact=True)

    @on(Select.Changed, "#import-provider")
    def _provider_changed(self) -> None:
        if self.preview is not None:
            self.action_preview()

    def choices(self) -> dict[str, Any]:
        """The provider and the IMAP server typed."""
        return {
            "provider": str(self.query_one("#import-provider", Select).value),
            "imap": self.query_one("#import-imap", Input).value.strip(),
        }

    @staticmethod
    def _imap(text: str) -> MailEndpoint | None:
        if not text:
            return None
        host, sep, digits = text.rpartition(":")
        if not sep or "]" in digits:
            host, digits = text, "993"
        if not digits.isdigit():
            raise ValueError(f"the IMAP port must be a number, not {digits!r}")
        port = int(digits)
        security = security_of_port("imap", port) or "tls"
        return MailEndpoint(host.strip("[]"), port, Security(security))

    def plan(self, path: Path, choices: dict[str, Any]) -> ImportPreview:
        """Plan one source account per good row."""
        from workspace.imports.migration_csv import plan_csv_accounts, read_migration_csv

        parsed = read_migration_csv(path)
        problems = [str(p) for p in parsed.problems]
        provider = choices["provider"]
        try:
            imap = self._imap(choices["imap"])
            if provider == "custom" and imap is None:
                raise ValueError("the custom provider needs the IMAP server (host[:port])")
            planned = plan_csv_accounts(
                parsed,
                provider=provider,
                existing_names=self.workspace.accounts.names(),
                imap=imap,
            )
        except ValueError as exc:
            return ImportPreview(problems=problems, blocked=str(exc))
        lines = [
            f"create source account {a.name} <{a.address}> IMAP "
            f"{a.imap.label if a.imap else '—'}; password -> keyring"
            for a, _ in planned
        ]
        preview = ImportPreview(lines=lines, problems=problems, plan=planned or None)
        if parsed.problems and planned:
            preview.warnings.append(
                f"{len(parsed.problems)} problem(s): those rows are not imported; "
                f"{len(planned)} good row(s) are"
            )
        if not planned:
            preview.blocked = "Nothing to import: no good row."
        else:
            preview.blocked = self.keyring_block(True)
        return preview

    def run_import(self, preview: ImportPreview, choices: dict[str, Any]) -> str:
        """Create the good rows' accounts in batches (whole accounts), passwords in the keyring."""
        from workspace.accounts.book import ImportStopped, NewAccount

        self.workspace.secrets.require_ready()
        try:
            created = self.workspace.accounts.add_in_batches(
                [NewAccount(account, secret) for account, secret in preview.plan],
                on_progress=self._progress,
            )
        except ImportStopped as exc:
            return str(exc)
        summary = f"{len(created)} source account(s) created; passwords stored in the OS keyring"
        if preview.problems:
            summary += f"; {len(preview.problems)} bad row problem(s) not imported"
        return summary
