"""``mxpilot auth``: its arguments, and ``login`` — OAuth sign-ins of workspace accounts.

Refresh tokens go to the OS keyring; access tokens stay in this process's memory. The device
code flow (Microsoft) prints the code and the URL; the browser flow (Google) prints the URL,
opens a browser when there is one, and waits for the redirect on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_connection_options,
    connection_settings,
    open_workspace,
    say,
    workspace_option,
)

if TYPE_CHECKING:
    from probes.oauth.client import DeviceCode
    from probes.oauth.device import DeviceWait
    from probes.oauth.endpoints import OAuthApp
    from probes.oauth.errors import OAuthError
    from workspace.accounts.model import Account
    from workspace.session import Workspace


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``auth`` and its subcommands."""
    auth = commands.add_parser(
        "auth",
        help="OAuth 2.0 sign-ins (XOAUTH2) of accounts; tokens in the OS keyring",
        description="Sign accounts in with OAuth 2.0 so IMAP and SMTP logins use XOAUTH2.",
    )
    sub = auth.add_subparsers(dest="action", metavar="ACTION", required=True)
    ws = workspace_option()

    login = sub.add_parser("login", parents=[ws], help="sign an account in")
    login.add_argument("--account", required=True, help="the workspace account")
    login.add_argument(
        "--provider", choices=["microsoft", "google"], help="default: from the account"
    )
    login.add_argument("--client-id", help="the app registration's application (client) id")
    login.add_argument("--tenant", help="Microsoft: tenant id or domain (default: organizations)")
    login.add_argument(
        "--cloud",
        choices=["global", "usgov", "china"],
        help="Microsoft national cloud (sets --authority)",
    )
    login.add_argument("--authority", help="the identity platform's base URL (https://...)")
    login.add_argument(
        "--scope", action="append", help="ask for this scope instead of the mail scopes (repeat)"
    )
    login.add_argument(
        "--flow",
        choices=["device", "browser"],
        help="device code (default for Microsoft) or browser with a loopback redirect (Google)",
    )
    login.add_argument("--no-browser", action="store_true", help="only print the URL")
    login.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the app's client secret (Google desktop apps) from stdin; kept in the keyring",
    )
    login.add_argument(
        "--wait", type=float, default=300.0, help="browser flow: seconds to wait (default 300)"
    )
    add_connection_options(login, timeout=15.0)

    status = sub.add_parser("status", parents=[ws], help="who is signed in, scopes, expiry")
    status.add_argument("--account", help="one account (default: every OAuth account)")
    status.add_argument(
        "--check", action="store_true", help="refresh the access token now to prove the sign-in"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    add_connection_options(status, timeout=15.0)

    logout = sub.add_parser("logout", parents=[ws], help="revoke and delete a sign-in")
    logout.add_argument("--account", required=True)
    logout.add_argument(
        "--local-only", action="store_true", help="delete the tokens here without revoking"
    )
    add_connection_options(logout, timeout=15.0)

    setup = sub.add_parser("setup", help="how to create the app registration a sign-in needs")
    setup.add_argument("--provider", choices=["microsoft", "google"], default="microsoft")
    setup.add_argument("--tenant", default="organizations", help="Microsoft tenant")
    setup.add_argument("--lang", choices=["en", "es"], default=None)

    ready = sub.add_parser(
        "readiness", parents=[ws], help="accounts still on passwords, and when that breaks"
    )
    ready.add_argument("--json", action="store_true", help="machine-readable output")


def run_auth_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot auth ...`` and return the exit code."""
    from mxpilot.auth_state import run_logout, run_readiness, run_setup, run_status

    if args.action == "setup":
        return run_setup(args)
    with open_workspace(args) as ws:
        if hasattr(args, "ca_file"):
            ws.use_connection(connection_settings(args))
        handler = {
            "login": _login,
            "status": run_status,
            "logout": run_logout,
            "readiness": run_readiness,
        }[args.action]
        return handler(ws, args)


def _app_for(ws: Workspace, account: Account, args: argparse.Namespace) -> OAuthApp:
    from probes.oauth.endpoints import (
        MICROSOFT_CLOUDS,
        IdentityPlatform,
        OAuthApp,
        OAuthConfigError,
    )
    from workspace.auth.readiness import platform_of

    stored = ws.signins.app(account)
    provider = args.provider or (stored.platform.value if stored else platform_of(account))
    if provider not in ("microsoft", "google"):
        raise UsageError(
            f"{account.name} is on {account.provider}: say --provider microsoft or google"
        )
    platform = IdentityPlatform(provider)
    same = stored is not None and stored.platform is platform
    client_id = args.client_id or (stored.client_id if same and stored else "")
    if not client_id:
        raise UsageError(
            f"no app registration for {account.name}: give --client-id (the application id); "
            f"'mxpilot auth setup --provider {provider}' shows how to create one"
        )
    authority = args.authority or (MICROSOFT_CLOUDS[args.cloud] if args.cloud else None)
    if authority is None and same and stored is not None:
        authority = stored.authority
    tenant = args.tenant or (stored.tenant if same and stored else "organizations")
    scopes = tuple(args.scope or (stored.scopes if same and stored else ()))
    try:
        return OAuthApp(platform, client_id, tenant, authority, scopes).validated()
    except OAuthConfigError as exc:
        raise UsageError(str(exc)) from None


def _client_secret(args: argparse.Namespace) -> str | None:
    if not args.client_secret_stdin:
        return None
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError("empty client secret on stdin")
    return secret


def _login(ws: Workspace, args: argparse.Namespace) -> int:
    from probes.oauth.endpoints import IdentityPlatform
    from probes.oauth.errors import OAuthError
    from workspace.auth.sign_in import SignIn

    account = ws.accounts.get(args.account)
    app = _app_for(ws, account, args)
    ws.secrets.require_ready()
    flow = args.flow or ("device" if app.platform is IdentityPlatform.MICROSOFT else "browser")
    if flow == "device" and app.platform is IdentityPlatform.GOOGLE:
        raise UsageError("Google does not allow the Gmail scope in its device flow: --flow browser")
    if args.wait <= 0 or args.wait > 3600:
        raise UsageError("--wait must be between 0 and 3600 seconds")
    secret = _client_secret(args)
    google = app.platform is IdentityPlatform.GOOGLE
    if secret is None and google and ws.signins.client_secret(account) is None:
        say(
            "mxpilot: note: Google desktop apps usually need their client secret: "
            "pipe it with --client-secret-stdin (it is kept in the keyring)",
            file=sys.stderr,
        )
    sign_in = SignIn(ws.tokens, account, app, client_secret=secret)
    say(f"Signing {account.name} in with {app.label}.", file=sys.stderr)
    progress = _ProgressLine()
    try:
        if flow == "device":
            result = asyncio.run(sign_in.device(_show_code, progress.callback()))
        else:
            opener = None if args.no_browser else _browser()
            result = asyncio.run(sign_in.browser(_show_url, opener, timeout=args.wait))
    except OAuthError as exc:
        progress.clear()
        return _oauth_failure(exc, args, account)
    progress.clear()
    tokens = result.tokens
    who = tokens.signed_in_as or "(the token does not say)"
    say(f"Signed in as {who}.")
    say(f"Granted: {' '.join(tokens.scopes) or '(not stated)'}")
    say(f"Access token valid until {tokens.expires_at:%Y-%m-%d %H:%M} UTC (kept in memory only).")
    say(f"Refresh token stored in the OS keyring ({ws.secrets.status().name}).")
    if result.account.auth.value == "oauth" and account.auth.value != "oauth":
        say(f"{account.name} now logs in with OAuth (XOAUTH2); was: {account.auth.value}.")
    for warning in result.warnings:
        say(f"warning: {warning}", file=sys.stderr)
    return EXIT_FAILED if result.missing_scopes else EXIT_OK


def _show_code(device: DeviceCode) -> None:
    say(f"To sign in, open {device.verification_uri} and enter the code {device.user_code}")
    say(f"(the code expires in {device.expires_in // 60} min {device.expires_in % 60} s)")
    sys.stdout.flush()


def _show_url(url: str) -> None:
    say("To sign in, open this URL in a browser (on this computer):")
    say(url)
    sys.stdout.flush()


class _ProgressLine:
    """One self-rewriting stderr line while the device code sign-in waits (terminals only)."""

    def __init__(self) -> None:
        self.shown = False

    def callback(self) -> Any:
        """The ``on_wait`` callback, or None when stderr is not a terminal."""
        return self.show if sys.stderr.isatty() else None

    def show(self, wait: DeviceWait) -> None:
        """Time left, and whether the server asked to poll slower."""
        minutes, seconds = divmod(int(wait.seconds_left), 60)
        slow = " (the server asked to poll slower)" if wait.slowed_down else ""
        sys.stderr.write(f"\rwaiting for the sign-in… {minutes:02d}:{seconds:02d} left{slow}  ")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the line before the outcome is printed."""
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


def _browser() -> Any:
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        say("(no browser found here: open the URL on this computer yourself)", file=sys.stderr)
        return None
    return webbrowser.open


def _oauth_failure(exc: OAuthError, args: argparse.Namespace, account: Account) -> int:
    from probes.diagnosis.explain import explain

    say(f"mxpilot: sign-in failed: {exc.message}", file=sys.stderr)
    found = explain(exc.message, {"mailbox": account.login}, getattr(args, "lang", "en"))
    for diagnosis in found.findings[:1]:
        say(f"  {diagnosis.title}", file=sys.stderr)
        say(f"  {diagnosis.cause}", file=sys.stderr)
        for fix in diagnosis.fixes:
            say(f"  - {fix.text}", file=sys.stderr)
            if fix.command:
                say(f"      {fix.command}", file=sys.stderr)
    if exc.error in ("unauthorized_client", "invalid_client") or exc.aadsts == "AADSTS700016":
        say("  'mxpilot auth setup' shows how to create the app registration.", file=sys.stderr)
    return EXIT_FAILED
