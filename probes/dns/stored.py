"""Reading a stored DNS audit back: typed values out of its JSON, or one clear error.

The history keeps each audit as the JSON its ``to_dict`` wrote. The
``from_dict`` classmethods of the audit's models read it back through these
helpers, which accept exactly that JSON (keys they do not know are ignored)
and raise :class:`StoredAuditError` for anything else, naming the field.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from probes.stored import StoredResultError

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class StoredAuditError(StoredResultError):
    """A stored DNS audit (or a part of it) is not what ``to_dict`` writes."""


def record(data: object, what: str) -> Mapping[str, Any]:
    """``data`` as a JSON object with text keys."""
    if not isinstance(data, Mapping) or not all(isinstance(key, str) for key in data):
        raise StoredAuditError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def _field(data: Mapping[str, Any], key: str, what: str) -> object:
    if key not in data:
        raise StoredAuditError(f"{what}: the field {key!r} is missing")
    return data[key]


def text(data: Mapping[str, Any], key: str, what: str) -> str:
    """A required text field."""
    value = _field(data, key, what)
    if not isinstance(value, str):
        raise StoredAuditError(f"{what}.{key}: expected text, got {type(value).__name__}")
    return value


def optional_text(data: Mapping[str, Any], key: str, what: str) -> str | None:
    """A text field that may be null."""
    value = _field(data, key, what)
    return None if value is None else text(data, key, what)


def integer(data: Mapping[str, Any], key: str, what: str) -> int:
    """A required integer field (a JSON boolean is not one)."""
    value = _field(data, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoredAuditError(f"{what}.{key}: expected an integer, got {type(value).__name__}")
    return value


def optional_integer(data: Mapping[str, Any], key: str, what: str) -> int | None:
    """An integer field that may be null."""
    value = _field(data, key, what)
    return None if value is None else integer(data, key, what)


def boolean(data: Mapping[str, Any], key: str, what: str) -> bool:
    """A required true/false field."""
    value = _field(data, key, what)
    if not isinstance(value, bool):
        raise StoredAuditError(f"{what}.{key}: expected true or false, got {value!r:.40}")
    return value


def text_list(data: Mapping[str, Any], key: str, what: str) -> list[str]:
    """A required list of texts."""
    value = _field(data, key, what)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StoredAuditError(f"{what}.{key}: expected a list of texts")
    return list(value)


def objects(
    data: Mapping[str, Any], key: str, what: str, read: Callable[[Mapping[str, Any]], T]
) -> list[T]:
    """A required list of JSON objects, each read by ``read``."""
    value = _field(data, key, what)
    if not isinstance(value, list):
        raise StoredAuditError(f"{what}.{key}: expected a list, got {type(value).__name__}")
    return [read(record(item, f"{what}.{key}[{index}]")) for index, item in enumerate(value)]


def choice(data: Mapping[str, Any], key: str, what: str, kind: type[E]) -> E:
    """A required field holding the value of one member of ``kind``."""
    value = _field(data, key, what)
    for member in kind:
        if member.value == value:
            return member
    choices = ", ".join(str(member.value) for member in kind)
    raise StoredAuditError(f"{what}.{key}: {value!r:.40} is not one of {choices}")
