"""Suggested commands filled in safely: ``{name}`` placeholders quoted for the command's shell.

The rule for templates (catalogue fixes, checklist remediation commands):
**write placeholders bare**, never inside quotes: ``-Identity {mailbox}``,
``--user {user}``, ``admin@{domain}``, ``{host}:{port}``.

- A bare placeholder is quoted together with the plain word it is glued to
  (letters, digits and ``@ . _ - + : = / ,``-like characters of that shell):
  ``_dmarc.{domain}`` -> ``'_dmarc.example.com'`` in PowerShell. In an option
  (``--user={user}``, ``-Name:{x}``) or a ``Key={x}`` pair, the part up to the
  ``=`` / ``:`` stays bare and only the rest is quoted.
- A placeholder a template did put inside quotes (``"{host}"`` in Python,
  ``-Identity "{mailbox}"``) is escaped for those quotes
  (:func:`probes.commands.quote.quote_inside`), so the command is still correct;
  :func:`check_template` reports it as ``quoted`` so the template gets fixed.
- A placeholder glued to something no quoting makes safe (``$``, a quote, a
  backslash, an option name like ``-{x}``) is ``unsafe``: :func:`fill_command`
  raises :class:`~probes.shell_quote.UnsafeTemplate` rather than fill it.

Placeholder syntax and "no value: stays as written" match
:func:`probes.diagnosis.entry.fill` and :func:`workspace.checklist.template.fill_placeholders`.
Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from probes.commands.context import (
    PLACEHOLDER,
    Context,
    Slot,
    scan_cmd,
    scan_powershell,
    scan_python,
    scan_sh,
    scan_text,
)
from probes.commands.quote import (
    Shell,
    UnquotableValue,
    UnsafeTemplate,
    check_value,
    quote,
    quote_inside,
)

Value = str | int | None
"""A placeholder's value: text is quoted, an ``int`` goes in as its digits, ``None`` or
``""`` leaves the placeholder as written."""

_SCANNERS: Mapping[Shell, Callable[[str], list[Slot]]] = {
    Shell.SH: scan_sh,
    Shell.POWERSHELL: scan_powershell,
    Shell.CMD: scan_cmd,
    Shell.PYTHON: scan_python,
    Shell.TEXT: scan_text,
}

_WORD = {
    Shell.SH: re.compile(r"(?:[A-Za-z0-9@%+=:,./_-]|\{[a-z_]+\})+"),
    Shell.POWERSHELL: re.compile(r"(?:[A-Za-z0-9@+=:./_-]|\{[a-z_]+\})+"),
    Shell.CMD: re.compile(r"(?:[A-Za-z0-9@+=:./_-]|\{[a-z_]+\})+"),
    Shell.PYTHON: PLACEHOLDER,
}
"""A plain word a bare placeholder may be part of."""

_NEIGHBOURS = {
    Shell.SH: ";|&()<>",
    Shell.POWERSHELL: ";|&(){},",
    Shell.CMD: "&|<>()",
}
"""What may stand right before or after a bare word, besides white space and the ends."""

_PYTHON_GLUE = re.compile(r"[\w.'\"\\]")
"""What a bare Python placeholder must not touch (it is an expression of its own)."""


@dataclass(frozen=True)
class TemplateProblem:
    """A placeholder :func:`fill_command` cannot quote plainly.

    ``kind`` is ``"quoted"`` (already inside quotes: filled escaped for them, but
    the template should write it bare) or ``"unsafe"`` (never filled: refused).
    """

    name: str
    offset: int
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{{{self.name}}} at {self.offset} ({self.kind}): {self.reason}"


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    split: int
    """Where quoting starts: the word's start, or just after ``--name=``, ``-Name:``, ``Key=``."""
    problem: str = ""


