"""Migration checklist templates: the phases, items, help and checks, read from TOML.

A template (``workspace/templates/<id>.toml``) holds both languages side by
side; :func:`load_template` picks one and returns frozen data. Help texts and
remediation commands may name placeholders (``{domain}``, ``{domain_dashed}``,
``{mailbox}``, ``{source_mailbox}``, ``{tenant}``) that :meth:`TemplateItem.render`
fills in; anything else in braces (PowerShell ``$true``, ``{ $_ }`` script
blocks, ``@{Add="..."}`` hashtables) is left alone. Help and notes are text;
a command's values are quoted for the shell it is labelled with
(:mod:`probes.commands.template`), and a command whose value cannot be quoted
safely is refused with a message instead (:mod:`probes.commands.refusal`).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from probes.commands.quote import SHELL_LABELS
from probes.commands.refusal import fill_or_refuse
from probes.commands.template import check_template
from workspace.checklist.check_spec import CheckSpec, TemplateError, choices

LANGS: tuple[str, ...] = ("en", "es")
PLACEHOLDERS: tuple[str, ...] = ("domain", "domain_dashed", "mailbox", "source_mailbox", "tenant")
TEMPLATES_PACKAGE = "workspace.checklist"
TEMPLATES_DIR = "templates"

ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` whose name is in ``values`` replaced, as text.

    For help and notes, never for commands (:meth:`RemediationCommand.render`
    quotes those). Other braces (``{ $_ }``, ``@{Add="x"}``, unknown or missing
    names) stay as they are.
    """

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else value

    return PLACEHOLDER.sub(one, text)


@dataclass(frozen=True)
class RemediationCommand:
    """A command that does (or checks) an item, in the shell it runs in.

    ``refused`` is set by :meth:`render` when a value could not be quoted
    safely for ``shell``: ``command`` then holds the message saying why (in the
    checklist's language), never the command, and there is nothing to copy.
    """

    shell: str
    command: str
    note: str = ""
    refused: bool = False

    def render(self, values: Mapping[str, str], lang: str = "en") -> RemediationCommand:
        """The command with the values quoted for its shell, the note filled as text.

        A value that cannot be quoted safely refuses the command (``refused``,
        the message in ``lang``) rather than show it.
        """
        filled = fill_or_refuse(self.command, values, self.shell, lang)
        return replace(
            self,
            command=filled.text,
            note=fill_placeholders(self.note, values),
            refused=filled.refused,
        )


@dataclass(frozen=True)
class TemplateItem:
    """One step of the checklist, in one language."""

    id: str
    phase: str
    title: str
    help: str
    commands: tuple[RemediationCommand, ...]
    check: CheckSpec | None

    def render(self, values: Mapping[str, str], lang: str = "en") -> TemplateItem:
        """The item with placeholders filled in (title and help as text, commands quoted)."""
        return replace(
            self,
            title=fill_placeholders(self.title, values),
            help=fill_placeholders(self.help, values),
            commands=tuple(c.render(values, lang) for c in self.commands),
        )


@dataclass(frozen=True)
class TemplatePhase:
    """A phase of the migration and its items, in order."""

    id: str
    title: str
    items: tuple[TemplateItem, ...]


@dataclass(frozen=True)
class ChecklistTemplate:
    """A checklist template in one language."""

    id: str
    version: int
    lang: str
    title: str
    description: str
    phases: tuple[TemplatePhase, ...]

    @property
    def items(self) -> tuple[TemplateItem, ...]:
        """Every item, phase after phase."""
        return tuple(item for phase in self.phases for item in phase.items)

    def item(self, item_id: str) -> TemplateItem:
        """One item by id (KeyError naming close ids otherwise)."""
        ids = [item.id for item in self.items]
        for item in self.items:
            if item.id == item_id:
                return item
        close = difflib.get_close_matches(item_id, ids, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"no item {item_id!r} in template {self.id!r}{hint}")


def _table(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TemplateError(f"{where}: expected a table, got {type(value).__name__}")
    return value


def _keys(data: dict[str, object], where: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - set(data))
    if missing:
        raise TemplateError(f"{where}: missing {choices(missing)}")
    extra = sorted(set(data) - required - optional)
    if extra:
        known = choices(sorted(required | optional))
        raise TemplateError(f"{where}: unknown key {choices(extra)} (known: {known})")


def _check_placeholders(text: str, where: str) -> None:
    for name in PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"{where}: unknown placeholder {{{name}}}; known: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: expected non-empty text")
    return value.strip()


def _localized(value: object, where: str, lang: str) -> str:
    """The ``lang`` text of an ``{ en = ..., es = ... }`` table; every language must be there."""
    data = _table(value, where)
    for code in LANGS:
        if code not in data:
            raise TemplateError(f"{where}: no {code!r} text (every text needs {choices(LANGS)})")
    extra = sorted(set(data) - set(LANGS))
    if extra:
        raise TemplateError(f"{where}: unknown language {choices(extra)}; use {choices(LANGS)}")
    texts = {code: _text(data[code], f"{where}.{code}") for code in LANGS}
    return texts[lang]


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise TemplateError(f"{where}: id {value!r} is not kebab-case (a-z, 0-9, single dashes)")
    return value


def _array(value: object, where: str, *, allow_empty: bool = False) -> list[object]:
    if not isinstance(value, list):
        raise TemplateError(f"{where}: expected an array, got {type(value).__name__}")
    if not value and not allow_empty:
        raise TemplateError(f"{where}: is empty")
    return value


