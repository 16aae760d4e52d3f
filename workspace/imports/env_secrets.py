"""Telling a real secret in a ``.env`` from a placeholder, and an app password from a password."""

from __future__ import annotations

import re

from workspace.accounts.model import guess_provider
from workspace.imports.dotenv import EnvEntry

_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "changeit",
        "password",
        "passwd",
        "pass",
        "secret",
        "mypassword",
        "yourpassword",
        "yourapppassword",
        "apppassword",
        "yoursecret",
        "contraseña",
        "contrasena",
        "tucontraseña",
        "tucontrasena",
        "clave",
        "todo",
        "tbd",
        "fixme",
        "placeholder",
        "example",
        "none",
        "null",
        "redacted",
        "hidden",
        "secreto",
        "passwordhere",
        "enterpassword",
        "insertpassword",
    }
)
_PLACEHOLDER_SHAPES = (
    re.compile(r"^\[.*\]$|^<.*>$|^\{.*\}$", re.S),  # [CONTRASEÑA_SEGURA], <password>
    re.compile(r"^\$\{.*\}$|^\$[A-Za-z_][A-Za-z0-9_]*$", re.S),  # ${SMTP_PASSWORD}
    re.compile(r"^([x*.?#_-])\1*$", re.I),  # xxx, ***, ...
    re.compile(
        r"^(your|my|tu|su)[_\- .][a-zñ_\- .]*(pass|contrase|clave|secret|token)[a-zñ_\- .]*$",
        re.I,
    ),
)
_APP_PASSWORD = re.compile(r"^[A-Za-z]{4}(?: ?[A-Za-z]{4}){3}$")


def is_placeholder(value: str) -> bool:
    """True for values like ``[CONTRASEÑA_SEGURA]``, ``changeme``, ``<password>``, ``***``."""
    text = value.strip()
    if any(shape.search(text) for shape in _PLACEHOLDER_SHAPES):
        return True
    return re.sub(r"[\s_.-]+", "", text.lower()) in _PLACEHOLDER_WORDS


def is_gmail_host(host: str) -> bool:
    """True for Gmail's servers (where a 16-letter secret is an app password)."""
    host = host.lower().rstrip(".")
    return guess_provider(host) == "gmail" or host.endswith(("gmail.com", "googlemail.com"))


def secret_of(entry: EnvEntry | None, gmail: bool, warnings: list[str]) -> tuple[str | None, bool]:
    """(secret, looks like an app password) of a password entry."""
    if entry is None:
        return None, False
    value = entry.value
    if not value.strip():
        warnings.append(f"{entry.key} is blank; no secret stored")
        return None, False
    if is_placeholder(value):
        warnings.append(f"{entry.key} looks like a placeholder; not stored")
        return None, False
    app_key = entry.key.upper().endswith("APP_PASSWORD")
    if (gmail or app_key) and _APP_PASSWORD.match(value.strip()):
        return value.replace(" ", "").strip(), True
    return value, app_key
