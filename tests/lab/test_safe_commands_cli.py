"""Commands mxpilot suggests carry a hostile address only quoted: CLI, reports, probe, explain.

The address comes in through ``accounts add`` and a migration CSV, as a user
would bring it; ``checklist show``, the Markdown/HTML report and the fixes of
``probe --account`` (against the lab's SMTP server) and ``explain --mailbox``
show it only quoted for each command's shell. sh commands are run by /bin/sh
with the program stubbed out: the marker file never appears.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mxlab.certs import LabCertificates
from mxlab.smtp import SmtpLabServer
from probes.commands.quote import Shell, quote
from tests.conftest import LAB_PASSWORD, Run
from tests.unit.test_safe_commands import (
    ADDRESS,
    COMMAND_SHELLS,
    DASHED,
    SMTP_5_7_139,
    SOURCE,
    assert_only_quoted,
    assert_safe_sh,
)


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
