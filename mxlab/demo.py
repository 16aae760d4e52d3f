"""The offline demo: a whole migration's servers on loopback, and a workspace pointed at them.

``DemoLab`` starts a lab CA, three SMTP servers (submission, implicit TLS, and one whose
tenant has SMTP AUTH turned off), two IMAP servers (the Microsoft 365 side and the Gmail
side), a DNS server holding ``demo.mxpilot.test`` half way through its migration, and
reserves a port where MTA-STS fetches are refused. :func:`create_demo_workspace` fills a
fresh workspace with the seed's accounts and a checklist, passwords in the keyring the
caller gives (the demo passes an in-memory one). Nothing is reachable beyond 127.0.0.1.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.dns_zones import coexistence_zone, office365_zone, provider_records
from mxlab.identity import LAB_MS_CLIENT, LabIdentityProvider, register_lab_accounts
from mxlab.imap import ImapLabServer
from mxlab.loop_thread import LOOPBACK
from mxlab.smtp import SmtpLabServer
from mxlab.smtp_personalities import PERSONALITIES
from probes.mail.model import Security
from probes.mail.resolve import Nameserver
from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from workspace.accounts.model import Account, AccountRole, AuthKind, MailEndpoint, Side
from workspace.connection import ConnectionSettings
from workspace.secrets import SecretStore
from workspace.session import Workspace

DEMO_DOMAIN = "demo.mxpilot.test"
DEMO_M365_DOMAIN = f"m365.{DEMO_DOMAIN}"
DEMO_TENANT = "demotenant"
# Made up for the lab, the same for every demo account; it opens nothing outside this process.
DEMO_PASSWORD = "mxpilot-demo"
SERVICE_ADDRESS = f"controloc@{DEMO_DOMAIN}"
PERSON_ADDRESS = f"ana.garcia@{DEMO_DOMAIN}"
ALERTS_ADDRESS = f"alerts@{DEMO_DOMAIN}"
SALES_ADDRESS = f"ventas@{DEMO_DOMAIN}"
TENANT_DISABLED = "o365_tenant_disabled"
BASIC_DISABLED = "o365_basic_disabled"
# The demo's sign-in: the code is "entered" by itself after a few polls, one second apart.
DEMO_APPROVE_AFTER_POLLS = 3
_T = TypeVar("_T")
_S = TypeVar("_S", SmtpLabServer, ImapLabServer, DnsLab, LabIdentityProvider)

DEMO_NOTE = "Demo account on the mxpilot demo lab (127.0.0.1); not a real mailbox."


class DemoError(RuntimeError):
    """The demo cannot be set up as asked (a workspace that is not empty)."""


class DemoLab:
    """Every server of the demo, started and stopped together (also as a context manager).

    ``directory`` holds the certificates; without one a temporary directory is made and
    removed on ``stop()``. After ``start()``: ``ca_file``, ``nameserver``, ``https_port``
    and the servers (``smtp_submission``, ``smtp_tls``, ``smtp_tenant_disabled``,
    ``imap`` for Microsoft 365, ``gmail_imap`` for Gmail, ``dns``) with their ports.
    """

    domain = DEMO_DOMAIN
    m365_domain = DEMO_M365_DOMAIN
    tenant = DEMO_TENANT
    host = LOOPBACK

    def __init__(self, directory: Path | None = None) -> None:
        self._own_directory = directory is None
        self.directory = directory
        self.certs: LabCertificates | None = None
        self.dns = DnsLab()
        self.smtp_submission: SmtpLabServer | None = None
        self.smtp_tls: SmtpLabServer | None = None
        self.smtp_tenant_disabled: SmtpLabServer | None = None
        self.imap: ImapLabServer | None = None
        self.gmail_imap: ImapLabServer | None = None
        self.smtp_basic_disabled: SmtpLabServer | None = None
        self.identity: LabIdentityProvider | None = None
        self._https_blocker: socket.socket | None = None
        self._started: list[SmtpLabServer | ImapLabServer | DnsLab | LabIdentityProvider] = []

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Start every server (all or nothing); returns once each one answers."""
        if self._started:
            raise RuntimeError("the demo lab is already running")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="mxpilot-demo-lab-"))
        self.certs = LabCertificates.create(self.directory / "certs")
        provider_records(self.dns)
        coexistence_zone(self.dns, self.domain)
        office365_zone(self.dns, self.m365_domain, mta_sts=False, tenant=self.tenant)
        self._run(self.dns)
        users = {SERVICE_ADDRESS: DEMO_PASSWORD, PERSON_ADDRESS: DEMO_PASSWORD}
        self.smtp_submission = self._run(SmtpLabServer("starttls", "ok", self.certs, users))
        self.smtp_tls = self._run(SmtpLabServer("tls", "ok", self.certs, users))
        self.smtp_tenant_disabled = self._run(
            SmtpLabServer("starttls", TENANT_DISABLED, self.certs, {ALERTS_ADDRESS: DEMO_PASSWORD})
        )
        self.imap = self._run(
            ImapLabServer(self.certs, users, messages={SERVICE_ADDRESS: 12, PERSON_ADDRESS: 3})
        )
        self.identity = self._run(LabIdentityProvider(self.certs))
        register_lab_accounts(self.identity)
        self.identity.add_user(SALES_ADDRESS)
        self.identity.auto_approve = SALES_ADDRESS
        self.identity.approve_after_polls = DEMO_APPROVE_AFTER_POLLS
        self.identity.device_interval = 1
        # Basic auth off, OAuth on: the password fails with 5.7.139, an XOAUTH2 token passes.
        self.smtp_basic_disabled = self._run(
            SmtpLabServer(
                "starttls",
                BASIC_DISABLED,
                self.certs,
                {SALES_ADDRESS: DEMO_PASSWORD},
                oauth_introspection_url=f"{self.identity.base_url}/introspect",
                oauth_ca_file=self.certs.ca_pem,
            )
        )
        self.gmail_imap = self._run(
            ImapLabServer(
                self.certs,
                {SERVICE_ADDRESS: DEMO_PASSWORD},
                messages={SERVICE_ADDRESS: 1284},
                personality="ok",
            )
        )
        # MTA-STS policies are fetched here: bound but not listening, so refused at once.
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        blocker.bind((LOOPBACK, 0))
        self._https_blocker = blocker

    def _run(self, server: _S) -> _S:
        server.start()
        self._started.append(server)
        return server

    def stop(self) -> None:
        """Stop every server that runs and remove the temporary directory (bounded)."""
        errors: list[BaseException] = []
        while self._started:
            server = self._started.pop()
            try:
                server.stop()
            except Exception as error:  # stop the others anyway, then report
                errors.append(error)
        if self._https_blocker is not None:
            self._https_blocker.close()
            self._https_blocker = None
        if self._own_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        if errors:
            raise errors[0]

    def __enter__(self) -> Self:
        """Start the lab and return it."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the lab."""
        self.stop()

    # -- what a front end needs ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return bool(self._started)

    @property
    def ca_file(self) -> Path:
        """The lab CA that signed every server certificate (PEM)."""
        return self._need(self.certs).ca_pem

    @property
    def nameserver(self) -> Nameserver:
        """The lab's DNS server."""
        return Nameserver(self.dns.host, self.dns.port)

    @property
    def https_port(self) -> int:
        """Where MTA-STS policies are fetched: a reserved port that refuses connections."""
        return int(self._need(self._https_blocker).getsockname()[1])

    def connection_settings(self, lang: str = "en") -> ConnectionSettings:
        """Trust, DNS server and time limits that point a session at this lab."""
        return ConnectionSettings(
            ca_file=self.ca_file,
            nameserver=self.nameserver,
            timeout=4.0,
            https_port=self.https_port,
            lang=lang,
        )

    def set_tenant_smtp_auth(self, enabled: bool) -> None:
        """Turn SMTP AUTH on (the fix) or off (the 5.7.139 failure) for the demo tenant."""
        server = self._need(self.smtp_tenant_disabled)
        server.personality = PERSONALITIES["ok" if enabled else TENANT_DISABLED]

    @property
    def tenant_smtp_auth_enabled(self) -> bool:
        """False while the tenant-disabled SMTP server answers 535 5.7.139."""
        return self._need(self.smtp_tenant_disabled).personality.name == "ok"

    def endpoints(self) -> list[tuple[str, str]]:
        """``(what, where)`` for every server, for a listing."""
        smtp, smtps = self._need(self.smtp_submission), self._need(self.smtp_tls)
        off, imap = self._need(self.smtp_tenant_disabled), self._need(self.imap)
        gmail = self._need(self.gmail_imap)
        at = self.host
        return [
            ("DNS server", f"{at}:{self.dns.port} ({self.domain}, {self.m365_domain})"),
            ("IMAP, Microsoft 365", f"{at}:{imap.tls_port} TLS, {at}:{imap.plain_port} STARTTLS"),
            ("IMAP, Gmail", f"{at}:{gmail.tls_port} TLS, {at}:{gmail.plain_port} STARTTLS"),
            ("SMTP submission", f"{at}:{smtp.port} STARTTLS"),
            ("SMTP implicit TLS", f"{at}:{smtps.port} TLS"),
            ("SMTP, tenant AUTH off", f"{at}:{off.port} STARTTLS (answers 535 5.7.139)"),
            (
                "SMTP, Basic auth off",
                f"{at}:{self._need(self.smtp_basic_disabled).port} STARTTLS (XOAUTH2 only)",
            ),
            ("OAuth identity provider", f"{self._need(self.identity).base_url}"),
            ("Lab CA", str(self.ca_file)),
        ]

    def oauth_app(self) -> OAuthApp:
        """The demo's app registration at the lab identity provider."""
        authority = self._need(self.identity).base_url
        return OAuthApp(IdentityPlatform.MICROSOFT, LAB_MS_CLIENT, self.tenant, authority)

    @staticmethod
    def _need(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("the demo lab is not running")
        return value


def demo_accounts(lab: DemoLab) -> list[Account]:
    """The demo's accounts, every server on the lab (passwords are set apart)."""
    imap, gmail = DemoLab._need(lab.imap), DemoLab._need(lab.gmail_imap)
    submission, smtps = DemoLab._need(lab.smtp_submission), DemoLab._need(lab.smtp_tls)
    tenant_off = DemoLab._need(lab.smtp_tenant_disabled)
    basic_off = DemoLab._need(lab.smtp_basic_disabled)
    at = lab.host
    return [
        Account(
            name="controloc",
            address=SERVICE_ADDRESS,
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.MONITORING, AccountRole.SENDER, AccountRole.ORDER_INBOX),
            imap=MailEndpoint(at, imap.tls_port, Security.TLS),
            smtp=MailEndpoint(at, submission.port, Security.STARTTLS),
            notes=f"{DEMO_NOTE} The order-tracking system's mailbox, in three roles.",
        ),
        Account(
            name="controloc-gmail",
            address=SERVICE_ADDRESS,
            side=Side.SOURCE,
            provider="google-workspace",
            roles=(AccountRole.MIGRATION,),
            imap=MailEndpoint(at, gmail.tls_port, Security.TLS),
            auth=AuthKind.APP_PASSWORD,
            notes=f"{DEMO_NOTE} The same mailbox at Google, read by the migration batch.",
        ),
        Account(
            name="ana.garcia",
            address=PERSON_ADDRESS,
            side=Side.TARGET,
            provider="office365",
            roles=(AccountRole.MAILBOX,),
            imap=MailEndpoint(at, imap.plain_port, Security.STARTTLS),
            smtp=MailEndpoint(at, smtps.port, Security.TLS),
            notes=f"{DEMO_NOTE} A person's mailbox, already at Microsoft 365.",
        ),
        Account(
            name="alerts",
            address=ALERTS_ADDRESS,
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint(at, tenant_off.port, Security.STARTTLS),
            notes=(
                f"{DEMO_NOTE} Its tenant has SMTP AUTH turned off: the probe fails with "
                "535 5.7.139 until it is turned on."
            ),
        ),
        Account(
            name="ventas",
            address=SALES_ADDRESS,
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint(at, basic_off.port, Security.STARTTLS),
            notes=(
                f"{DEMO_NOTE} Basic auth is off for it: the password fails with 535 5.7.139; "
                "sign it in with OAuth (o on the Accounts screen) and the probe passes."
            ),
        ),
    ]


def create_demo_workspace(
    path: Path, lab: DemoLab, secrets: SecretStore, lang: str = "en"
) -> Workspace:
    """A fresh workspace at ``path`` with the demo's accounts and checklist, open.

    The passwords go to ``secrets`` (give it an in-memory keyring so the user's real one
    is never touched). A workspace that already has accounts or checklists is refused.
    """
    workspace = Workspace.open(path, secrets)
    try:
        if workspace.accounts.list() or workspace.checklists.names():
            raise DemoError(
                f"the workspace {workspace.path} is not empty: give the demo a new path"
            )
        for account in demo_accounts(lab):
            added = workspace.accounts.add(account, DEMO_PASSWORD)
            if account.address == SALES_ADDRESS:
                workspace.signins.configure(added, lab.oauth_app())
        workspace.checklists.create(
            lab.domain, template="gmail-to-m365", lang=lang, tenant=lab.tenant
        )
    except BaseException:
        workspace.close()
        raise
    return workspace
