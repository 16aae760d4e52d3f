"""Values quoted for the shell a suggested command is labelled with.

mxpilot suggests commands (catalogue fixes, checklist remediation) with
``{name}`` placeholders filled from data other people control: addresses from a
CSV, domains, host names. A filled value must never end the command or start
another, so it is quoted for the command's shell:

- ``sh`` (also ``bash``, ``zsh``): bare when made only of ``A-Z a-z 0-9 @ % + = : , . / _ -``,
  else single quotes, a ``'`` written ``'\\''``;
- ``powershell``: always single quotes; every character PowerShell reads as a
  single quote (``'`` and the typographic U+2018–U+201B) is doubled;
- ``cmd``: bare when plain, else double quotes; ``"``, ``%`` and ``!`` cannot
  be quoted safely in cmd and are refused, trailing backslashes are doubled;
- ``python`` (also ``django``): a Python string literal;
- ``text`` (a setting, an admin-centre path, C#): not a command line; the value
  goes in as it is.

Whatever the shell, a value with a newline or another control, format
(bidi), surrogate, private-use or unassigned character is refused with
:class:`UnquotableValue`: it could not be shown or pasted faithfully.

:func:`quote_inside` escapes a value for quotes a template already opened.
Filling whole templates: :mod:`probes.commands.template`. Standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum

from probes.commands.context import PS_DOUBLE_QUOTES, PS_SINGLE_QUOTES


class Shell(StrEnum):
    """The quoting rules a command follows."""

    SH = "sh"
    POWERSHELL = "powershell"
    CMD = "cmd"
    PYTHON = "python"
    TEXT = "text"

    @classmethod
    def of(cls, label: Shell | str) -> Shell:
        """The rules for a command labelled ``label`` (``bash`` -> ``sh``, ``setting`` -> ``text``).

        Labels used by the catalogue and the checklist templates are known; an
        unknown label raises ``ValueError``.
        """
        if isinstance(label, Shell):
            return label
        found = SHELL_LABELS.get(label.strip().lower())
        if found is None:
            known = ", ".join(sorted(SHELL_LABELS))
            raise ValueError(f"unknown shell {label!r}; one of {known}")
        return found


SHELL_LABELS: Mapping[str, Shell] = {
    "sh": Shell.SH,
    "bash": Shell.SH,
    "zsh": Shell.SH,
    "powershell": Shell.POWERSHELL,
    "pwsh": Shell.POWERSHELL,
    "cmd": Shell.CMD,
    "python": Shell.PYTHON,
    "django": Shell.PYTHON,
    "text": Shell.TEXT,
    "setting": Shell.TEXT,
    "admin-centre": Shell.TEXT,
    "dotnet": Shell.TEXT,
}
"""Every label a command may carry, and the rules it follows."""


class UnquotableValue(ValueError):
    """A value that cannot be put into a command of that shell safely; the message says why.

    ``value`` is the value refused and ``char`` the character that made it so
    (``""`` when it is not one character: a leading ``-``, a trailing backslash),
    for a front end that words the refusal in the user's language.
    """

    def __init__(self, message: str, *, value: str = "", char: str = "") -> None:
        super().__init__(message)
        self.value = value
        self.char = char


class UnsafeTemplate(ValueError):
    """A template whose placeholder sits where no quoting makes a value safe."""


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SH_PLAIN = re.compile(r"[A-Za-z0-9@%+=:,./_-]+")
_CMD_PLAIN = re.compile(r"[A-Za-z0-9@+:._-]+")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def check_value(value: str) -> None:
    """Refuse a value no shell can take: newlines, controls, bidi/format, unassigned...

    Raises :class:`UnquotableValue` naming the first such character and where it is.
    """
    for index, char in enumerate(value):
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            raise UnquotableValue(
                f"{value[:index]!r}… holds {_describe(char)} at position {index + 1}; "
                "a value with a line break, a control or an invisible character "
                "cannot be put into a command safely",
                value=value,
                char=char,
            )


def _refuse(value: str, chars: str, why: str) -> None:
    for char in value:
        if char in chars:
            raise UnquotableValue(f"{value!r} holds {char!r}, which {why}", value=value, char=char)


def _sh(value: str) -> str:
    if value and _SH_PLAIN.fullmatch(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def _powershell(value: str) -> str:
    return "'" + "".join(c + c if c in PS_SINGLE_QUOTES else c for c in value) + "'"


def _cmd(value: str) -> str:
    if value and _CMD_PLAIN.fullmatch(value):
        return value
    _refuse(value, '"%!', "cmd cannot quote safely (it ends the quotes or expands variables)")
    stripped = value.rstrip("\\")
    return '"' + stripped + "\\" * (2 * (len(value) - len(stripped))) + '"'


def _python(value: str) -> str:
    return repr(value)


_QUOTERS: Mapping[Shell, Callable[[str], str]] = {
    Shell.SH: _sh,
    Shell.POWERSHELL: _powershell,
    Shell.CMD: _cmd,
    Shell.PYTHON: _python,
    Shell.TEXT: str,
}


def quote(value: str, shell: Shell | str) -> str:
    """``value`` as one literal word of ``shell``'s command line.

    Raises :class:`UnquotableValue` for a value with a newline, a control or an
    invisible character (any shell), or one cmd cannot quote (``"``, ``%``,
    ``!``). It does not stop a value that starts with ``-`` from being read as
    an option by the command; :func:`fill_command` does.
    """
    check_value(value)
    return _QUOTERS[Shell.of(shell)](value)


def quote_inside(value: str, shell: Shell | str, opened: str) -> str:
    """``value`` escaped to go inside quotes a command already opened with ``opened``.

    For templates that put a placeholder inside quotes (``"{host}"``). Raises
    :class:`UnquotableValue` where that cannot be done safely: a ``!`` inside
    ``sh`` double quotes (bash history expansion), ``"``, ``%``, ``!`` or a
    trailing backslash inside cmd quotes.
    """
    check_value(value)
    rules = Shell.of(shell)
    single = opened[:1] != "" and opened[:1] in PS_SINGLE_QUOTES
    if rules is Shell.SH:
        if single:
            return value.replace("'", "'\\''")
        _refuse(value, "!", "bash expands inside double quotes (history); write it bare")
        return re.sub(r'([\\"$`])', r"\\\1", value)
    if rules is Shell.POWERSHELL:
        if single:
            return _powershell(value)[1:-1]
        return "".join("`" + c if c in "`$" + PS_DOUBLE_QUOTES else c for c in value)
    if rules is Shell.CMD:
        _refuse(value, '"%!', "cmd cannot quote safely (it ends the quotes or expands variables)")
        if value.endswith("\\"):
            raise UnquotableValue(
                f"{value!r} ends with a backslash, which escapes cmd's quote", value=value
            )
        return value
    if rules is Shell.PYTHON:
        return value.replace("\\", "\\\\").replace(opened[:1], "\\" + opened[:1])
    return value