def _word(template: str, slot: Slot, shell: Shell) -> _Word:
    """The plain word around a bare placeholder, where its quoting starts, and any problem."""
    found = next(m for m in _WORD[shell].finditer(template) if m.start() <= slot.start < m.end())
    start, end = found.span()
    for char in (template[start - 1 : start], template[end : end + 1]):
        if not char or char.isspace():
            continue
        if shell is Shell.PYTHON:
            if _PYTHON_GLUE.match(char):
                return _Word(start, end, start, f"it touches {char!r}; write it on its own")
        elif char not in _NEIGHBOURS[shell]:
            return _Word(start, end, start, f"it touches {char!r}; write it as a word of its own")
    prefix = template[start : slot.start]
    if prefix.startswith("-") or (shell is Shell.CMD and prefix.startswith("/")):
        separators = {Shell.SH: "=", Shell.POWERSHELL: ":"}.get(shell, ":=")
        at = min((prefix.index(s) for s in separators if s in prefix), default=-1)
        if at < 0:
            return _Word(start, end, start, "it is part of an option name")
        return _Word(start, end, start + at + 1)
    if "=" in prefix and shell in (Shell.SH, Shell.POWERSHELL):
        return _Word(start, end, start + prefix.index("=") + 1)
    return _Word(start, end, start)


def _problem(template: str, slot: Slot, shell: Shell) -> TemplateProblem | None:
    if slot.context is Context.RAW:
        reason = f"it is inside {slot.context.value}, where no escaping holds"
        return TemplateProblem(slot.name, slot.start, "unsafe", reason)
    if slot.context is not Context.BARE:
        reason = f"it is already inside {slot.context.value}; write it bare"
        return TemplateProblem(slot.name, slot.start, "quoted", reason)
    if shell is not Shell.TEXT and (problem := _word(template, slot, shell).problem):
        return TemplateProblem(slot.name, slot.start, "unsafe", problem)
    return None


def check_template(template: str, shell: Shell | str) -> list[TemplateProblem]:
    """Every placeholder of ``template`` that is quoted already or sits where none is safe.

    An empty list means :func:`fill_command` quotes every placeholder plainly.
    Meant for a test over every shipped command.
    """
    rules = Shell.of(shell)
    found = (_problem(template, slot, rules) for slot in _SCANNERS[rules](template))
    return [problem for problem in found if problem is not None]


def fill_command(template: str, values: Mapping[str, Value], shell: Shell | str) -> str:
    """``template`` with each ``{name}`` in ``values`` filled in, quoted for ``shell``.

    Other braces (``{ $_ }``, ``@{Add="x"}``) and placeholders without a value
    stay as written. Raises :class:`~probes.shell_quote.UnquotableValue` for a
    value that cannot go in safely (a control or invisible character; for
    ``sh`` and ``cmd`` also one that would start a word with ``-`` and be read
    as an option), and :class:`~probes.shell_quote.UnsafeTemplate` when a
    placeholder with a value sits where no quoting helps (see :func:`check_template`).
    """
    rules = Shell.of(shell)

    def value_of(name: str) -> str | None:
        value = values.get(name)
        if value is None or value == "":
            return None
        text = str(value)
        if isinstance(value, str):
            check_value(text)
        return text

    def is_text(name: str) -> bool:
        return isinstance(values.get(name), str) and value_of(name) is not None

    def filled(start: int, end: int) -> str:
        return PLACEHOLDER.sub(lambda m: value_of(m.group(1)) or m.group(0), template[start:end])

    out: list[str] = []
    index = 0
    for slot in _SCANNERS[rules](template):
        if slot.start < index or value_of(slot.name) is None:
            continue  # inside a word already filled, or no value: stays as written
        problem = _problem(template, slot, rules)
        if problem is not None and problem.kind == "unsafe":
            raise UnsafeTemplate(f"cannot fill {problem} in {template!r}")
        if rules is Shell.TEXT or slot.context is not Context.BARE:
            value = value_of(slot.name) or ""
            inside = quote_inside(value, rules, slot.quote) if is_text(slot.name) else value
            out.append(template[index : slot.start] + inside)
            index = slot.end
            continue
        word = _word(template, slot, rules)
        text = filled(word.split, word.end)
        names = [m.group(1) for m in PLACEHOLDER.finditer(template, word.split, word.end)]
        if word.split == word.start and text.startswith("-") and rules in (Shell.SH, Shell.CMD):
            raise UnquotableValue(
                f"{text!r} starts with '-': the command would read an option", value=text
            )
        shown = quote(text, rules) if any(is_text(name) for name in names) else text
        out.append(template[index : word.split] + shown)
        index = word.end
    out.append(template[index:])
    return "".join(out)
