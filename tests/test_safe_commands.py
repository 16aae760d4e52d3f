"""Suggested commands are safe to paste: an address with shell syntax goes in only quoted.

Issue 12, "Commands are safe to paste". Addresses come from ``accounts add`` and
migration CSVs; the RFC's atext allows ``$ ' ` | & { }`` before the @. Every
place that shows or copies a suggested command (``checklist show``, the
Markdown/HTML report, the TUI's copy, the diagnosis fixes of ``probe`` and
``explain``) must carry such an address only quoted for the command's shell,
and a value that cannot be quoted is refused with a message, never shown raw.
The sh commands are run by the real /bin/sh with the program stubbed out:
the marker file the address tries to create must never appear.
"""

from __future__ import annotations

import ast
import html
import json
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxlab.certs import LabCertificates
from mxlab.memory_keyring import MemoryKeyring
from mxlab.smtp import SmtpLabServer
from probes.command_refusal import fill_or_refuse
from probes.command_template import check_template
from probes.diagnosis.catalogue import SHELLS, Catalogue
from probes.diagnosis.entry import command_values
from probes.shell_context import PLACEHOLDER
from probes.shell_quote import Shell, quote
from tests.conftest import LAB_PASSWORD, Run
from tui.app import MxPilotApp
from workspace.accounts.address import is_mailbox_address
from workspace.checklist.template import LANGS, available_templates, load_template
from workspace.secrets import SecretStore
from workspace.session import Workspace

ADDRESS = "a$b'c`touch${IFS}PWNED`|x&y@example.com"
"""A valid RFC 5322 address (dot-atom atext) that runs ``touch PWNED`` if pasted bare."""

SOURCE = "g$h'i`touch${IFS}PWNED`|j&k@gmail.com"
"""The same trick in a migration CSV's Gmail address."""

DASHED = "-oops@example.com"
"""Valid too, but bare after ``--user`` it would be read as an option: refused in sh."""

SMTP_5_7_139 = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant"
)
COMMAND_SHELLS = (Shell.SH, Shell.POWERSHELL, Shell.CMD, Shell.PYTHON)
"""The labels whose commands are command lines (``text`` ones are settings and paths)."""


def test_the_hostile_addresses_are_valid_mailbox_addresses() -> None:
    assert is_mailbox_address(ADDRESS) and is_mailbox_address(SOURCE)
    assert is_mailbox_address(DASHED)


# --- the shipped templates ------------------------------------------------------------


def _catalogue_commands() -> list[tuple[str, str, str]]:
    return [
        (entry.id, fix.shell or "", fix.command)
        for entry in Catalogue.load().entries
        for fix in entry.fixes
        if fix.command
    ]


def _checklist_commands() -> list[tuple[str, str, str]]:
    return [
        (f"{template_id}/{lang}/{item.id}", command.shell, command.command)
        for template_id in available_templates()
        for lang in LANGS
        for item in load_template(template_id, lang).items
        for command in item.commands
    ]


def test_every_shell_label_is_one_the_quoting_knows() -> None:
    for label in SHELLS:
        Shell.of(label)
    labels = {shell for _, shell, _ in _catalogue_commands() + _checklist_commands()}
    assert labels and all(Shell.of(label) for label in labels)


def test_no_shipped_command_has_a_quoted_or_unsafe_placeholder() -> None:
    commands = _catalogue_commands() + _checklist_commands()
    assert len(commands) > 200
    problems = [
        f"{where} ({shell}): {problem}"
        for where, shell, command in commands
        for problem in check_template(command, shell)
    ]
    assert problems == []


# --- the catalogue's fill path --------------------------------------------------------

PRINTABLE = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
    ),
    min_size=1,
    max_size=30,
)


def _sh_words(command: str) -> list[str]:
    return [word for line in command.splitlines() for word in shlex.split(line, comments=True)]


def _python_constants(command: str) -> list[object]:
    return [n.value for n in ast.walk(ast.parse(command)) if isinstance(n, ast.Constant)]


