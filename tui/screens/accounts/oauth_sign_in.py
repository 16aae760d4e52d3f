"""Sign an account in with OAuth: the app registration, the wait for the user, the outcome.

Microsoft signs in with the device code flow (the code is copied to the clipboard and shown
large); Google with the browser and a loopback redirect (the app's ``open_browser`` opens
the page, in a thread). The sign-in runs in a worker; escape cancels it and closes the
dialog, keeping only the app settings. Also the confirmation before signing out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, ContentSwitcher, Input, Static

from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from probes.oauth.errors import OAuthError
from render.text import shown
from tui.screens.base import ReportsJobErrors
from tui.widgets.footer import Footer
from tui.widgets.oauth_app_form import OAuthAppForm
from tui.widgets.oauth_guide import OAuthGuide
from tui.widgets.oauth_outcome import OAuthOutcome
from tui.widgets.oauth_wait import OAuthWait
from workspace.auth.readiness import platform_of

if TYPE_CHECKING:
    from probes.oauth.client import DeviceCode
    from workspace.accounts.model import Account
    from workspace.auth.sign_in import SignInResult
    from workspace.session import Workspace

STEP_BUTTONS = {
    "app": ("oauth-start", "oauth-guide-button", "oauth-cancel"),
    "guide": ("oauth-back",),
    "waiting": ("oauth-cancel",),
    "done": ("oauth-close",),
}
ALL_BUTTONS = ("oauth-start", "oauth-guide-button", "oauth-back", "oauth-cancel", "oauth-close")


class OAuthSignInScreen(ReportsJobErrors, ModalScreen[bool]):
    """The sign-in dialog of one account; dismissed with True when it signed in."""

    CSS_PATH = "oauth_sign_in.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Cancel/close", id="oauth_sign_in.cancel"),
        Binding("ctrl+s", "start", "Sign in", id="oauth_sign_in.start"),
        Binding("ctrl+g", "guide", "No app registration?", id="oauth_sign_in.guide"),
        Binding("c", "copy", "Copy code/URL", id="oauth_sign_in.copy"),
    ]

    def __init__(
        self, workspace: Workspace, account: Account, saved: OAuthApp | None, lang: str = "en"
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.account = account
        self.saved = saved
        self.lang = lang
        self.step = "app"
        self.signed_in = False
        self.failed = False

    def compose(self) -> ComposeResult:
        """The title, the step shown, the buttons of that step."""
        platform = platform_of(self.account)
        with Vertical(id="oauth-dialog"):
            yield Static(
                shown(f"Sign in {self.account.name} <{self.account.login}> with OAuth"),
                id="oauth-title",
                markup=False,
            )
            with ContentSwitcher(initial="oauth-app", id="oauth-steps"):
                yield OAuthAppForm(self.saved, platform, id="oauth-app")
                yield OAuthGuide(id="oauth-guide")
                yield OAuthWait(id="oauth-waiting")
                yield OAuthOutcome(id="oauth-done")
            with Horizontal(id="oauth-buttons"):
                yield Button("Sign in", variant="primary", id="oauth-start", compact=True)
                yield Button("No app registration? (ctrl+g)", id="oauth-guide-button", compact=True)
                yield Button("Back", id="oauth-back", compact=True)
                yield Button("Cancel", id="oauth-cancel", compact=True)
                yield Button("Close", variant="primary", id="oauth-close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """The app step; the focus where typing starts (or on Sign in when all is there)."""
        self.set_step("app")
        form = self.query_one(OAuthAppForm)
        if form.check() is None:
            self.query_one("#oauth-client_id", Input).focus()
        else:
            self.query_one("#oauth-start", Button).focus()

    def set_step(self, step: str) -> None:
        """Show ``step`` (app, guide, waiting, done) and its buttons."""
        self.step = step
        self.query_one(ContentSwitcher).current = f"oauth-{step}"
        for button in ALL_BUTTONS:
            shown = button in STEP_BUTTONS[step] or (
                button == "oauth-back" and step == "done" and self.failed
            )
            self.query_one(f"#{button}", Button).display = shown
        self.query_one("#oauth-back", Button).label = (
            "Back to the app settings" if step == "done" else "Back"
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Sign in and the guide on the app step only; copy while waiting."""
        if action == "start":
            if self.step != "app":
                return False
            return True if self.query_one(OAuthAppForm).app_value is not None else None
        if action == "guide":
            return self.step == "app"
        if action == "copy":
            return self.step == "waiting" and bool(self.query_one(OAuthWait).url)
        return True

    @on(OAuthAppForm.Edited)
    def _edited(self, event: OAuthAppForm.Edited) -> None:
        self.query_one("#oauth-start", Button).disabled = event.app is None
        self.refresh_bindings()

    # The steps.

    @on(Input.Submitted)
    @on(Button.Pressed, "#oauth-start")
    def action_start(self) -> None:
        """Save the app settings and start the platform's flow (in a worker)."""
        form = self.query_one(OAuthAppForm)
        app = form.check()
        if self.step != "app" or app is None:
            return
        secret = form.client_secret
        self.failed = False
        self.set_step("waiting")
        self.query_one("#oauth-cancel", Button).focus()
        self.run_worker(
            self._sign_in(app, secret),
            name="oauth sign-in",
            group="oauth",
            exclusive=True,
            exit_on_error=False,
        )

    async def _sign_in(self, app: OAuthApp, secret: str | None) -> None:
        from workspace.auth.sign_in import BROWSER_TIMEOUT, SignIn

        wait = self.query_one(OAuthWait)
        try:
            sign_in = SignIn(self.workspace.tokens, self.account, app, client_secret=secret)
            if app.platform is IdentityPlatform.MICROSOFT:
                result = await sign_in.device(self._code_ready, wait.progress)
            else:
                opener = self._opener()
                result = await sign_in.browser(
                    lambda url: wait.show_url(url, BROWSER_TIMEOUT), opener
                )
        except OAuthError as exc:
            await self._failed(exc.message)
        except Exception as exc:  # keyring, store: shown like the platform's errors
            await self._failed(str(exc) or type(exc).__name__)
        else:
            self._succeeded(result)

    def _code_ready(self, device: DeviceCode) -> None:
        self.query_one(OAuthWait).show_code(device)
        self.app.copy_to_clipboard(device.user_code)
        self.notify(
            shown(
                f"The code {device.user_code} is in the clipboard: paste it at "
                f"{device.verification_uri}"
            ),
            title="Sign in",
            markup=False,
        )
        self.refresh_bindings()

    def _opener(self) -> Callable[[str], object] | None:
        """The app's browser opener, run in a thread worker (it may block)."""
        from tui.browser import system_browser

        opener: Callable[[str], object] | None = getattr(self.app, "open_browser", system_browser)
        if opener is None:
            return None

        def opened(url: str) -> None:
            self.refresh_bindings()
            self.run_worker(
                lambda: self._open(opener, url),
                name="open browser",
                group="oauth.browser",
                thread=True,
                exit_on_error=False,
            )

        return opened

    def _open(self, opener: Callable[[str], object], url: str) -> None:
        try:
            ok = opener(url) is not False
        except Exception:
            ok = False
        if not ok:
            with contextlib.suppress(RuntimeError):
                self.app.call_from_thread(self.query_one(OAuthWait).browser_failed)

    def _succeeded(self, result: SignInResult) -> None:
        if self.step != "waiting":
            return
        self.query_one(OAuthWait).stop()
        self.signed_in = True
        self.query_one(OAuthOutcome).show_success(result)
        self.set_step("done")
        self.query_one("#oauth-close", Button).focus()

    async def _failed(self, message: str) -> None:
        from probes.diagnosis.explain import explain

        if self.step != "waiting":
            return
        self.query_one(OAuthWait).stop()
        context = {"mailbox": self.account.login}
        found = await asyncio.to_thread(explain, message, context, self.lang)
        if self.step != "waiting":
            return
        self.failed = True
        self.query_one(OAuthOutcome).show_failure(
            message, found.findings[0] if found.findings else None
        )
        self.set_step("done")
        self.query_one("#oauth-close", Button).focus()

    # Keys and buttons.

    def action_guide(self) -> None:
        """How to register an app (steps and commands to copy)."""
        form = self.query_one(OAuthAppForm)
        tenant = form.query_one("#oauth-tenant", Input).value.strip()
        self.query_one(OAuthGuide).show(form.platform.value, tenant, self.account.login, self.lang)
        self.set_step("guide")
        commands = self.query_one("#oauth-guide-commands")
        target = commands if commands.display else self.query_one(OAuthGuide)
        self.call_after_refresh(target.focus)

    @on(Button.Pressed, "#oauth-guide-button")
    def _guide_pressed(self) -> None:
        self.action_guide()

    def action_copy(self) -> None:
        """Copy the device code (device flow) or the sign-in URL (browser flow)."""
        wait = self.query_one(OAuthWait)
        what, text = ("code", wait.user_code) if wait.user_code else ("URL", wait.url)
        if text:
            self.app.copy_to_clipboard(text)
            self.notify(f"The {what} is in the clipboard.", title="Sign in")

    @on(Button.Pressed, "#oauth-back")
    def _back_pressed(self) -> None:
        self.failed = False
        self.set_step("app")
        self.query_one("#oauth-start", Button).focus()

    @on(Button.Pressed, "#oauth-cancel")
    @on(Button.Pressed, "#oauth-close")
    def action_back(self) -> None:
        """Escape: back from the guide; otherwise cancel the sign-in (if any) and close."""
        if self.step == "guide":
            self._back_pressed()
            return
        if self.step == "waiting":
            self.workers.cancel_group(self, "oauth")
            self.query_one(OAuthWait).stop()
        self.step = "closed"
        self.dismiss(self.signed_in)


