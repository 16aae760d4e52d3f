"""Suggested commands are safe to paste: values go in only quoted for the command's shell.

Issue 12, "Commands are safe to paste". Addresses come from ``accounts add`` and
migration CSVs; the RFC's atext allows ``$ ' ` | & { }`` before the @. Here: every
shipped command (catalogue fixes, checklist templates) writes its placeholders
bare, the catalogue's fill path keeps any value one literal of its shell, and a
value that cannot be quoted refuses the command with a message in English or
Spanish. The end-to-end proofs (CLI, reports, probe, explain) are in
``tests/lab/test_safe_commands_cli.py``, the TUI's copy in
``tests/tui/test_safe_commands_tui.py``; both use the helpers below, which run
sh commands through the real /bin/sh with the program stubbed out.
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.commands.context import PLACEHOLDER
from probes.commands.quote import Shell, quote
from probes.commands.refusal import fill_or_refuse
from probes.commands.template import check_template
from probes.diagnosis.catalogue import SHELLS, Catalogue
from probes.diagnosis.entry import command_values
from workspace.accounts.address import is_mailbox_address
from workspace.checklist.template import LANGS, available_templates, load_template

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


# --- running sh commands safely (shared with the lab and TUI tests) --------------------


def stubbed_sh(command: str, sandbox: Path) -> list[str]:
    """Run ``command`` with its program replaced by a function printing its arguments."""
    program = command.split()[0]
    assert re.fullmatch(r"[a-z][a-z0-9_-]*", program), command
    script = f"{program}() {{ printf '%s\\0' \"$@\"; }}\n{command}\n"
    done = subprocess.run(
        ["/bin/sh", "-c", script], cwd=sandbox, capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\0")[:-1]


def sh_printf(argument: str, sandbox: Path) -> str:
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
    assert address in stubbed_sh(command, sandbox), command
    (argument,) = [word for word in command.split() if "PWNED" in word]  # as written
    assert argument != address and sh_printf(argument, sandbox) == address
    assert not (sandbox / "PWNED").exists()


def assert_only_quoted(command: str, shell: Shell, *addresses: str) -> None:
    """Each address appears in ``command`` only as ``shell`` quotes it."""
    rest = command
    for address in addresses:
        rest = rest.replace(quote(address, shell), "«quoted»")
    assert "PWNED" not in rest, command


def test_a_quoted_address_is_one_harmless_argument(tmp_path: Path) -> None:
    filled = fill_or_refuse("mxpilot probe h:587 --user {mailbox}", {"mailbox": ADDRESS}, "sh")
    assert not filled.refused
    assert_safe_sh(filled.text, ADDRESS, tmp_path)
    assert_only_quoted(filled.text, Shell.SH, ADDRESS)


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