VALUE_NAMES = {"mailbox", "user", "host", "domain"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=PRINTABLE)
def test_catalogue_fixes_keep_any_value_in_one_quoted_word(value: str) -> None:
    """Every fix of every entry: the value stays one literal, or the command is refused."""
    context = {
        "mailbox": value,
        "user": value,
        "host": value,
        "domain": value,
        "port": "587",
        "suggested_port": "465",
        "protocol": "smtp",
        "security": "starttls",
        "suggested_security": "tls",
    }
    for entry in Catalogue.load().entries:
        for template in entry.fixes:
            fix = template.render(context, "en")
            if not template.command or Shell.of(template.shell or "") not in COMMAND_SHELLS:
                continue
            if not VALUE_NAMES & set(PLACEHOLDER.findall(template.command)):
                continue
            if fix.command is None:  # refused: said in the text, never the raw command
                assert "This command is not shown: " in fix.text, (entry.id, fix)
                continue
            shell = Shell.of(template.shell or "")
            if shell is Shell.SH:
                assert any(value in word for word in _sh_words(fix.command)), fix.command
            elif shell is Shell.POWERSHELL:
                assert quote(value, shell) in fix.command, fix.command
            elif shell is Shell.PYTHON:
                assert value in _python_constants(fix.command), fix.command
                assert 587 in _python_constants(fix.command) or "{port}" not in template.command


def test_catalogue_ports_go_in_as_numbers() -> None:
    context = {"host": "smtp.example.com", "port": "2525", "suggested_port": "465"}
    fix = next(f for f in Catalogue.load().get("io.slow", context).fixes if f.shell == "python")
    assert fix.command == "smtplib.SMTP('smtp.example.com', 2525, timeout=30)"
    assert command_values({"port": "2525", "mailbox": "2525"}) == {
        "port": 2525,
        "mailbox": "2525",
    }


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "This command is not shown: the mailbox address contains a character that cannot "
            "be quoted safely for PowerShell (U+202E)",
        ),
        (
            "es",
            "Este comando no se muestra: la dirección del buzón contiene un carácter que no se "
            "puede entrecomillar con seguridad para PowerShell (U+202E)",
        ),
    ],
)
def test_an_unquotable_value_refuses_the_fix_in_the_users_language(
    lang: str, expected: str
) -> None:
    context = {"mailbox": "a\u202eb@example.com"}
    found = Catalogue.load().get("o365.smtp_auth_disabled_mailbox", context, lang=lang)
    refused = [fix for fix in found.fixes if fix.command is None and "\u202e" not in fix.text]
    assert any(fix.text.endswith(expected) for fix in refused), found.fixes
    assert all("a\u202eb" not in (fix.command or "") for fix in found.fixes)


def test_refusals_name_the_reason() -> None:
    cmd = fill_or_refuse("net user {user}", {"user": "50%off"}, "cmd")
    assert cmd.refused and cmd.text == (
        "This command is not shown: the user name contains a character that cannot be quoted "
        'safely for cmd (U+0025 "%")'
    )
    dashed = fill_or_refuse("mxpilot probe h --user {mailbox}", {"mailbox": DASHED}, "sh", "es")
    assert dashed.refused and "empieza con «-»" in dashed.text and DASHED not in dashed.text
    unsafe = fill_or_refuse("echo $x{domain}", {"domain": "a.cl"}, "sh")
    assert unsafe.refused and unsafe.text.startswith("This command is not shown: its template")
    fine = fill_or_refuse("echo {domain}", {"domain": ADDRESS}, "sh")
    assert not fine.refused and shlex.split(fine.text) == ["echo", ADDRESS]


# --- end to end: accounts add, CSV, checklist, report, probe, explain -----------------


