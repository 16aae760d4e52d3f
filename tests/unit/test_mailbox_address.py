"""Mailbox addresses (RFC 5321/5322 dot-atom, IDN domains): what is accepted and refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workspace.accounts.address import address_problem, ascii_domain, is_mailbox_address


@pytest.mark.parametrize(
    "address",
    [
        "ops@example.com",
        "first.last+tag@sub.example.co",
        "o'brien@example.ie",  # atext allows ' (so commands must quote it)
        "a$b`c|d&e@example.com",  # and these
        "josé@correos.cl",  # RFC 6531 UTF-8 local part
        "ventas@ñandú.cl",  # IDN domain
        "imap@lab.test",
    ],
)
def test_accepted(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("no at", "no @"),
        ("@example.com", "nothing before the @"),
        ("ops@", "nothing after the @"),
        ("a..b@example.com", "two dots"),
        (".a@example.com", "dot at the start"),
        ('"quoted"@example.com', "quoted local parts"),
        ("a b@example.com", "' '"),
        ("a;rm -rf ~@example.com", "';'"),
        ("a$(id)@example.com", "'('"),
        ("a\x1b[2J@example.com", "'\\x1b'"),
        ("a\u202e@example.com", "'\\u202e'"),
        ("ops@localhost", "no dot"),
        ("ops@exa mple.com", "not a valid host name"),
        ("ops@-bad.com", "not a valid host name"),
        ("ops@[127.0.0.1]", "not a valid host name"),
        ("x" * 65 + "@example.com", "longer than 64"),
        ("ops@" + "a" * 250 + ".com", "longer than"),
    ],
)
def test_refused_with_the_reason(address: str, why: str) -> None:
    problem = address_problem(address)
    assert problem is not None and why in problem, problem


def test_idn_domains_have_an_ascii_form() -> None:
    assert ascii_domain("ñandú.cl") == "xn--and-6ma2c.cl"


@given(st.text(max_size=80))
def test_any_text_is_judged_without_error(text: str) -> None:
    verdict = address_problem(text)
    assert verdict is None or isinstance(verdict, str)
    if verdict is None:  # an accepted address has no space, control or shell grouping
        assert "@" in text
        assert not any(ch in text for ch in ' \t\r\n\x00()<>;[]\\,"')
        assert all(ch.isprintable() for ch in text)


@given(st.from_regex(r"\A[a-z0-9]{1,20}(\.[a-z0-9]{1,10}){0,2}@[a-z]{1,20}\.[a-z]{2,6}\Z"))
def test_ordinary_addresses_pass(address: str) -> None:
    assert is_mailbox_address(address)
