"""``mxpilot auth status|logout|setup|readiness``: what the sign-ins are, and undoing one.

Read-mostly views of the accounts' OAuth state (never a token), sign-out, the app
registration guide, and the Basic-auth readiness list. ``mxpilot.auth_command`` parses the
arguments and signs accounts in.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from mxpilot.common import EXIT_FAILED, EXIT_OK, print_json, say, say_block

if TYPE_CHECKING:
    from workspace.accounts.model import Account
    from workspace.session import Workspace


def status_view(ws: Workspace, account: Account) -> dict[str, Any]:
    """A JSON-ready view of an account's OAuth state (no token)."""
    status = ws.tokens.status(account)
    record = status.record
    view: dict[str, Any] = {
        "account": account.name,
        "auth": account.auth.value,
        "state": status.state,
    }
    if record is not None:
        view.update(
            platform=record.app.platform.value,
            client_id=record.app.client_id,
            tenant=record.app.tenant,
            authority=record.app.authority,
            signed_in_as=record.signed_in_as,
            signed_in_at=record.signed_in_at,
            refreshed_at=record.refreshed_at,
            scopes=list(record.granted_scopes),
        )
    if status.access_expires_at is not None:
        view["access_token_expires"] = status.access_expires_at.isoformat(timespec="seconds")
    return view


def run_status(ws: Workspace, args: argparse.Namespace) -> int:
    """``auth status``: each OAuth account's sign-in; ``--check`` refreshes it now."""
    from probes.oauth.errors import OAuthError
    from workspace.accounts.model import AuthKind
    from workspace.auth.token_keeper import SignInRequired

    if args.account:
        accounts = [ws.accounts.get(args.account)]
    else:
        accounts = [a for a in ws.accounts.list() if a.auth is AuthKind.OAUTH or ws.signins.app(a)]
    failed = False
    views = []
    for account in accounts:
        problem = ""
        if args.check:
            try:
                asyncio.run(ws.tokens.access_token(account, force=True))
            except (OAuthError, SignInRequired) as exc:
                problem = str(exc)
                failed = True
        view = status_view(ws, account)
        if problem:
            view["problem"] = problem
        views.append(view)
    if args.json:
        print_json({"accounts": views})
        return EXIT_FAILED if failed else EXIT_OK
    if not views:
        say("No account uses OAuth yet: 'mxpilot auth login --account NAME'.")
    for view in views:
        say(f"{view['account']}: {view['state']}")
        if "platform" in view:
            say(f"  app: {view['platform']} {view['client_id']} (tenant {view['tenant']})")
        if view.get("signed_in_as"):
            say(f"  signed in as {view['signed_in_as']} at {view['signed_in_at']}")
        if view.get("scopes"):
            say(f"  scopes: {' '.join(view['scopes'])}")
        if "access_token_expires" in view:
            say(f"  access token valid until {view['access_token_expires']} (refreshed now)")
        if view.get("problem"):
            say(f"  problem: {view['problem']}")
    return EXIT_FAILED if failed else EXIT_OK


def run_logout(ws: Workspace, args: argparse.Namespace) -> int:
    """``auth logout``: delete the sign-in here, revoke it where the platform can."""
    from probes.oauth.errors import OAuthError

    account = ws.accounts.get(args.account)
    if ws.signins.record(account) is None:
        say(f"{account.name} has no OAuth sign-in.")
        return EXIT_OK
    try:
        revoked = asyncio.run(ws.tokens.sign_out(account, revoke=not args.local_only))
    except OAuthError as exc:
        say(f"Signed out here; the platform did not confirm the revocation: {exc.message}")
        return EXIT_FAILED
    say(f"Signed {account.name} out: the refresh token is deleted from the keyring.")
    if revoked:
        say("The platform revoked the token as well.")
    elif not args.local_only:
        say(
            "Microsoft has no endpoint to revoke one refresh token; to end every session of "
            f"the mailbox: Revoke-MgUserSignInSession -UserId {account.login}"
        )
    return EXIT_OK


def run_setup(args: argparse.Namespace) -> int:
    """``auth setup``: how to create the app registration a sign-in needs."""
    from probes.oauth.registration import google_registration_guide, microsoft_registration_guide

    lang = args.lang or "en"
    if args.provider == "microsoft":
        guide = microsoft_registration_guide(args.tenant, lang)
    else:
        guide = google_registration_guide(lang)
    say(guide.title)
    for number, step in enumerate(guide.steps, 1):
        say(f"{number}. {step}")
    for shell, command in guide.commands:
        say()
        say(f"# {shell}")
        say_block(command)
    return EXIT_OK


def run_readiness(ws: Workspace, args: argparse.Namespace) -> int:
    """``auth readiness``: every login still on Basic auth; exit 1 when one breaks soon."""
    from workspace.auth.readiness import Urgency, basic_auth_readiness

    findings = basic_auth_readiness(ws.accounts.list())
    if args.json:
        print_json({"findings": [f.to_dict() for f in findings]}, ensure_ascii=True)
    elif not findings:
        say("Every account is ready: none depends on Basic authentication.")
    for finding in [] if args.json else findings:
        say(
            f"{finding.urgency.value.upper():6} {finding.account} {finding.protocol.value.upper()}"
            f" ({finding.platform}, {finding.deadline.isoformat()}): {finding.message}"
        )
        say(f"       way out: {finding.way_out}")
    return EXIT_FAILED if any(f.urgency is not Urgency.LATER for f in findings) else EXIT_OK