def _stubbed_sh(command: str, sandbox: Path) -> list[str]:
    """Run ``command`` with its program replaced by a function printing its arguments."""
    program = command.split()[0]
    assert re.fullmatch(r"[a-z][a-z0-9_-]*", program), command
    script = f"{program}() {{ printf '%s\\0' \"$@\"; }}\n{command}\n"
    done = subprocess.run(
        ["/bin/sh", "-c", script], cwd=sandbox, capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\0")[:-1]


def _printf(argument: str, sandbox: Path) -> str:
    """``/bin/sh -c 'printf %s ARGUMENT'``: what the shell makes of one quoted argument."""
    done = subprocess.run(
        ["/bin/sh", "-c", f"printf %s {argument}"],
        cwd=sandbox,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_safe_sh(command: str, address: str, sandbox: Path) -> None:
    """The address reaches the program as one argument, and nothing else ran."""
    assert address in _stubbed_sh(command, sandbox), command
    (argument,) = [word for word in command.split() if "PWNED" in word]  # as written
    assert argument != address and _printf(argument, sandbox) == address
    assert not (sandbox / "PWNED").exists()


def assert_only_quoted(command: str, shell: Shell, *addresses: str) -> None:
    """Each address appears in ``command`` only as ``shell`` quotes it."""
    rest = command
    for address in addresses:
        rest = rest.replace(quote(address, shell), "«quoted»")
    assert "PWNED" not in rest, command


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox"
    path.mkdir()
    return path


@pytest.fixture
def hostile_workspace(mx: Run, tmp_path: Path) -> Run:
    """A target account added by ``accounts add`` and a source account from a CSV."""
    code, _, err = mx(
        "accounts", "add", "evil", "--address", ADDRESS, "--side", "target",
        "--provider", "office365", "--role", "sender", "--password-stdin",
        stdin=LAB_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    csv = tmp_path / "batch.csv"
    csv.write_text(f"EmailAddress,UserName,Password\nana@example.com,{SOURCE},pw-1234\n")
    code, _, err = mx("accounts", "import-csv", str(csv), "--yes")
    assert code == 0, err
    listed = json.loads(mx("accounts", "list", "--json")[1])["accounts"]
    assert {a["address"] for a in listed} == {ADDRESS, SOURCE}
    code, _, err = mx("checklist", "new", "--domain", "example.com")
    assert code == 0, err
    return mx


def _prompts(out: str) -> list[tuple[str, str]]:
    """``  shell> command`` lines of ``checklist show ITEM``."""
    return re.findall(r"^  ([a-z]+)> (.*)$", out, flags=re.MULTILINE)


def test_checklist_show_quotes_the_addresses(hostile_workspace: Run, sandbox: Path) -> None:
    mx = hostile_workspace
    for item, address in (("test-smtp", ADDRESS), ("gmail-app-passwords", SOURCE)):
        code, out, err = mx("checklist", "show", item)
        assert code == 0, err
        sh = [command for shell, command in _prompts(out) if shell == "sh" and "PWNED" in command]
        assert sh, out
        for command in sh:
            assert_safe_sh(command, address, sandbox)
    code, out, _ = mx("checklist", "show", "enable-smtp-auth")
    (shell, command), *_ = _prompts(out)
    assert shell == "powershell"
    assert command == (
        "Set-CASMailbox -Identity 'a$b''c`touch${IFS}PWNED`|x&y@example.com' "
        "-SmtpClientAuthenticationDisabled $false"
    )


def test_reports_quote_the_addresses(hostile_workspace: Run, tmp_path: Path) -> None:
    mx = hostile_workspace
    code, markdown, err = mx("checklist", "report")
    assert code == 0, err
    fences = re.findall(r"^```(\w+)\n(.*?)\n```$", markdown, flags=re.MULTILINE | re.DOTALL)
    code, page, err = mx("checklist", "report", "--format", "html")
    assert code == 0, err
    blocks = [html.unescape(b) for b in re.findall(r"<pre><code>(.*?)</code></pre>", page, re.S)]
    assert len(blocks) == len(fences) > 10
    with_address = [(s, c) for s, c in fences if "PWNED" in c]
    assert {s for s, _ in with_address} == {"sh", "powershell"}
    for shell, command in with_address:
        assert_only_quoted(command, Shell.of(shell), ADDRESS, SOURCE)
    for block, (_, command) in zip(blocks, fences, strict=True):
        assert block == command


def test_probe_fixes_quote_the_address(
    mx: Run,
    smtp_server: Callable[..., SmtpLabServer],
    lab_certs: LabCertificates,
    sandbox: Path,
) -> None:
    smtp = smtp_server("starttls", personality="o365_tenant_disabled")
    code, _, err = mx(
        "accounts", "add", "evil", "--address", ADDRESS, "--role", "sender",
        "--smtp", f"127.0.0.1:{smtp.port}", "--password-stdin", stdin=LAB_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    code, out, err = mx("probe", "--account", "evil", "--json", *lab)
    assert code == 1, err
    (probe,) = json.loads(out)["probes"]
    assert probe["target"]["username"] == ADDRESS
    fixes = [fix for d in probe["diagnoses"] for fix in d["fixes"] if fix["command"]]
    checked = _check_fixes(fixes, ADDRESS, sandbox)
    assert {"sh", "powershell"} <= checked
    code, out, _ = mx("probe", "--account", "evil", *lab)
    shown = " ".join(out.split())  # the terminal wraps long lines
    assert code == 1 and quote(ADDRESS, "powershell") in shown
    assert "--user " + quote(ADDRESS, "sh") in shown


def _check_fixes(fixes: list[dict[str, str]], address: str, sandbox: Path) -> set[str]:
    """Every fix command that holds the address: quoted, and harmless when run in sh."""
    checked: set[str] = set()
    for fix in fixes:
        shell = Shell.of(fix["shell"])
        if "PWNED" not in fix["command"] or shell not in COMMAND_SHELLS:
            continue
        assert_only_quoted(fix["command"], shell, address)
        if shell is Shell.SH:
            assert_safe_sh(fix["command"], address, sandbox)
        checked.add(shell.value)
    return checked


def test_explain_fixes_quote_the_mailbox(mx: Run, sandbox: Path) -> None:
    code, out, err = mx("explain", SMTP_5_7_139, "--mailbox", ADDRESS, "--json")
    assert code == 0, err
    fixes = [fix for d in json.loads(out)["findings"] for fix in d["fixes"] if fix["command"]]
    assert {"sh", "powershell"} <= _check_fixes(fixes, ADDRESS, sandbox)


def test_a_dashed_address_refuses_the_sh_command(mx: Run, tmp_path: Path) -> None:
    code, _, err = mx(
        "accounts", "add", "dash", f"--address={DASHED}", "--side", "target",
        "--provider", "office365", "--no-password",
    )  # fmt: skip
    assert code == 0, err
    mx("checklist", "new", "--domain", "example.com", "--name", "en")
    mx("checklist", "new", "--domain", "example.com", "--name", "es", "--lang", "es")
    code, out, _ = mx("checklist", "show", "test-smtp", "--checklist", "en")
    assert "  ! This command is not shown: the mailbox address starts with '-'" in out
    assert "--user -oops" not in out and "--user '-oops" not in out
    code, out, _ = mx("checklist", "show", "test-smtp", "--checklist", "es")
    assert "  ! Este comando no se muestra: la dirección del buzón empieza con «-»" in out
    assert "--user -oops" not in out and "--user '-oops" not in out
    code, markdown, _ = mx("checklist", "report", "--checklist", "en")
    assert "This command is not shown" in markdown and "--user -oops" not in markdown
    code, out, _ = mx("explain", SMTP_5_7_139, f"--mailbox={DASHED}", "--lang", "es")
    out = " ".join(out.split())  # the terminal wraps long lines
    assert "Este comando no se muestra: la dirección del buzón empieza con «-»" in out
    assert "--user -oops" not in out and "--user '-oops" not in out


# --- the TUI's copy -------------------------------------------------------------------


async def _copy_first_command(mx: Run, memory_keyring: MemoryKeyring, item_id: str) -> MxPilotApp:
    from tests.test_tui_checklist import SIZE, go_to

    path = mx.workspace / "workspace.sqlite3"  # type: ignore[attr-defined]
    workspace = Workspace.open(path, SecretStore(memory_keyring))
    app = MxPilotApp(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await go_to(pilot, item_id)
            await pilot.press("c")
            await pilot.pause()
    finally:
        workspace.close()
    return app


async def test_tui_copy_quotes_the_address(
    hostile_workspace: Run, memory_keyring: MemoryKeyring, sandbox: Path
) -> None:
    app = await _copy_first_command(hostile_workspace, memory_keyring, "enable-smtp-auth")
    assert app.clipboard == (
        "Set-CASMailbox -Identity 'a$b''c`touch${IFS}PWNED`|x&y@example.com' "
        "-SmtpClientAuthenticationDisabled $false"
    )
    app = await _copy_first_command(hostile_workspace, memory_keyring, "test-smtp")
    assert app.clipboard.startswith("mxpilot probe ")
    assert_safe_sh(app.clipboard, ADDRESS, sandbox)


async def test_tui_copy_refuses_an_unquotable_command(
    mx: Run, memory_keyring: MemoryKeyring
) -> None:
    code, _, err = mx(
        "accounts", "add", "dash", f"--address={DASHED}", "--side", "target",
        "--provider", "office365", "--no-password",
    )  # fmt: skip
    assert code == 0, err
    mx("checklist", "new", "--domain", "example.com")
    app = await _copy_first_command(mx, memory_keyring, "test-smtp")
    assert "oops" not in app.clipboard
