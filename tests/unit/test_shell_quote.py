"""probes/commands (quote, template): a filled value never ends a command.

POSIX quoting is checked against the real /bin/sh (and shlex); PowerShell and
cmd are not installed here, so they are checked against precise models of
their quoting rules (PowerShell's tokenizer for '…' and "…" strings, cmd's
quote state plus the Microsoft C runtime's argv rules).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from probes.commands.context import PS_DOUBLE_QUOTES, PS_SINGLE_QUOTES
from probes.commands.quote import (
    Shell,
    UnquotableValue,
    UnsafeTemplate,
    quote,
    quote_inside,
)
from probes.commands.template import check_template, fill_command

ROOT = Path(__file__).resolve().parents[2]
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

VALUES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=tuple(UNSAFE)),  # type: ignore[arg-type]
    max_size=40,
)
"""Any value quote() accepts: printable text, quotes, $, `, \\, ! and friends."""

HOSTILE = [
    "$(touch MARKER)",
    "`touch MARKER`",
    "x; touch MARKER",
    "x' ; touch MARKER ; '",
    'x" ; touch MARKER ; "',
    "x && touch MARKER || touch MARKER",
    "x | touch MARKER",
    "${IFS}touch${IFS}MARKER",
    "*",
    "~root",
    "!!",
    "a\\'b",
    "’; touch MARKER; ‘",
    "ana o'brien@example.com",
]


def _sh(command: str, cwd: Path, shell: str = "/bin/sh") -> str:
    done = subprocess.run(
        [shell, "-c", command],
        cwd=cwd,
        capture_output=True,
        timeout=10,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    return done.stdout.decode("utf-8")


# --- POSIX sh -------------------------------------------------------------------------------


@given(VALUES)
@settings(max_examples=1000)
def test_sh_quote_round_trips_through_shlex(value: str) -> None:
    assert shlex.split(quote(value, "sh")) == [value]
    assert shlex.split(quote(value, "bash") + " next") == [value, "next"]


@given(value=VALUES)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_sh_quote_round_trips_through_sh(value: str, tmp_path: Path) -> None:
    assert _sh("printf %s " + quote(value, Shell.SH), tmp_path) == value


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])
def test_hostile_values_never_execute(value: str, shell: str, tmp_path: Path) -> None:
    if not Path(shell).exists():
        pytest.skip(f"{shell} missing")
    (tmp_path / "a-file").write_text("x")
    value = value.replace("MARKER", str(tmp_path / "MARKER"))
    assert _sh("printf %s " + quote(value, "sh"), tmp_path, shell) == value
    filled = fill_command("printf %s {mailbox}", {"mailbox": value}, "bash")
    assert _sh(filled, tmp_path, shell) == value
    glued = fill_command("printf %s _dmarc.{domain}", {"domain": value}, "sh")
    assert _sh(glued, tmp_path, shell) == "_dmarc." + value
    if "!" not in value:
        inside = fill_command('printf %s "{mailbox}"', {"mailbox": value}, "sh")
        assert _sh(inside, tmp_path, shell) == value
    inside_single = fill_command("printf %s '{mailbox}'", {"mailbox": value}, "sh")
    assert _sh(inside_single, tmp_path, shell) == value
    assert not (tmp_path / "MARKER").exists()


@given(host=VALUES, user=VALUES)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_filled_sh_command_prints_every_value(host: str, user: str, tmp_path: Path) -> None:
    assume(host and user and not host.startswith("-") and not user.startswith("-"))
    template = "printf '%s|%s|%s\\n' {host}:{port} --user={user} {user}"
    filled = fill_command(template, {"host": host, "port": 993, "user": user}, "sh")
    assert _sh(filled, tmp_path) == f"{host}:993|--user={user}|{user}\n"


def test_missing_or_empty_values_leave_the_placeholder() -> None:
    template = "mxpilot probe {host}:{port} --user {user}"
    assert fill_command(template, {"user": "", "port": None}, "sh") == template
    assert fill_command(template, {"host": "h.example"}, "sh") == (
        "mxpilot probe 'h.example:{port}' --user {user}"
    )


def test_sh_quoting_is_readable_for_plain_values() -> None:
    assert quote("ana@example.com", "sh") == "ana@example.com"
    assert quote("", "sh") == "''"
    assert quote("it's", "sh") == "'it'\\''s'"
    assert fill_command("dig +short {domain} MX", {"domain": "example.com"}, "sh") == (
        "dig +short example.com MX"
    )


def test_option_injection_is_refused() -> None:
    with pytest.raises(UnquotableValue, match="option"):
        fill_command("mxpilot probe host --user {user}", {"user": "--password=x"}, "sh")
    assert fill_command("x --user={user}", {"user": "-a"}, "sh") == "x --user=-a"
    # In PowerShell a quoted '-Force' is a string, not a parameter.
    assert fill_command("Get-X -Identity {m}", {"m": "-Force"}, "powershell") == (
        "Get-X -Identity '-Force'"
    )


# --- values no shell can take ---------------------------------------------------------------


@pytest.mark.parametrize("shell", list(Shell))
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "nul\x00", "\x1b[2J", "\x9b", "\u202e", "\u2028"])
def test_controls_and_newlines_are_refused_everywhere(shell: Shell, bad: str) -> None:
    with pytest.raises(UnquotableValue, match=r"U\+"):
        quote(bad, shell)
    with pytest.raises(UnquotableValue):
        fill_command("x {mailbox}", {"mailbox": bad}, shell)


def test_unknown_shell_label_is_an_error_and_labels_map() -> None:
    with pytest.raises(ValueError, match="unknown shell"):
        Shell.of("fish")
    assert Shell.of("bash") is Shell.SH
    assert Shell.of("django") is Shell.PYTHON
    assert Shell.of("admin-centre") is Shell.TEXT


# --- PowerShell (model) ---------------------------------------------------------------------


def ps_single(token: str) -> tuple[str, str]:
    """PowerShell's tokenizer for '…' (ScanStringLiteral): (content, rest after the string).

    Any of the five single-quote characters opens and closes the string; two in
    a row stand for the second one.
    """
    assert token[0] in PS_SINGLE_QUOTES
    out, index = [], 1
    while index < len(token):
        char = token[index]
        if char in PS_SINGLE_QUOTES:
            if index + 1 < len(token) and token[index + 1] in PS_SINGLE_QUOTES:
                out.append(token[index + 1])
                index += 2
                continue
            return "".join(out), token[index + 1 :]
        out.append(char)
        index += 1
    raise AssertionError("unterminated string")


def ps_double(token: str) -> tuple[str, str]:
    """PowerShell's "…" string: backtick escapes, doubled quotes; ``$`` would expand."""
    assert token[0] in PS_DOUBLE_QUOTES
    out, index = [], 1
    while index < len(token):
        char = token[index]
        if char == "`":
            following = token[index + 1]
            assert following in "`$" + PS_DOUBLE_QUOTES, f"escape sequence `{following}"
            out.append(following)
            index += 2
            continue
        assert char != "$", "a variable or subexpression would expand"
        if char in PS_DOUBLE_QUOTES:
            if index + 1 < len(token) and token[index + 1] in PS_DOUBLE_QUOTES:
                out.append(token[index + 1])
                index += 2
                continue
            return "".join(out), token[index + 1 :]
        out.append(char)
        index += 1
    raise AssertionError("unterminated string")


