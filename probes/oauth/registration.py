"""What to set up when the organisation has no app registration for mxpilot yet.

Microsoft: an app registration in Microsoft Entra ID with the delegated permissions
IMAP.AccessAsUser.All, SMTP.Send and offline_access, "Allow public client flows" on (the
device code flow) and the redirect URI http://localhost; then SMTP AUTH and IMAP enabled on
each mailbox (OAuth does not bypass those switches). The three permissions are Microsoft
Graph's delegated scopes (the ids below are Graph's); the tokens are still requested for
https://outlook.office.com/... and their audience is Exchange Online.

Google: a Desktop app OAuth client in a Google Cloud project with the scope
https://mail.google.com/ on an Internal consent screen, and IMAP allowed by the Workspace
administrator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from probes.diagnosis.entry import is_spanish

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph, the resource that holds the three delegated permissions."""

EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
"""Office 365 Exchange Online (the audience of the tokens; app-only permissions live here)."""

DELEGATED_PERMISSIONS: dict[str, str] = {
    "IMAP.AccessAsUser.All": "652390e4-393a-48de-9484-05f9b1212954",
    "SMTP.Send": "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
}
"""Permission name -> its id on Microsoft Graph (type Scope: delegated)."""

REDIRECT_URI = "http://localhost"
APP_NAME = "mxpilot"
ENTRA_NEW_REGISTRATION = (
    "Microsoft Entra admin center > Identity > Applications > App registrations > New registration"
)
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
_MAILBOX = re.compile(r"^(<mailbox>|[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+)$")
_GENERIC_TENANTS = frozenset({"", "organizations", "common", "consumers"})


@dataclass(frozen=True)
class RegistrationGuide:
    """Steps to follow and ready commands, as ``(shell, command)`` pairs."""

    title: str
    steps: list[str] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)


def required_resource_access() -> list[dict[str, object]]:
    """The ``requiredResourceAccess`` of the app registration (JSON-ready)."""
    return [
        {
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccess": [
                {"id": permission, "type": "Scope"} for permission in DELEGATED_PERMISSIONS.values()
            ],
        }
    ]


def microsoft_registration_guide(
    tenant: str, lang: str = "en", *, mailbox: str = "<mailbox>"
) -> RegistrationGuide:
    """How to register mxpilot in the ``tenant`` (domain or tenant id) of Microsoft Entra ID.

    ``organizations``, ``common`` or an empty tenant leave ``<tenant>`` in the commands; a
    tenant that is not a domain or id, or a mailbox that is not an address, raises
    ValueError (both go into shell commands).
    """
    mailbox = mailbox.strip() or "<mailbox>"
    if not _MAILBOX.match(mailbox):
        raise ValueError("the mailbox must be an e-mail address")
    name = tenant.strip()
    if name.lower() in _GENERIC_TENANTS:
        name = "<tenant>"
    elif not _TENANT.match(name):
        raise ValueError("the tenant must be a domain name or a tenant id (GUID)")
    perms = ", ".join(f"{p} ({i})" for p, i in DELEGATED_PERMISSIONS.items())
    es = is_spanish(lang)
    if es:
        title = f"Registrar mxpilot en Microsoft Entra ID (tenant {name})"
        steps = [
            "Iniciar sesión en el Centro de administración de Microsoft Entra "
            "(https://entra.microsoft.com) como Administrador de aplicaciones en la nube "
            "como mínimo.",
            "Identidad > Aplicaciones > Registros de aplicaciones > Nuevo registro: nombre "
            f"{APP_NAME}; tipos de cuenta: solo cuentas de este directorio organizativo; URI "
            f"de redirección: Cliente público/nativo (móvil y escritorio), {REDIRECT_URI}.",
            "Copiar el Id. de aplicación (cliente) y el Id. de directorio (inquilino) de la "
            "página Información general: mxpilot los pide.",
            "Autenticación > Configuración avanzada > Permitir flujos de clientes públicos: "
            "Sí > Guardar (el flujo de código de dispositivo lo necesita).",
            "Permisos de API > Agregar un permiso > Microsoft Graph > Permisos delegados: "
            f"{perms}.",
            f"Conceder consentimiento de administrador para {name} (o que cada usuario lo dé "
            "al iniciar sesión, si el tenant lo permite).",
            "En cada buzón, SMTP AUTH e IMAP deben estar habilitados: OAuth no evita esos "
            "interruptores.",
            "Iniciar sesión con mxpilot auth login --account <cuenta>.",
        ]
    else:
        title = f"Register mxpilot in Microsoft Entra ID (tenant {name})"
        steps = [
            "Sign in to the Microsoft Entra admin center (https://entra.microsoft.com) as at "
            "least a Cloud Application Administrator.",
            "Identity > Applications > App registrations > New registration: name "
            f"{APP_NAME}; supported account types: accounts in this organizational directory "
            "only; redirect URI: Public client/native (mobile & desktop), "
            f"{REDIRECT_URI}.",
            "Copy the Application (client) ID and the Directory (tenant) ID from the Overview "
            "page: mxpilot asks for them.",
            "Authentication > Advanced settings > Allow public client flows: Yes > Save (the "
            "device code flow needs it).",
            f"API permissions > Add a permission > Microsoft Graph > Delegated permissions: "
            f"{perms}.",
            f"Grant admin consent for {name} (or let each user consent at first sign-in, if "
            "the tenant allows user consent).",
            "On every mailbox, SMTP AUTH and IMAP must be enabled: OAuth does not bypass "
            "those switches.",
            "Sign in with mxpilot auth login --account <account>.",
        ]
    return RegistrationGuide(title, steps, _microsoft_commands(name, mailbox))


