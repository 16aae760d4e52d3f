"""Guidance for a tenant without an app registration: Microsoft Entra ID and Google Cloud."""

from __future__ import annotations

import json
import re

import pytest

from probes.oauth.registration import (
    DELEGATED_PERMISSIONS,
    GRAPH_APP_ID,
    RegistrationGuide,
    google_registration_guide,
    microsoft_registration_guide,
    required_resource_access,
)

IMAP_ID = "652390e4-393a-48de-9484-05f9b1212954"
SMTP_ID = "258f6531-6087-4cc4-bb90-092c5fb3ed3f"
OFFLINE_ID = "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"


def commands(guide: RegistrationGuide, shell: str) -> list[str]:
    return [command for found, command in guide.commands if found == shell]


def test_permission_ids_are_microsoft_graph_delegated_scopes() -> None:
    assert DELEGATED_PERMISSIONS == {
        "IMAP.AccessAsUser.All": IMAP_ID,
        "SMTP.Send": SMTP_ID,
        "offline_access": OFFLINE_ID,
    }
    assert GRAPH_APP_ID == "00000003-0000-0000-c000-000000000000"
    assert required_resource_access() == [
        {
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccess": [
                {"id": IMAP_ID, "type": "Scope"},
                {"id": SMTP_ID, "type": "Scope"},
                {"id": OFFLINE_ID, "type": "Scope"},
            ],
        }
    ]


def test_azure_cli_command_is_ready_and_its_json_parses() -> None:
    guide = microsoft_registration_guide("contoso.onmicrosoft.com")
    (script,) = commands(guide, "bash")
    assert script.startswith("az login --tenant contoso.onmicrosoft.com ")
    assert "az ad app create --display-name mxpilot " in script
    assert "--is-fallback-public-client true" in script
    assert "--public-client-redirect-uris http://localhost" in script
    assert 'az ad app permission admin-consent --id "$APP_ID"' in script
    found = re.search(r"--required-resource-accesses '([^']*)'", script)
    assert found is not None
    assert json.loads(found.group(1)) == required_resource_access()


def test_graph_powershell_equivalent() -> None:
    guide = microsoft_registration_guide("72f988bf-86f1-41af-91ab-2d7cd011db47")
    graph = commands(guide, "powershell")[0]
    assert 'Connect-MgGraph -TenantId "72f988bf-86f1-41af-91ab-2d7cd011db47"' in graph
    assert "New-MgApplication" in graph and "-IsFallbackPublicClient" in graph
    assert '-PublicClient @{ RedirectUris = @("http://localhost") }' in graph
    assert f'ResourceAppId = "{GRAPH_APP_ID}"' in graph
    for permission_id in (IMAP_ID, SMTP_ID, OFFLINE_ID):
        assert f'@{{ Id = "{permission_id}"; Type = "Scope" }}' in graph
    assert "New-MgOauth2PermissionGrant" in graph
    assert '-Scope "IMAP.AccessAsUser.All SMTP.Send offline_access"' in graph


def test_mailbox_prerequisites_and_admin_centre_path() -> None:
    guide = microsoft_registration_guide("contoso.com", mailbox="ops@contoso.com")
    exchange = commands(guide, "powershell")[1]
    assert "Set-CASMailbox -Identity ops@contoso.com -SmtpClientAuthenticationDisabled $false" in (
        exchange
    )
    assert "Set-CASMailbox -Identity ops@contoso.com -ImapEnabled $true" in exchange
    assert commands(guide, "admin-centre") == [
        "Microsoft Entra admin center > Identity > Applications > App registrations > "
        "New registration"
    ]
    placeholder = microsoft_registration_guide("contoso.com", mailbox="")
    assert "-Identity <mailbox> -ImapEnabled $true" in commands(placeholder, "powershell")[1]
    quoted = microsoft_registration_guide("contoso.com", mailbox="o'brien@contoso.com")
    assert '-Identity "o\'brien@contoso.com" -ImapEnabled' in commands(quoted, "powershell")[1]


def test_tenant_is_filled_in_everywhere() -> None:
    guide = microsoft_registration_guide("fabrikam.com")
    assert guide.title == "Register mxpilot in Microsoft Entra ID (tenant fabrikam.com)"
    assert any("Grant admin consent for fabrikam.com" in step for step in guide.steps)
    steps = "\n".join(guide.steps)
    for expected in (
        "Allow public client flows: Yes",
        "http://localhost",
        f"IMAP.AccessAsUser.All ({IMAP_ID})",
        f"SMTP.Send ({SMTP_ID})",
        f"offline_access ({OFFLINE_ID})",
        "Identity > Applications > App registrations > New registration",
        "mxpilot auth login --account",
    ):
        assert expected in steps


@pytest.mark.parametrize("tenant", ["", "organizations", "common"])
def test_generic_tenants_leave_a_placeholder(tenant: str) -> None:
    guide = microsoft_registration_guide(tenant)
    assert "az login --tenant <tenant> " in commands(guide, "bash")[0]


@pytest.mark.parametrize("tenant", ["contoso.com; rm -rf ~", "$(whoami)", "a b", "-x"])
def test_a_tenant_that_could_inject_a_command_is_refused(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant"):
        microsoft_registration_guide(tenant)
    with pytest.raises(ValueError, match="mailbox"):
        microsoft_registration_guide("contoso.com", mailbox="x@y.z; Remove-Mailbox")


def test_spanish_microsoft_guide() -> None:
    guide = microsoft_registration_guide("contoso.com", lang="es")
    assert guide.title == "Registrar mxpilot en Microsoft Entra ID (tenant contoso.com)"
    steps = "\n".join(guide.steps)
    assert "Permitir flujos de clientes públicos: Sí" in steps
    assert f"IMAP.AccessAsUser.All ({IMAP_ID})" in steps
    assert commands(guide, "bash") == commands(microsoft_registration_guide("contoso.com"), "bash")


def test_google_guide_in_both_languages() -> None:
    english = google_registration_guide()
    steps = "\n".join(english.steps)
    for expected in (
        "OAuth consent screen: user type Internal",
        "https://mail.google.com/",
        "Create credentials > OAuth client ID > Application type: Desktop app",
        "--client-secret-stdin",
        "keyring",
        "POP and IMAP access",
    ):
        assert expected in steps
    assert "mxpilot auth login --account <account> --client-secret-stdin" in commands(
        english, "bash"
    )
    spanish = google_registration_guide("es")
    assert spanish.title == "Crear un cliente OAuth de Google para mxpilot"
    assert "App de escritorio" in "\n".join(spanish.steps)
    assert "llavero" in "\n".join(spanish.steps)
    assert spanish.commands == english.commands