def _command(value: object, where: str, lang: str) -> RemediationCommand:
    data = _table(value, where)
    _keys(data, where, {"shell", "command"}, {"note"})
    shell = _text(data["shell"], f"{where}.shell")
    if shell.lower() not in SHELL_LABELS:
        known = choices(sorted(SHELL_LABELS))
        raise TemplateError(f"{where}.shell: unknown shell {shell!r}; one of {known}")
    command = _text(data["command"], f"{where}.command")
    _check_placeholders(command, f"{where}.command")
    for problem in check_template(command, shell):
        if problem.kind == "unsafe":
            raise TemplateError(f"{where}.command: {problem}")
    note = ""
    if "note" in data:
        note = _localized(data["note"], f"{where}.note", lang)
        for code in LANGS:
            _check_placeholders(_localized(data["note"], f"{where}.note", code), f"{where}.note")
    return RemediationCommand(shell=shell, command=command, note=note)


def _check(value: object, where: str) -> CheckSpec:
    data = _table(value, where)
    try:
        return CheckSpec.from_dict(data)
    except TemplateError as exc:
        raise TemplateError(f"{where}: {exc}") from None


def _item(value: object, where: str, phase: str, lang: str, seen: dict[str, str]) -> TemplateItem:
    data = _table(value, where)
    item_id = _id(data["id"], where) if "id" in data else ""
    where = f"{where} ({item_id})" if item_id else where
    _keys(data, where, {"id", "title", "help"}, {"commands", "check"})
    if item_id in seen:
        raise TemplateError(f"{where}: duplicate item id {item_id!r} (first in {seen[item_id]})")
    seen[item_id] = where
    title = _localized(data["title"], f"{where}.title", lang)
    help_text = _localized(data["help"], f"{where}.help", lang)
    for code in LANGS:
        _check_placeholders(_localized(data["help"], f"{where}.help", code), f"{where}.help")
    commands = tuple(
        _command(c, f"{where}.commands[{n}]", lang)
        for n, c in enumerate(
            _array(data.get("commands", []), f"{where}.commands", allow_empty=True)
        )
    )
    check = _check(data["check"], f"{where}.check") if "check" in data else None
    return TemplateItem(
        id=item_id, phase=phase, title=title, help=help_text, commands=commands, check=check
    )


def parse_template(text: str, lang: str) -> ChecklistTemplate:
    """A template from its TOML text, in ``lang`` (TemplateError naming what is wrong).

    Every text must be there in every language of :data:`LANGS`, whatever ``lang`` is.
    """
    if lang not in LANGS:
        raise TemplateError(f"unknown language {lang!r}; one of {choices(LANGS)}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"the template is not valid TOML: {exc}") from None
    _keys(data, "template", {"id", "version", "title", "phases"}, {"description"})
    template_id = _id(data["id"], "template")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TemplateError(f"template: version must be a positive integer, not {version!r}")
    title = _localized(data["title"], "template.title", lang)
    description = ""
    if "description" in data:
        description = _localized(data["description"], "template.description", lang)
    seen_items: dict[str, str] = {}
    phase_ids: set[str] = set()
    phases: list[TemplatePhase] = []
    for n, raw in enumerate(_array(data["phases"], "template.phases")):
        where = f"phases[{n}]"
        phase = _table(raw, where)
        phase_id = _id(phase["id"], where) if "id" in phase else ""
        where = f"{where} ({phase_id})" if phase_id else where
        _keys(phase, where, {"id", "title", "items"}, set())
        if phase_id in phase_ids:
            raise TemplateError(f"{where}: duplicate phase id {phase_id!r}")
        phase_ids.add(phase_id)
        items = tuple(
            _item(item, f"{where}.items[{m}]", phase_id, lang, seen_items)
            for m, item in enumerate(_array(phase["items"], f"{where}.items"))
        )
        phases.append(
            TemplatePhase(
                id=phase_id, title=_localized(phase["title"], f"{where}.title", lang), items=items
            )
        )
    clash = sorted(phase_ids & set(seen_items))
    if clash:
        raise TemplateError(f"template: ids used for both a phase and an item: {choices(clash)}")
    return ChecklistTemplate(
        id=template_id,
        version=version,
        lang=lang,
        title=title,
        description=description,
        phases=tuple(phases),
    )


def _templates_dir() -> Traversable:
    return resources.files(TEMPLATES_PACKAGE).joinpath(TEMPLATES_DIR)


def available_templates() -> list[str]:
    """The ids of the shipped templates (``workspace/templates/*.toml``), sorted."""
    folder = _templates_dir()
    if not folder.is_dir():
        return []
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


@lru_cache(maxsize=16)
def load_template(template_id: str, lang: str = "en") -> ChecklistTemplate:
    """A shipped template in ``lang`` (TemplateError for an unknown id or language)."""
    if lang not in LANGS:
        raise TemplateError(f"unknown language {lang!r}; one of {choices(LANGS)}")
    known = available_templates()
    if template_id not in known:
        raise TemplateError(
            f"unknown template {template_id!r}; one of {choices(known) or '(none installed)'}"
        )
    text = _templates_dir().joinpath(f"{template_id}.toml").read_text(encoding="utf-8")
    try:
        template = parse_template(text, lang)
    except TemplateError as exc:
        raise TemplateError(f"template {template_id!r}: {exc}") from None
    if template.id != template_id:
        raise TemplateError(
            f"template file {template_id}.toml declares id {template.id!r}; they must match"
        )
    return template
