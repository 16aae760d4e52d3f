"""A suggested command filled in, or refused with a message in the user's language.

:func:`probes.commands.template.fill_command` raises when a value cannot go into
a command safely (:class:`~probes.shell_quote.UnquotableValue`) or a template
puts a placeholder where no quoting helps
(:class:`~probes.shell_quote.UnsafeTemplate`). Front ends never show the raw
command then: :func:`fill_or_refuse` gives the message to show instead, in
English or Spanish, naming the value (``the mailbox address``) and the
character. Used by the diagnosis catalogue's fixes and the checklist's
remediation commands. Standard library only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from probes.commands.context import PLACEHOLDER
from probes.commands.quote import Shell, UnquotableValue, UnsafeTemplate
from probes.commands.template import Value, check_template, fill_command

VALUE_NAMES: Mapping[str, tuple[str, str]] = {
    "mailbox": ("the mailbox address", "la dirección del buzón"),
    "source_mailbox": ("the source mailbox address", "la dirección del buzón de origen"),
    "user": ("the user name", "el nombre de usuario"),
    "host": ("the server name", "el nombre del servidor"),
    "domain": ("the domain", "el dominio"),
    "domain_dashed": ("the domain", "el dominio"),
    "tenant": ("the tenant", "el inquilino (tenant)"),
    "port": ("the port", "el puerto"),
    "suggested_port": ("the port", "el puerto"),
    "protocol": ("the protocol", "el protocolo"),
    "security": ("the security mode", "el modo de seguridad"),
    "suggested_security": ("the security mode", "el modo de seguridad"),
}
"""How a refusal names each placeholder's value: (English, Spanish)."""

_SOME_VALUE = ("a value", "un valor")

SHELL_NAMES: Mapping[Shell, str] = {
    Shell.SH: "POSIX sh",
    Shell.POWERSHELL: "PowerShell",
    Shell.CMD: "cmd",
    Shell.PYTHON: "Python",
    Shell.TEXT: "text",
}
"""How a refusal names the shell a command is labelled with."""


def _spanish(lang: str | None) -> bool:
    return bool(lang) and str(lang).lower().startswith("es")


@dataclass(frozen=True)
class FilledCommand:
    """A command ready to show: filled and quoted, or ``refused`` with the message why.

    When ``refused`` is true, ``text`` is the message (never the raw or unfilled
    command) and nothing should be copied.
    """

    text: str
    refused: bool = False


def _names_in(template: str, values: Mapping[str, Value]) -> list[str]:
    """The placeholders of ``template`` that have a value, in order, each once."""
    names: list[str] = []
    for found in PLACEHOLDER.finditer(template):
        name = found.group(1)
        value = values.get(name)
        if value is not None and value != "" and name not in names:
            names.append(name)
    return names


def _culprit(error: ValueError, template: str, values: Mapping[str, Value], shell: Shell) -> str:
    """The placeholder whose value the error is about ("" when it cannot be told)."""
    names = _names_in(template, values)
    if isinstance(error, UnsafeTemplate):
        unsafe = [p.name for p in check_template(template, shell) if p.kind == "unsafe"]
        return next((name for name in unsafe if name in names), "")
    assert isinstance(error, UnquotableValue)
    texts = {name: str(values[name]) for name in names}
    if error.char:
        return next((name for name, text in texts.items() if error.char in text), "")
    return next((name for name, text in texts.items() if text and text in error.value), "")


def _character(char: str) -> str:
    """``U+0025 "%"`` for a visible character, ``U+000A`` for an invisible one."""
    code = f"U+{ord(char):04X}"
    visible = char.isprintable() and not char.isspace() and unicodedata.category(char)[0] != "C"
    return f'{code} "{char}"' if visible else code


def refusal_message(
    error: UnquotableValue | UnsafeTemplate,
    template: str,
    values: Mapping[str, Value],
    shell: Shell | str,
    lang: str | None = "en",
) -> str:
    """Why a command is not shown, in English or Spanish (``lang`` ``es``, ``es-CL``...)."""
    rules = Shell.of(shell)
    es = _spanish(lang)
    what = VALUE_NAMES.get(_culprit(error, template, values, rules), _SOME_VALUE)[es]
    where = SHELL_NAMES[rules]
    if es:
        head = "Este comando no se muestra: "
        if isinstance(error, UnsafeTemplate):
            return head + f"su plantilla pone {what} donde no se puede entrecomillar para {where}"
        if error.char and rules is Shell.TEXT:
            why = "no se puede mostrar con seguridad"
            return head + f"{what} contiene un carácter que {why} ({_character(error.char)})"
        if error.char:
            why = f"no se puede entrecomillar con seguridad para {where}"
            return head + f"{what} contiene un carácter que {why} ({_character(error.char)})"
        if error.value.startswith("-"):
            return head + f"{what} empieza con «-», que el comando leería como una opción"
        return head + f"{what} termina en una barra invertida, que {where} no entrecomilla bien"
    head = "This command is not shown: "
    if isinstance(error, UnsafeTemplate):
        return head + f"its template puts {what} where it cannot be quoted safely for {where}"
    if error.char and rules is Shell.TEXT:
        why = "cannot be shown safely"
        return head + f"{what} contains a character that {why} ({_character(error.char)})"
    if error.char:
        why = f"cannot be quoted safely for {where}"
        return head + f"{what} contains a character that {why} ({_character(error.char)})"
    if error.value.startswith("-"):
        return head + f"{what} starts with '-', which the command would read as an option"
    return head + f"{what} ends with a backslash, which {where} cannot quote safely"


def fill_or_refuse(
    template: str, values: Mapping[str, Value], shell: Shell | str, lang: str | None = "en"
) -> FilledCommand:
    """``template`` filled and quoted for ``shell``, or the refusal to show instead.

    Never returns the raw template with an unsafe value in it: either every
    value is quoted (:func:`probes.commands.template.fill_command`) or the
    result is ``refused`` and its text says why, in ``lang``.
    """
    try:
        return FilledCommand(fill_command(template, values, shell))
    except (UnquotableValue, UnsafeTemplate) as error:
        return FilledCommand(refusal_message(error, template, values, shell, lang), refused=True)