def _microsoft_commands(tenant: str, mailbox: str) -> list[tuple[str, str]]:
    access = json.dumps(required_resource_access(), separators=(",", ":"))
    scopes = " ".join(DELEGATED_PERMISSIONS)
    azure_cli = (
        f"az login --tenant {tenant} --allow-no-subscriptions\n"
        f"APP_ID=$(az ad app create --display-name {APP_NAME} "
        "--sign-in-audience AzureADMyOrg --is-fallback-public-client true "
        f"--public-client-redirect-uris {REDIRECT_URI} "
        f"--required-resource-accesses '{access}' --query appId --output tsv)\n"
        'az ad sp create --id "$APP_ID"\n'
        'az ad app permission admin-consent --id "$APP_ID"\n'
        'echo "client id: $APP_ID"'
    )
    entries = "\n".join(
        f'        @{{ Id = "{pid}"; Type = "Scope" }}  # {perm}'
        for perm, pid in DELEGATED_PERMISSIONS.items()
    )
    graph_powershell = (
        f'Connect-MgGraph -TenantId "{tenant}" '
        '-Scopes "Application.ReadWrite.All","DelegatedPermissionGrant.ReadWrite.All"\n'
        f'$app = New-MgApplication -DisplayName "{APP_NAME}" -SignInAudience "AzureADMyOrg" '
        "-IsFallbackPublicClient `\n"
        f'    -PublicClient @{{ RedirectUris = @("{REDIRECT_URI}") }} `\n'
        f'    -RequiredResourceAccess @(@{{ ResourceAppId = "{GRAPH_APP_ID}"; '
        f"ResourceAccess = @(\n{entries}\n    ) }})\n"
        "$sp = New-MgServicePrincipal -AppId $app.AppId\n"
        f"$graph = Get-MgServicePrincipal -Filter \"appId eq '{GRAPH_APP_ID}'\"\n"
        "New-MgOauth2PermissionGrant -ClientId $sp.Id -ConsentType AllPrincipals "
        f'-ResourceId $graph.Id -Scope "{scopes}"\n'
        '"client id: $($app.AppId)"'
    )
    if "'" in mailbox:  # a valid address, but an unquoted ' starts a PowerShell string
        mailbox = f'"{mailbox}"'
    exchange = (
        "Connect-ExchangeOnline\n"
        f"Set-CASMailbox -Identity {mailbox} -SmtpClientAuthenticationDisabled $false\n"
        f"Set-CASMailbox -Identity {mailbox} -ImapEnabled $true\n"
        f"Get-CASMailbox -Identity {mailbox} | Format-List SmtpClientAuthenticationDisabled, "
        "ImapEnabled"
    )
    return [
        ("admin-centre", ENTRA_NEW_REGISTRATION),
        ("bash", azure_cli),
        ("powershell", graph_powershell),
        ("powershell", exchange),
    ]


