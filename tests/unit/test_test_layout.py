"""Every test module lives in the folder of its kind, so it carries that kind's marker."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import KINDS

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_is_in_a_kind_folder() -> None:
    modules = sorted(path.relative_to(TESTS) for path in TESTS.rglob("test_*.py"))
    assert len(modules) > 40
    outside = [str(path) for path in modules if path.parts[0] not in KINDS]
    assert not outside, f"move these into tests/{{{','.join(KINDS)}}}/: {outside}"


def test_each_kind_folder_is_a_package_with_tests() -> None:
    for kind in KINDS:
        assert (TESTS / kind / "__init__.py").is_file(), kind
        assert any((TESTS / kind).glob("test_*.py")), kind