class ConfirmSignOutScreen(ModalScreen[bool]):
    """Asks before signing ``account`` out; dismissed with True to sign out."""

    CSS_PATH = "oauth_sign_in.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Stay signed in", id="oauth_sign_out.keep"),
    ]

    def __init__(self, account: Account, platform: str) -> None:
        super().__init__()
        self.account = account
        self.platform = platform

    def compose(self) -> ComposeResult:
        """The question, what happens, the two answers (Stay has the focus)."""
        revoke = (
            "Microsoft cannot revoke one refresh token: it is deleted here."
            if self.platform == "microsoft"
            else "The platform is asked to revoke the token too."
        )
        with Vertical(id="sign-out-dialog"):
            yield Static(
                shown(f"Sign {self.account.name} <{self.account.login}> out of OAuth?"),
                id="sign-out-question",
                markup=False,
            )
            yield Static(
                f"The refresh token is deleted from the OS keyring. {revoke} "
                "The app settings stay; o signs in again.",
                id="sign-out-warning",
            )
            with Horizontal(id="sign-out-buttons"):
                yield Button("Sign out", variant="error", id="sign-out-yes", compact=True)
                yield Button("Stay signed in", id="sign-out-no", compact=True)

    def on_mount(self) -> None:
        """Start on the safe answer."""
        self.query_one("#sign-out-no", Button).focus()

    @on(Button.Pressed, "#sign-out-yes")
    def _sign_out(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#sign-out-no")
    def action_keep(self) -> None:
        """Close without signing out."""
        self.dismiss(False)
