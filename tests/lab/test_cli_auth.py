"""``mxpilot auth ...`` as a user runs it, against the lab identity provider (in-memory keyring)."""

from __future__ import annotations

import json
from typing import Any

from mxlab.identity import LAB_GOOGLE_CLIENT, LAB_GOOGLE_SECRET, LAB_MS_CLIENT, LAB_USER
from mxlab.memory_keyring import MemoryKeyring
from tests.conftest import Run, secret_free
from tests.labkit.browser import LabBrowser


def lab(identity: Any) -> list[str]:
    return ["--authority", identity.base_url, "--ca-file", str(identity.ca_file)]


def add_m365(mx: Run, name: str = "ops") -> None:
    code, _, err = mx(
        "accounts", "add", name, "--address", LAB_USER, "--side", "target",
        "--provider", "office365", "--role", "mailbox", "--role", "sender", "--no-password",
    )  # fmt: skip
    assert code == 0, err


def test_device_login_status_check_and_logout(mx: Run, identity: Any) -> None:
    add_m365(mx)
    identity.auto_approve = LAB_USER
    code, out, err = mx(
        "auth", "login", "--account", "ops", "--client-id", LAB_MS_CLIENT,
        "--tenant", "contoso.lab.test", *lab(identity),
    )  # fmt: skip
    assert code == 0, err
    assert f"open {identity.base_url}/devicelogin and enter the code" in out
    assert f"Signed in as {LAB_USER}" in out and "OS keyring" in out
    assert "now logs in with OAuth" in out

    code, out, _ = mx("auth", "status", "--json")
    view = json.loads(out)["accounts"][0]
    assert code == 0 and view["state"] == "signed in" and view["signed_in_as"] == LAB_USER
    assert view["auth"] == "oauth" and view["tenant"] == "contoso.lab.test"

    code, out, err = mx("auth", "status", "--account", "ops", "--check", "--ca-file",
                        str(identity.ca_file))  # fmt: skip
    assert code == 0, err
    assert "access token valid until" in out and "token ready" in out

    code, out, _ = mx("auth", "logout", "--account", "ops", "--ca-file", str(identity.ca_file))
    assert code == 0 and "deleted from the keyring" in out and "Revoke-MgUserSignInSession" in out
    code, out, _ = mx("auth", "status", "--account", "ops", "--check")
    assert code == 1 and "not signed in" in out and "mxpilot auth login --account ops" in out


def test_declined_sign_in_explains_and_fails(mx: Run, identity: Any, monkeypatch: Any) -> None:
    add_m365(mx)
    from mxpilot import auth_command

    original = auth_command._show_code

    def decline(device: Any) -> None:
        original(device)
        identity.decline(device.user_code)

    monkeypatch.setattr(auth_command, "_show_code", decline)
    code, _, err = mx("auth", "login", "--account", "ops", "--client-id", LAB_MS_CLIENT,
                      *lab(identity))  # fmt: skip
    assert code == 1
    assert "sign-in failed: authorization_declined" in err


def test_consent_missing_points_at_admin_consent(mx: Run, identity: Any) -> None:
    code, _, err = mx(
        "accounts", "add", "nc", "--address", "noconsent@lab.test", "--side", "target",
        "--provider", "office365", "--no-password",
    )  # fmt: skip
    assert code == 0, err
    identity.auto_approve = "noconsent@lab.test"
    code, _, err = mx("auth", "login", "--account", "nc", "--client-id", LAB_MS_CLIENT,
                      *lab(identity))  # fmt: skip
    assert code == 1 and "AADSTS65001" in err


def test_unknown_app_and_missing_client_id(mx: Run, identity: Any) -> None:
    add_m365(mx)
    code, _, err = mx("auth", "login", "--account", "ops", *lab(identity))
    assert code == 2 and "--client-id" in err and "mxpilot auth setup" in err
    code, _, err = mx("auth", "login", "--account", "ops", "--client-id",
                      "99999999-9999-9999-9999-999999999999", *lab(identity))  # fmt: skip
    assert code == 1 and "AADSTS700016" in err and "mxpilot auth setup" in err
    code, _, err = mx("auth", "login", "--account", "ops", "--client-id", LAB_MS_CLIENT,
                      "--authority", "http://127.0.0.1:1")  # fmt: skip
    assert code == 2 and "https://" in err


def test_google_browser_login_with_client_secret_on_stdin(
    mx: Run, identity: Any, monkeypatch: Any, memory_keyring: MemoryKeyring
) -> None:
    code, _, err = mx(
        "accounts", "add", "gm", "--address", LAB_USER, "--side", "source",
        "--provider", "gmail", "--no-password",
    )  # fmt: skip
    assert code == 0, err
    from mxpilot import auth_command

    browser = LabBrowser(identity.ca_file)
    monkeypatch.setattr(auth_command, "_browser", lambda: browser.open)
    code, out, err = mx(
        "auth", "login", "--account", "gm", "--client-id", LAB_GOOGLE_CLIENT,
        "--client-secret-stdin", *lab(identity), stdin=LAB_GOOGLE_SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert browser.wait() == [200]
    assert "https://" in out and "code_challenge_method=S256" in out
    assert secret_free(out + err, LAB_GOOGLE_SECRET)
    code, out, _ = mx("auth", "logout", "--account", "gm", "--ca-file", str(identity.ca_file))
    assert code == 0 and "revoked the token" in out


def test_readiness_lists_password_logins(mx: Run) -> None:
    add_m365(mx)
    code, out, _ = mx("auth", "readiness")
    assert code == 1
    assert "ops IMAP" in out and "ops SMTP" in out and "2026-12-31" in out
    code, out, _ = mx("auth", "readiness", "--json")
    findings = json.loads(out)["findings"]
    assert {f["protocol"] for f in findings} == {"imap", "smtp"}


def test_accounts_list_warns_about_basic_auth(mx: Run) -> None:
    add_m365(mx)
    code, out, _ = mx("accounts", "list")
    assert code == 0 and "2 login(s) depend on Basic auth" in out and "auth readiness" in out


def test_setup_prints_the_registration_steps(mx: Run) -> None:
    code, out, _ = mx("auth", "setup", "--tenant", "contoso.com")
    assert code == 0
    assert "652390e4-393a-48de-9484-05f9b1212954" in out  # IMAP.AccessAsUser.All
    assert "258f6531-6087-4cc4-bb90-092c5fb3ed3f" in out  # SMTP.Send
    assert "az ad app create" in out and "contoso.com" in out
    code, out, _ = mx("auth", "setup", "--provider", "google", "--lang", "es")
    assert code == 0 and "https://mail.google.com/" in out


def test_accounts_show_has_the_sign_in_and_the_readiness(mx: Run, identity: Any) -> None:
    add_m365(mx)
    code, out, _ = mx("accounts", "show", "ops")
    assert code == 0 and "Basic auth, SMTP" in out and "way out:" in out
    identity.auto_approve = LAB_USER
    assert mx("auth", "login", "--account", "ops", "--client-id", LAB_MS_CLIENT,
              *lab(identity))[0] == 0  # fmt: skip
    code, out, _ = mx("accounts", "show", "ops", "--json")
    view = json.loads(out)
    assert view["oauth"]["signed_in_as"] == LAB_USER and view["readiness"] == []
    assert view["secret"] == "stored" and view["auth"] == "oauth"
