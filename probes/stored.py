"""Reading stored results back: one error type and the field readers ``from_dict`` uses.

A stored result is JSON written by a result's ``to_dict``. Reading it back
checks each field's type and raises :class:`StoredResultError` (a
``ValueError``) naming the field when one is wrong; keys it does not know are
ignored, so a result written by a newer release still reads.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)


class StoredResultError(ValueError):
    """A stored result that cannot be read back (a field missing or of the wrong type)."""


def record(data: object, what: str) -> Mapping[str, Any]:
    """``data`` as a JSON object, or StoredResultError."""
    if not isinstance(data, Mapping):
        raise StoredResultError(f"{what}: expected an object, got {type(data).__name__}")
    return data


def _get(data: Mapping[str, Any], key: str, what: str, required: bool) -> Any:
    if key not in data:
        if required:
            raise StoredResultError(f"{what}: the field {key!r} is missing")
        return None
    return data[key]


def text(data: Mapping[str, Any], key: str, what: str, default: str | None = None) -> str:
    """A string field; required when ``default`` is None (null reads as ``default``)."""
    value = _get(data, key, what, required=default is None)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise StoredResultError(f"{what}.{key}: expected a string, got {type(value).__name__}")
    return value


def optional_text(data: Mapping[str, Any], key: str, what: str) -> str | None:
    """A string field that may be null or missing."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise StoredResultError(f"{what}.{key}: expected a string, got {type(value).__name__}")
    return value


def integer(data: Mapping[str, Any], key: str, what: str) -> int:
    """A required integer field (a boolean is not one)."""
    value = _get(data, key, what, required=True)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoredResultError(f"{what}.{key}: expected an integer, got {type(value).__name__}")
    return value


def optional_integer(data: Mapping[str, Any], key: str, what: str) -> int | None:
    """An integer field that may be null or missing."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoredResultError(f"{what}.{key}: expected an integer, got {type(value).__name__}")
    return value


def number(data: Mapping[str, Any], key: str, what: str, default: float = 0.0) -> float:
    """A number field (missing or null reads as ``default``)."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoredResultError(f"{what}.{key}: expected a number, got {type(value).__name__}")
    return float(value)


def flag(data: Mapping[str, Any], key: str, what: str, default: bool) -> bool:
    """A boolean field (missing or null reads as ``default``)."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise StoredResultError(f"{what}.{key}: expected true or false, got {value!r}")
    return value


def items(data: Mapping[str, Any], key: str, what: str) -> list[Any]:
    """A list field (missing or null reads as empty)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise StoredResultError(f"{what}.{key}: expected a list, got {type(value).__name__}")
    return value


def texts(data: Mapping[str, Any], key: str, what: str) -> list[str]:
    """A list of strings (missing or null reads as empty)."""
    found = items(data, key, what)
    if not all(isinstance(item, str) for item in found):
        raise StoredResultError(f"{what}.{key}: expected a list of strings")
    return list(found)


def choice(kind: type[E], value: object, what: str) -> E:
    """An enum member from its stored value."""
    try:
        return kind(value)
    except ValueError:
        raise StoredResultError(f"{what}: {value!r} is not a known {kind.__name__}") from None
