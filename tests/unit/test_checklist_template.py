"""The Gmail -> Microsoft 365 checklist template: content, both languages, loader checks."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.dns.profiles import Profile
from probes.mail.model import Protocol
from workspace.accounts.model import AccountRole, Side
from workspace.checklist.check_spec import CheckKind, CheckSpec, TemplateError
from workspace.checklist.template import (
    LANGS,
    PLACEHOLDERS,
    ChecklistTemplate,
    RemediationCommand,
    available_templates,
    fill_placeholders,
    load_template,
    parse_template,
)

TEMPLATE = "gmail-to-m365"
VALUES = {
    "domain": "hotelsales.cl",
    "domain_dashed": "hotelsales-cl",
    "mailbox": "controloc@hotelsales.cl",
    "source_mailbox": "seguimientoocx@gmail.com",
    "tenant": "contoso.onmicrosoft.com",
}


@pytest.fixture(scope="module")
def en() -> ChecklistTemplate:
    return load_template(TEMPLATE, "en")


@pytest.fixture(scope="module")
def es() -> ChecklistTemplate:
    return load_template(TEMPLATE, "es")


# --- loading, both languages -------------------------------------------------------------


def test_the_template_is_shipped() -> None:
    assert TEMPLATE in available_templates()


def test_both_languages_load_with_the_same_structure(
    en: ChecklistTemplate, es: ChecklistTemplate
) -> None:
    assert (en.lang, es.lang) == ("en", "es")
    assert (en.id, en.version) == (es.id, es.version) == (TEMPLATE, 2)
    assert en.title == "Gmail to Microsoft 365"
    assert es.title == "Gmail a Microsoft 365"
    assert en.description and es.description and en.description != es.description
    assert [p.id for p in en.phases] == [p.id for p in es.phases]
    assert [i.id for i in en.items] == [i.id for i in es.items]
    assert [i.phase for i in en.items] == [i.phase for i in es.items]
    assert [i.check for i in en.items] == [i.check for i in es.items]
    for a, b in zip(en.items, es.items, strict=True):
        assert [(c.shell, c.command) for c in a.commands] == [
            (c.shell, c.command) for c in b.commands
        ], a.id
        assert [bool(c.note) for c in a.commands] == [bool(c.note) for c in b.commands], a.id


def test_texts_are_translated(en: ChecklistTemplate, es: ChecklistTemplate) -> None:
    for a, b in zip(en.items, es.items, strict=True):
        assert a.help != b.help, a.id
        assert "Done" in a.help, f"{a.id}: the English help says what done looks like"
        assert "Listo" in b.help, f"{b.id}: the Spanish help says what done looks like"
    different = sum(a.title != b.title for a, b in zip(en.items, es.items, strict=True))
    assert different == len(en.items)
    assert [p.title for p in es.phases] == [
        "Pre-migración",
        "Pruebas",
        "Migración",
        "Post-migración",
    ]


def test_size_and_ids(en: ChecklistTemplate) -> None:
    assert 35 <= len(en.items) <= 50
    ids = [item.id for item in en.items]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    for item in en.items:
        sentences = len(re.findall(r"[.!?](\s|$)", item.help))
        assert 1 <= sentences <= 6, f"{item.id}: {sentences} sentences"


def test_item_lookup(en: ChecklistTemplate) -> None:
    assert en.item("mx-cutover").phase == "migration"
    with pytest.raises(KeyError, match="no item 'mx-cutvoer' in template 'gmail-to-m365'"):
        en.item("mx-cutvoer")
    with pytest.raises(KeyError, match="did you mean mx-cutover"):
        en.item("mx-cutvoer")


def test_unknown_template_or_language_names_the_choices() -> None:
    with pytest.raises(TemplateError, match=r"unknown template 'nope'; one of .*gmail-to-m365"):
        load_template("nope")
    with pytest.raises(TemplateError, match=r"unknown template '\.\./account'"):
        load_template("../account")
    with pytest.raises(TemplateError, match="unknown language 'fr'; one of en, es"):
        load_template(TEMPLATE, "fr")


# --- the seed's checklist ----------------------------------------------------------------

# Seed 002, "Checklist de Migración Completo": phase -> (seed item, item ids, words of the
# Spanish title). The seed's "Verificar registros DNS (SPF, DKIM, DMARC)" became three items.
SEED_CHECKLIST: dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    "pre-migration": [
        ("Adquirir licencia Office 365 Business Basic", ("buy-license",), ("licencia", "Basic")),
        ("Verificar dominio en Office 365", ("verify-domain",), ("Verificar", "dominio")),
        ("Crear cuenta controloc@hotelsales.cl", ("create-mailbox",), ("Crear", "cuenta")),
        ("Configurar contraseña segura", ("strong-password",), ("contraseña segura",)),
        ("Habilitar IMAP en la cuenta", ("enable-imap",), ("Habilitar IMAP",)),
        ("Habilitar SMTP AUTH en la cuenta", ("enable-smtp-auth",), ("SMTP AUTH",)),
        ("Desactivar expiración de contraseña", ("password-never-expires",), ("expiración",)),
        (
            "Verificar registros DNS (SPF, DKIM, DMARC)",
            ("spf-coexistence", "dkim-cnames", "dmarc-monitor"),
            ("Verificar registros DNS",),
        ),
        (
            "Agregar remitentes autorizados a lista blanca",
            ("allow-list-senders",),
            ("lista blanca",),
        ),
        ("Crear reglas anti-spam", ("anti-spam-rules",), ("anti-spam",)),
    ],
    "tests": [
        ("Test de conexión IMAP exitoso", ("test-imap",), ("IMAP", "exitoso")),
        ("Test de conexión SMTP exitoso", ("test-smtp",), ("SMTP", "exitoso")),
        ("Test de recepción de correo", ("test-receive",), ("recepción",)),
        ("Test de envío de correo", ("test-send",), ("envío",)),
        ("Test end-to-end con PDF de confirmación", ("test-end-to-end",), ("end-to-end", "PDF")),
        ("Test de detección de OC", ("test-order-detection",), ("detección", "OC")),
        ("Verificar que correos NO vayan a spam", ("test-not-spam",), ("spam",)),
    ],
    "migration": [
        ("Actualizar archivo .env con nuevas credenciales", ("update-env",), (".env",)),
        ("Encriptar .env o usar gestor de secretos", ("secrets-keyring",), ("gestor de secretos",)),
        ("Reiniciar sistema", ("restart-system",), ("Reiniciar",)),
        ("Verificar logs de conexión exitosa", ("verify-logs",), ("logs",)),
        ("Monitorear durante 24 horas", ("monitor-24h",), ("24 horas",)),
        (
            "Notificar a stakeholders del cambio de email",
            ("notify-stakeholders",),
            ("stakeholders",),
        ),
    ],
    "post-migration": [
        ("Actualizar documentación (README, .env.example)", ("update-docs",), (".env.example",)),
        ("Comunicar nueva dirección a clientes", ("communicate-address",), ("dirección",)),
        ("Actualizar firma de correos (si aplica)", ("update-signature",), ("firma",)),
        ("Configurar redirección temporal desde Gmail", ("gmail-forwarding",), ("redirección",)),
        ("Monitorear métricas durante 1 semana", ("monitor-week",), ("semana",)),
        ("Desactivar cuenta Gmail (30 días sin uso)", ("retire-gmail",), ("Gmail", "30 días")),
    ],
}


def test_the_seed_phases_in_order(en: ChecklistTemplate) -> None:
    assert [p.id for p in en.phases] == list(SEED_CHECKLIST)


@pytest.mark.parametrize(
    ("phase", "seed", "ids", "words"),
    [(phase, *row) for phase, rows in SEED_CHECKLIST.items() for row in rows],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_every_seed_item_is_there(
    es: ChecklistTemplate, phase: str, seed: str, ids: tuple[str, ...], words: tuple[str, ...]
) -> None:
    for item_id in ids:
        item = es.item(item_id)
        assert item.phase == phase, f"{seed!r} belongs to {phase}"
        for word in words:
            assert word.lower() in item.title.lower(), f"{seed!r}: {item.title!r}"


def test_the_split_dns_item_names_each_record(es: ChecklistTemplate) -> None:
    assert "SPF" in es.item("spf-coexistence").title
    assert "DKIM" in es.item("dkim-cnames").title
    assert "DMARC" in es.item("dmarc-monitor").title


def test_the_encrypt_env_item_points_at_the_keyring(en: ChecklistTemplate) -> None:
    item = en.item("secrets-keyring")
    assert "mxpilot accounts import-env --rewrite" in item.help
    assert any("import-env" in c.command and "--rewrite" in c.command for c in item.commands)


# --- Microsoft's Gmail -> Microsoft 365 steps ----------------------------------------------


def dns(record: str, profile: str) -> CheckSpec:
    return CheckSpec.from_dict({"kind": "dns", "record": record, "profile": profile})


def probe(protocol: str, side: str, role: str | None = None, login: bool = True) -> CheckSpec:
    data: dict[str, object] = {"kind": "probe", "protocol": protocol, "side": side, "login": login}
    if role:
        data["role"] = role
    return CheckSpec.from_dict(data)


# item id -> (phase, check, exact commands, fragments of the English help)
MICROSOFT_STEPS: dict[str, tuple[str, CheckSpec | None, tuple[str, ...], tuple[str, ...]]] = {
    "verify-domain": (
        "pre-migration",
        dns("ms_verification", "coexistence"),
        ("Get-AcceptedDomain",),
        ("MS=msXXXXXXXX", "TXT"),
    ),
    "lower-mx-ttl": ("pre-migration", None, (), ("300-3600 seconds", "a day before")),
    "create-mailbox": ("pre-migration", None, (), ("license", "Active users")),
    "enable-imap": (
        "pre-migration",
        probe("imap", "target"),
        ("Set-CASMailbox -Identity {mailbox} -ImapEnabled $true",),
        ("Manage email apps settings",),
    ),
    "enable-smtp-auth": (
        "pre-migration",
        probe("smtp", "target"),
        (
            "Set-CASMailbox -Identity {mailbox} -SmtpClientAuthenticationDisabled $false",
            "Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled",
        ),
        ("535 5.7.139",),
    ),
    "password-never-expires": (
        "pre-migration",
        None,
        ("Update-MgUser -UserId {mailbox} -PasswordPolicies DisablePasswordExpiration",),
        ("Set-MsolUser -PasswordNeverExpires",),
    ),
    "gmail-enable-imap": (
        "pre-migration",
        probe("imap", "source"),
        (),
        ("Forwarding and POP/IMAP", "Apps → Google Workspace → Gmail → End user access"),
    ),
    "gmail-app-passwords": (
        "pre-migration",
        probe("imap", "source"),
        (),
        ("2-Step Verification", "myaccount.google.com/apppasswords"),
    ),
    "spf-coexistence": (
        "pre-migration",
        dns("spf", "coexistence"),
        (),
        ("include:_spf.google.com include:spf.protection.outlook.com",),
    ),
    "dkim-cnames": (
        "pre-migration",
        dns("dkim", "office365"),
        (
            "New-DkimSigningConfig -DomainName {domain} -Enabled $false",
            "Get-DkimSigningConfig -Identity {domain} | Format-List Selector1CNAME,Selector2CNAME",
        ),
        (
            "selector1._domainkey.{domain} → selector1-{domain_dashed}._domainkey.{tenant}",
            "selector2-{domain_dashed}._domainkey.{tenant}",
        ),
    ),
    "dmarc-monitor": ("pre-migration", dns("dmarc", "coexistence"), (), ("p=none", "rua=")),
    "test-imap": ("tests", probe("imap", "target", "monitoring"), (), ("993",)),
    "test-smtp": ("tests", probe("smtp", "target", "sender"), (), ("587",)),
    "test-imap-order-inbox": ("tests", probe("imap", "target", "order-inbox"), (), ()),
    "migration-endpoint": (
        "tests",
        None,
        (
            "Test-MigrationServerAvailability -IMAP -RemoteServer imap.gmail.com -Port 993"
            " -Security Ssl",
            "New-MigrationEndpoint -IMAP -Name GmailEndpoint -RemoteServer imap.gmail.com"
            " -Port 993 -Security Ssl",
        ),
        (),
    ),
    "migration-csv": (
        "migration",
        probe("imap", "source", "migration"),
        ("mxpilot accounts import-csv gmail.csv",),
        ("EmailAddress,UserName,Password", "keyring"),
    ),
    "migration-batch": (
        "migration",
        None,
        (
            "New-MigrationBatch -Name GmailBatch -SourceEndpoint GmailEndpoint -CSVData "
            '([System.IO.File]::ReadAllBytes("C:\\migration\\gmail.csv")) -AutoStart',
        ),
        (),
    ),
    "mx-cutover": (
        "migration",
        dns("mx", "office365"),
        (),
        ("priority 0, {domain_dashed}.mail.protection.outlook.com",),
    ),
    "autodiscover": (
        "migration",
        dns("autodiscover", "office365"),
        (),
        ("autodiscover.{domain}", "CNAME to autodiscover.outlook.com"),
    ),
    "dkim-enable": (
        "migration",
        None,
        ("Set-DkimSigningConfig -Identity {domain} -Enabled $true",),
        (),
    ),
    "update-env": ("migration", None, (), ("outlook.office365.com", "smtp.office365.com")),
    "secrets-keyring": ("migration", None, ("mxpilot accounts import-env .env --rewrite",), ()),
    "remove-batch": (
        "post-migration",
        None,
        (
            "Complete-MigrationBatch -Identity GmailBatch",
            "Remove-MigrationBatch -Identity GmailBatch",
        ),
        ("72 hours",),
    ),
    "spf-final": (
        "post-migration",
        dns("spf", "office365"),
        (),
        ("v=spf1 include:spf.protection.outlook.com -all",),
    ),
    "dmarc-enforce": (
        "post-migration",
        dns("dmarc", "office365"),
        (),
        ("p=quarantine; rua=mailto:dmarc@{domain}",),
    ),
    "retire-gmail": ("post-migration", None, (), ("30 days",)),
}


@pytest.mark.parametrize("item_id", list(MICROSOFT_STEPS))
def test_every_microsoft_step_is_there(en: ChecklistTemplate, item_id: str) -> None:
    phase, check, commands, fragments = MICROSOFT_STEPS[item_id]
    item = en.item(item_id)
    assert item.phase == phase
    assert item.check == check
    written = [c.command for c in item.commands]
    for command in commands:
        assert any(command in w for w in written), f"{item_id}: {command!r} not in {written}"
    for fragment in fragments:
        assert fragment in item.help, f"{item_id}: {fragment!r}"


def test_commands_are_in_a_known_shell_and_notes_translated(
    en: ChecklistTemplate, es: ChecklistTemplate
) -> None:
    for a, b in zip(en.items, es.items, strict=True):
        for ca, cb in zip(a.commands, b.commands, strict=True):
            assert ca.shell in ("powershell", "sh"), a.id
            if ca.note:
                assert ca.note != cb.note, a.id


def test_dns_checks_cover_the_migration_records(en: ChecklistTemplate) -> None:
    checked = {
        (c.record, c.profile)
        for c in (i.check for i in en.items)
        if c is not None and c.kind is CheckKind.DNS
    }
    assert {
        ("ms_verification", Profile.COEXISTENCE),
        ("spf", Profile.COEXISTENCE),
        ("mx", Profile.OFFICE365),
        ("spf", Profile.OFFICE365),
        ("dkim", Profile.OFFICE365),
        ("dmarc", Profile.OFFICE365),
        ("autodiscover", Profile.OFFICE365),
    } <= checked


# --- placeholders -------------------------------------------------------------------------


def test_placeholders_render(en: ChecklistTemplate) -> None:
    mx = en.item("mx-cutover").render(VALUES)
    assert "hotelsales-cl.mail.protection.outlook.com" in mx.help
    assert "{domain" not in mx.help
    dkim = en.item("dkim-cnames").render(VALUES)
    assert "selector1-hotelsales-cl._domainkey.contoso.onmicrosoft.com" in dkim.help
    assert (
        dkim.commands[0].command
        == "New-DkimSigningConfig -DomainName 'hotelsales.cl' -Enabled $false"
    )
    imap = en.item("enable-imap").render(VALUES)
    assert imap.commands[0] == RemediationCommand(
        "powershell", "Set-CASMailbox -Identity 'controloc@hotelsales.cl' -ImapEnabled $true"
    )
    forwarding = en.item("gmail-forwarding").render(VALUES)
    assert "forward seguimientoocx@gmail.com to controloc@hotelsales.cl" in forwarding.help


def test_powershell_braces_survive(en: ChecklistTemplate) -> None:
    spf = en.item("spf-coexistence").render(VALUES)
    assert spf.commands[0].command == (
        "Resolve-DnsName -Name 'hotelsales.cl' -Type TXT"
        ' | Where-Object { $_.Strings -like "v=spf1*" }'
    )
    allow = en.item("allow-list-senders").render(VALUES).commands[0].command
    assert '@{Add="sender@example.com"}' in allow
    sku = en.item("buy-license").render(VALUES).commands[0].command
    assert "Expression={$_.PrepaidUnits.Enabled}" in sku
    create = en.item("create-mailbox").render(VALUES).commands[0].command
    assert "@{ForceChangePasswordNextSignIn = $false; Password = (Read-Host" in create


def test_missing_and_unknown_placeholders_stay() -> None:
    assert (
        fill_placeholders("{tenant} {nope} {domain}", {"domain": "a.cl"}) == "{tenant} {nope} a.cl"
    )
    command = RemediationCommand("powershell", "Get-X -Identity {mailbox} { $_ }", "for {mailbox}")
    assert command.render({}) == command
    assert command.render({"mailbox": "m@a.cl"}) == RemediationCommand(
        "powershell", "Get-X -Identity 'm@a.cl' { $_ }", "for m@a.cl"
    )


def test_full_values_leave_no_placeholder(en: ChecklistTemplate, es: ChecklistTemplate) -> None:
    known = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
    for template in (en, es):
        for item in template.items:
            rendered = item.render(VALUES)
            texts = [rendered.title, rendered.help]
            texts += [t for c in rendered.commands for t in (c.command, c.note)]
            for text in texts:
                assert not known.search(text), f"{item.id}: {text}"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_characters="{")))
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert fill_placeholders(text, VALUES) == text


# --- broken templates ---------------------------------------------------------------------

GOOD = """
id = "tiny"
version = 1
title = { en = "Tiny", es = "Pequeño" }

