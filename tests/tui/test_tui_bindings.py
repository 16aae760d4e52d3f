"""Every key binding of the app has an id, so the user's keymap can rebind it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

import tui


def test_every_binding_has_an_id() -> None:
    missing: list[str] = []
    checked = 0
    for module_info in pkgutil.walk_packages(tui.__path__, "tui."):
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, DOMNode) or cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                checked += 1
                if not isinstance(binding, Binding) or not binding.id:
                    missing.append(f"{module.__name__}.{name}: {binding}")
    assert checked > 40
    assert not missing