@given(VALUES)
@settings(max_examples=1000)
def test_powershell_quote_is_one_single_quoted_string(value: str) -> None:
    assert ps_single(quote(value, "powershell")) == (value, "")
    inside = "'" + quote_inside(value, "powershell", "'") + "'"
    assert ps_single(inside) == (value, "")
    doubled = '"' + quote_inside(value, "powershell", '"') + '"'
    assert ps_double(doubled) == (value, "")


def test_powershell_typographic_quotes_are_doubled() -> None:
    value = "a’; Remove-Item C:\\ -Recurse; ‘"
    quoted = quote(value, "powershell")
    assert quoted == "'a’’; Remove-Item C:\\ -Recurse; ‘‘'"
    assert ps_single(quoted) == (value, "")
    assert ps_single("'" + value + "'")[1] != ""  # unquoted, the ’ would end the string


@given(VALUES)
@settings(max_examples=300)
def test_powershell_fill_keeps_the_value_in_one_argument(value: str) -> None:
    assume(value)  # an empty value leaves the placeholder as written
    filled = fill_command(
        "Get-CASMailbox -Identity {mailbox} | Format-List X", {"mailbox": value}, "pwsh"
    )
    head = "Get-CASMailbox -Identity "
    assert filled.startswith(head)
    assert ps_single(filled[len(head) :]) == (value, " | Format-List X")
    glued = fill_command(
        "Resolve-DnsName -Name _dmarc.{domain} -Type TXT", {"domain": value}, "powershell"
    )
    assert ps_single(glued[len("Resolve-DnsName -Name ") :]) == ("_dmarc." + value, " -Type TXT")