[[phases]]
id = "pre"
title = { en = "Before", es = "Antes" }

[[phases.items]]
id = "a"
title = { en = "First", es = "Primero" }
help = { en = "Do it for {domain}.", es = "Hacerlo para {domain}." }
check = { kind = "dns", record = "mx", profile = "office365" }

[[phases.items]]
id = "b"
title = { en = "Second", es = "Segundo" }
help = { en = "Then this.", es = "Luego esto." }
commands = [
  { shell = "powershell", command = 'Get-X { $_ }', note = { en = "n", es = "n" } },
]
check = { kind = "probe", protocol = "smtp", side = "target", role = "sender" }
"""


def test_the_small_template_is_valid() -> None:
    tiny = parse_template(GOOD, "es")
    assert [i.id for i in tiny.items] == ["a", "b"]
    assert tiny.item("a").title == "Primero"
    assert tiny.item("b").check == probe("smtp", "target", "sender")
    assert tiny.item("b").commands[0].note == "n"
    assert tiny.description == ""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "b"', 'id = "a"', r"items\[1\] \(a\): duplicate item id 'a'"),
        ('es = "Primero"', 'fr = "Premier"', r"\(a\)\.title: no 'es' text"),
        ('es = "Luego esto."', 'es = ""', r"\(b\)\.help\.es: expected non-empty text"),
        ('record = "mx"', 'record = "spam"', r"unknown DNS record 'spam'; one of mx, spf"),
        (
            'profile = "office365"',
            'profile = "outlook"',
            r"\(a\)\.check: unknown DNS profile 'outlook'; one of gmail, coexistence, office365",
        ),
        ('kind = "dns"', 'kind = "http"', r"unknown check kind 'http'; one of probe, dns"),
        ('protocol = "smtp"', 'protocol = "pop3"', r"unknown protocol 'pop3'"),
        ('side = "target"', 'side = "cloud"', r"unknown side 'cloud'; one of source, target"),
        ('role = "sender"', 'role = "robot"', r"unknown role 'robot'; one of mailbox"),
        ('role = "sender"', 'login = "yes"', r"login must be true or false"),
        ('profile = "office365"', 'profile = "office365", side = "target"', "does not take side"),
        ('help = { en = "Then', 'hlep = { en = "Then', r"\(b\): missing help"),
        ('check = { kind = "probe"', 'chek = { kind = "probe"', r"unknown key chek"),
        ('{domain}.", es', '{domian}.", es', r"\(a\)\.help: unknown placeholder \{domian\}"),
        ('id = "a"', 'id = "First A"', r"id 'First A' is not kebab-case"),
        ("version = 1", "version = 0", r"version must be a positive integer"),
        ("version = 1", 'version = "1"', r"version must be a positive integer"),
        ('shell = "powershell", ', "", r"commands\[0\]: missing shell"),
        ('title = { en = "Tiny", es = "Pequeño" }', "", r"template: missing title"),
        ('id = "tiny"', 'id = "tiny', r"not valid TOML"),
    ],
)
def test_broken_templates_are_refused(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(TemplateError, match=message):
        parse_template(GOOD.replace(old, new, 1), "en")


def test_empty_phases_are_refused() -> None:
    no_items = GOOD[: GOOD.index("[[phases.items]]")] + "items = []\n"
    with pytest.raises(TemplateError, match=r"phases\[0\] \(pre\)\.items: is empty"):
        parse_template(no_items, "en")
    no_phases = GOOD[: GOOD.index("[[phases]]")] + "phases = []\n"
    with pytest.raises(TemplateError, match=r"template\.phases: is empty"):
        parse_template(no_phases, "en")


def test_every_language_is_required_whatever_the_language_asked() -> None:
    broken = GOOD.replace('es = "Hacerlo para {domain}."', 'de = "Mach es."')
    for lang in LANGS:
        with pytest.raises(TemplateError, match=r"\(a\)\.help: no 'es' text"):
            parse_template(broken, lang)
    with pytest.raises(TemplateError, match="unknown language 'pt'"):
        parse_template(GOOD, "pt")


# --- check specs --------------------------------------------------------------------------


def test_every_check_round_trips(en: ChecklistTemplate) -> None:
    checks = [item.check for item in en.items if item.check is not None]
    assert len(checks) >= 15
    for check in checks:
        assert CheckSpec.from_dict(check.to_dict()) == check
        assert CheckSpec.from_dict(json.loads(json.dumps(check.to_dict()))) == check


def test_check_dicts_are_minimal() -> None:
    assert dns("mx", "office365").to_dict() == {
        "kind": "dns",
        "record": "mx",
        "profile": "office365",
    }
    assert probe("imap", "source", login=False).to_dict() == {
        "kind": "probe",
        "protocol": "imap",
        "side": "source",
        "login": False,
    }


def test_check_labels() -> None:
    monitoring = CheckSpec(
        CheckKind.PROBE, Protocol.IMAP, Side.TARGET, AccountRole.MONITORING, login=True
    )
    assert monitoring.label("en") == "IMAP login, target accounts (monitoring)"
    assert monitoring.label("es") == "Inicio de sesión IMAP, cuentas de destino (monitoreo)"
    connect = CheckSpec(CheckKind.PROBE, Protocol.SMTP, Side.SOURCE, login=False)
    assert connect.label() == "SMTP connection (TLS), source accounts"
    assert connect.label("es") == "Conexión SMTP (TLS), cuentas de origen"
    assert dns("mx", "office365").label("en") == "DNS mx (office365)"
    assert dns("ms_verification", "coexistence").label("es") == "DNS ms_verification (coexistence)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "unknown check kind None"),
        ({"kind": "dns", "record": "mx"}, "unknown DNS profile None"),
        ({"kind": "dns", "profile": "gmail"}, "unknown DNS record None"),
        ({"kind": "probe", "side": "target"}, "unknown protocol None"),
        ({"kind": "probe", "protocol": "imap"}, "unknown side None"),
        ({"kind": "probe", "protocol": "imap", "side": "target", "login": 1}, "login must be"),
        ({"kind": "probe", "protocol": "imap", "side": "target", "x": 1}, "does not take x"),
    ],
)
def test_bad_check_data_is_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        CheckSpec.from_dict(data)


def test_inconsistent_specs_cannot_be_built() -> None:
    with pytest.raises(TemplateError, match="a dns check needs a profile"):
        CheckSpec(CheckKind.DNS, record="mx")
    with pytest.raises(TemplateError, match="not protocol/side/role"):
        CheckSpec(CheckKind.DNS, protocol=Protocol.IMAP, record="mx", profile=Profile.GMAIL)
    with pytest.raises(TemplateError, match="a probe check needs a side"):
        CheckSpec(CheckKind.PROBE, protocol=Protocol.IMAP)