def google_registration_guide(lang: str = "en") -> RegistrationGuide:
    """How to create the Google OAuth client (Desktop app) that mxpilot signs in with."""
    console = "Google Cloud console > APIs & Services"
    if is_spanish(lang):
        title = "Crear un cliente OAuth de Google para mxpilot"
        steps = [
            "En la consola de Google Cloud (https://console.cloud.google.com), elegir o crear "
            "un proyecto de la organización.",
            f"{console} > Pantalla de consentimiento OAuth: tipo de usuario Interno (solo los "
            "usuarios de la organización; sin verificación de Google).",
            "Acceso a datos > Agregar o quitar alcances: https://mail.google.com/ (más openid "
            "y email).",
            f"{console} > Credenciales > Crear credenciales > ID de cliente de OAuth > Tipo "
            "de aplicación: App de escritorio; copiar el id y el secreto del cliente.",
            "El secreto de una App de escritorio se ingresa con --client-secret-stdin o en "
            "una solicitud enmascarada; mxpilot lo guarda en el llavero, nunca en el archivo "
            "del espacio de trabajo.",
            "Administrador de Google Workspace: permitir el acceso IMAP (Apps > Google "
            "Workspace > Gmail > Acceso del usuario final > Acceso POP e IMAP) y, si los "
            "controles de API restringen aplicaciones de terceros, marcar el id de cliente "
            "como De confianza.",
            "Iniciar sesión con mxpilot auth login --account <cuenta>.",
        ]
    else:
        title = "Create a Google OAuth client for mxpilot"
        steps = [
            "In the Google Cloud console (https://console.cloud.google.com), pick or create a "
            "project of the organisation.",
            f"{console} > OAuth consent screen: user type Internal (only the organisation's "
            "users; no Google verification needed).",
            "Data access > Add or remove scopes: https://mail.google.com/ (plus openid and email).",
            f"{console} > Credentials > Create credentials > OAuth client ID > Application "
            "type: Desktop app; copy the client ID and the client secret.",
            "The secret of a Desktop app is entered with --client-secret-stdin or at a "
            "masked prompt; mxpilot keeps it in the keyring, never in the workspace file.",
            "Google Workspace administrator: allow IMAP access (Apps > Google Workspace > "
            "Gmail > End User Access > POP and IMAP access) and, if API controls restrict "
            "third-party apps, mark the client ID as Trusted.",
            "Sign in with mxpilot auth login --account <account>.",
        ]
    commands = [
        ("admin-centre", f"{console} > OAuth consent screen > User type: Internal"),
        (
            "admin-centre",
            f"{console} > Credentials > Create credentials > OAuth client ID > Desktop app",
        ),
        (
            "admin-centre",
            "Google Admin console > Apps > Google Workspace > Gmail > End User Access > "
            "POP and IMAP access > Enable IMAP access for all users",
        ),
        (
            "admin-centre",
            "Google Admin console > Security > Access and data control > API controls > "
            "Manage Third-Party App Access > Configure new app > <client ID> > Trusted",
        ),
        ("bash", "mxpilot auth login --account <account> --client-secret-stdin"),
    ]
    return RegistrationGuide(title, steps, commands)
