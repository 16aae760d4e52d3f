"""The app registration a sign-in uses: platform, client id, tenant, authority, client secret.

Checked as it is typed with :meth:`OAuthApp.validated`; the problem is shown under the
field it concerns and posted (:class:`OAuthAppForm.Edited`) so the dialog can switch its
Sign in button. The client secret (Google desktop apps) is never shown and never put in
the app: the dialog hands it to the sign-in, which puts it in the keyring.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from probes.oauth.endpoints import (
    DEFAULT_TENANT,
    MICROSOFT_CLOUDS,
    IdentityPlatform,
    OAuthApp,
    OAuthConfigError,
)
from render.text import one_line

FIELDS = ("client_id", "tenant", "authority", "secret")
PLATFORMS = (("Microsoft 365 (device code)", "microsoft"), ("Google (browser)", "google"))


def problem_field(problem: str) -> str:
    """Which field an :class:`OAuthConfigError` message is about (``client_id`` by default)."""
    head = problem.split(":", 1)[0].lower()
    if head.startswith("tenant"):
        return "tenant"
    if "authority" in problem.lower():
        return "authority"
    return "client_id"


class OAuthAppForm(Vertical):
    """The app registration fields, validated as typed."""

    DEFAULT_CSS = """
    OAuthAppForm { height: auto; }
    OAuthAppForm .oauth-row { height: 1; margin-top: 1; }
    OAuthAppForm .oauth-label { width: 15; }
    OAuthAppForm Input, OAuthAppForm Select { width: 1fr; }
    OAuthAppForm .oauth-error { color: $error; padding-left: 15; height: auto; }
    OAuthAppForm .oauth-hint { color: $text-muted; padding-left: 15; height: auto; }
    """

    @dataclass
    class Edited(Message):
        """The fields changed: ``app`` when valid, else ``problem`` says what is wrong."""

        form: OAuthAppForm
        app: OAuthApp | None
        problem: str

        @property
        def control(self) -> OAuthAppForm:
            """The form."""
            return self.form

    def __init__(self, saved: OAuthApp | None, platform: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.saved = saved
        self.initial_platform = saved.platform.value if saved else platform
        if self.initial_platform not in {p.value for p in IdentityPlatform}:
            self.initial_platform = IdentityPlatform.MICROSOFT.value
        self.app_value: OAuthApp | None = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        """One row per field, an error line under each."""
        saved = self.saved
        with Horizontal(classes="oauth-row"):
            yield Label("Platform", classes="oauth-label")
            yield Select(
                PLATFORMS,
                value=self.initial_platform,
                allow_blank=False,
                compact=True,
                id="oauth-platform",
            )
        rows = (
            ("client_id", "Client id", saved.client_id if saved else "", "application (client) id"),
            ("tenant", "Tenant", saved.tenant if saved else DEFAULT_TENANT, "GUID, domain"),
            (
                "authority",
                "Authority",
                (saved.authority or "") if saved else "",
                "empty: global; or e.g. https://login.microsoftonline.us",
            ),
            ("secret", "Client secret", "", "empty: keep the one in the keyring, if any"),
        )
        for key, label, value, placeholder in rows:
            with Horizontal(classes="oauth-row", id=f"oauth-row-{key}"):
                yield Label(label, classes="oauth-label")
                yield Input(
                    value,
                    placeholder=placeholder,
                    password=key == "secret",
                    compact=True,
                    id=f"oauth-{key}",
                    suggester=(
                        SuggestFromList(list(MICROSOFT_CLOUDS.values()))
                        if key == "authority"
                        else None
                    ),
                )
            yield Static("", classes="oauth-error", id=f"oauth-error-{key}", markup=False)
        yield Static(
            "Google desktop apps have a client secret: it goes to the OS keyring.",
            classes="oauth-hint",
            id="oauth-hint-secret",
        )

    def on_mount(self) -> None:
        """Show the fields of the platform, check what is there."""
        self.check()

    @property
    def platform(self) -> IdentityPlatform:
        """The chosen platform."""
        value = self.query_one("#oauth-platform", Select).value
        return IdentityPlatform(value if isinstance(value, str) else self.initial_platform)

    @property
    def client_secret(self) -> str | None:
        """The client secret typed (Google only), None when left empty."""
        if self.platform is not IdentityPlatform.GOOGLE:
            return None
        return self.query_one("#oauth-secret", Input).value.strip() or None

    def _value(self, key: str) -> str:
        return self.query_one(f"#oauth-{key}", Input).value.strip()

    def check(self) -> OAuthApp | None:
        """Validate the fields, show the problem under its field, post :class:`Edited`."""
        platform = self.platform
        microsoft = platform is IdentityPlatform.MICROSOFT
        self.query_one("#oauth-row-tenant").display = microsoft
        self.query_one("#oauth-row-secret").display = not microsoft
        self.query_one("#oauth-hint-secret").display = not microsoft
        app = OAuthApp(
            platform,
            self._value("client_id"),
            (self._value("tenant") or DEFAULT_TENANT) if microsoft else DEFAULT_TENANT,
            self._value("authority") or None,
            self.saved.scopes if self.saved and self.saved.platform is platform else (),
        )
        try:
            self.app_value, self.problem = app.validated(), ""
        except OAuthConfigError as exc:
            self.app_value, self.problem = None, str(exc)
        where = problem_field(self.problem) if self.problem else ""
        for key in FIELDS:
            error = self.query_one(f"#oauth-error-{key}", Static)
            shown = self.problem if key == where and self._value(key) else ""
            if key == "client_id" and where == key and not self._value(key):
                shown = "required: the application (client) id of the app registration"
            error.update(one_line(shown))
            error.display = bool(shown)
        self.post_message(self.Edited(self, self.app_value, self.problem))
        return self.app_value

    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | Select.Changed) -> None:
        event.stop()
        self.check()