def test_powershell_braces_that_are_not_placeholders_stay() -> None:
    template = (
        'Resolve-DnsName -Name {domain} -Type TXT | Where-Object { $_.Strings -like "v=spf1*" }; '
        '@{Add="x"}; @{Name="Total";Expression={$_.PrepaidUnits.Enabled}}; {missing}'
    )
    filled = fill_command(template, {"domain": "example.com"}, "powershell")
    assert filled == template.replace("{domain}", "'example.com'")
    assert fill_command("@{Add={x}}", {"x": "a'b"}, "powershell") == "@{Add='a''b'}"


# --- cmd (model) ----------------------------------------------------------------------------


def cmd_argv(line: str) -> list[str]:
    """One command line as cmd then the Microsoft C runtime see it.

    cmd: ``"`` toggles its quote state; outside quotes ``& | < > ^ ( )`` are
    operators (here: an assertion); ``%`` and ``!`` would expand anywhere.
    C runtime: white space splits outside quotes; ``2n`` backslashes before a
    ``"`` give ``n`` and the quote toggles, ``2n+1`` give ``n`` and a literal ``"``.
    """
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        assert char not in "%!", "cmd expands variables"
        assert quoted or char not in "&|<>^()", f"cmd operator {char!r}"
    args: list[str] = []
    current: list[str] = []
    in_quotes = started = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            run = len(line[index:]) - len(line[index:].lstrip("\\"))
            if line[index + run : index + run + 1] == '"':
                current.append("\\" * (run // 2))
                if run % 2:
                    current.append('"')
                    index += run + 1
                else:
                    index += run
            else:
                current.append("\\" * run)
                index += run
        elif char == '"':
            in_quotes, started = not in_quotes, True
            index += 1
        elif char in " \t" and not in_quotes:
            if current or started:
                args.append("".join(current))
            current, started = [], False
            index += 1
        else:
            current.append(char)
            index += 1
    if current or started:
        args.append("".join(current))
    return args


@given(VALUES)
@settings(max_examples=1000)
def test_cmd_quote_is_one_argument_or_refused(value: str) -> None:
    try:
        quoted = quote(value, "cmd")
    except UnquotableValue:
        assert set(value) & set('"%!')
        return
    assert cmd_argv("prog " + quoted + " next") == ["prog", value, "next"]


@pytest.mark.parametrize("value", ['a"b', "%PATH%", "!x!"])
def test_cmd_refuses_what_it_cannot_quote(value: str) -> None:
    with pytest.raises(UnquotableValue, match="cmd"):
        quote(value, "cmd")


def test_cmd_examples() -> None:
    assert quote("a&b", "cmd") == '"a&b"'
    assert quote("C:\\dir\\", "cmd") == '"C:\\dir\\\\"'
    assert cmd_argv('x "C:\\dir\\\\"') == ["x", "C:\\dir\\"]


# --- Python ---------------------------------------------------------------------------------


@given(VALUES)
def test_python_values_are_literals(value: str) -> None:
    import ast

    assume(value)
    filled = fill_command("SMTP({host}, {port})", {"host": value, "port": 587}, "python")
    call = ast.parse(filled, mode="eval").body
    assert isinstance(call, ast.Call)
    assert [ast.literal_eval(arg) for arg in call.args] == [value, 587]
    inside = fill_command('SMTP("{host}", {port})', {"host": value, "port": 587}, "django")
    assert ast.literal_eval(ast.parse(inside, mode="eval").body.args[0]) == value  # type: ignore[attr-defined]


# --- templates ------------------------------------------------------------------------------


def test_check_template_reports_quoted_and_unsafe_placeholders() -> None:
    assert check_template("Get-X -Identity {mailbox}", "powershell") == []
    quoted = check_template('Get-X -Identity "{mailbox}"', "powershell")
    assert [(p.name, p.kind) for p in quoted] == [("mailbox", "quoted")]
    unsafe = check_template("echo $HOME{x} -{y} 'a'{z} \\{not_a_placeholder}", "sh")
    assert [(p.name, p.kind) for p in unsafe] == [("x", "unsafe"), ("y", "unsafe"), ("z", "unsafe")]
    assert check_template('f"{host}"', "python")[0].kind == "unsafe"
    with pytest.raises(UnsafeTemplate):
        fill_command("echo $HOME{x}", {"x": "a"}, "sh")
    assert fill_command("echo $HOME{x}", {}, "sh") == "echo $HOME{x}"  # no value: untouched


def _shipped_commands() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    catalogue = tomllib.loads((ROOT / "probes/diagnosis/catalogue.toml").read_text("utf-8"))
    for failure in catalogue["failure"]:
        for fix in failure.get("fix", []):
            if fix.get("command"):
                found.append((failure["id"], fix["shell"], fix["command"]))

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            where = f"{where}/{node['id']}" if "id" in node else where
            if "shell" in node and "command" in node:
                found.append((where, node["shell"], node["command"]))
            for child in node.values():
                walk(child, where)
        elif isinstance(node, list):
            for child in node:
                walk(child, where)

    for path in sorted((ROOT / "workspace/checklist/templates").glob("*.toml")):
        walk(tomllib.loads(path.read_text("utf-8")), path.stem)
    return found


def test_no_shipped_command_has_an_unsafe_placeholder() -> None:
    commands = _shipped_commands()
    assert len(commands) > 50
    unsafe = [
        f"{where} ({shell}): {problem}"
        for where, shell, command in commands
        for problem in check_template(command, shell)
        if problem.kind == "unsafe"
    ]
    assert not unsafe


@pytest.mark.parametrize("value", HOSTILE)
def test_shipped_sh_commands_keep_a_hostile_value_in_one_word(value: str) -> None:
    for where, shell, command in _shipped_commands():
        if Shell.of(shell) is not Shell.SH or "{" not in command:
            continue
        values = {
            name: value
            for name in ("mailbox", "user", "host", "domain", "tenant", "source_mailbox")
        }
        filled = fill_command(command, {**values, "port": 993}, shell)
        words = shlex.split(filled)
        assert any(value in word for word in words), (where, filled)
        assert not any(
            "MARKER" in word and word.count("MARKER") != value.count("MARKER") for word in words
        )


def test_bash_is_available_for_the_execution_tests() -> None:
    assert shutil.which("sh")


def test_value_categories_match_the_refusal_rule() -> None:
    for char in ("\u00a0", "é", "’", "`", "$"):
        assert unicodedata.category(char) not in UNSAFE
        quote(char, "sh")
