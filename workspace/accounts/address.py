"""Mailbox addresses as RFC 5321/5322 define them (dot-atom local part), IDN domains allowed.

Addresses come from people and files (forms, ``.env``, migration CSVs) and end
up in suggested commands, so they are checked here once. The RFC's ``atext``
allows ``$``, `````, ``'``, ``|`` and ``&`` in a local part, which is why every
command that shows one quotes it for its shell; what is refused here is what
no mail system accepts: spaces, controls, brackets, quoted local parts
(neither Exchange Online nor Gmail takes them), empty or too long parts, and
domains that are not host names.
"""

from __future__ import annotations

import re

import idna

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_ATOM = re.compile(rf"^[{_ATEXT}\u0080-\U0010ffff]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _local_problem(local: str) -> str | None:
    if not local:
        return "nothing before the @"
    if len(local.encode("utf-8")) > MAX_LOCAL:
        return f"the part before the @ is longer than {MAX_LOCAL} bytes"
    if local.startswith('"'):
        return "quoted local parts are not accepted by Microsoft 365 or Gmail"
    for atom in local.split("."):
        if not atom:
            return "a dot at the start or end, or two dots in a row, before the @"
        if not _ATOM.match(atom) or not all(ch.isprintable() for ch in atom):
            bad = next(ch for ch in atom if not _ATOM.match(ch) or not ch.isprintable())
            return f"the character {bad!r} is not allowed before the @"
    return None


def ascii_domain(domain: str) -> str:
    """The domain in ASCII (punycode for IDN), or ``ValueError`` naming the problem."""
    text = domain.rstrip(".") if domain.endswith(".") and domain != "." else domain
    if not text:
        raise ValueError("nothing after the @")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"the domain {domain!r} is not a valid host name ({exc})") from None
    if len(ascii_name) > MAX_DOMAIN:
        raise ValueError(f"the domain is longer than {MAX_DOMAIN} characters")
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise ValueError(f"the domain {domain!r} has no dot (user@example.com)")
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(f"the domain {domain!r} is not a valid host name")
    return ascii_name


def address_problem(text: str) -> str | None:
    """Why ``text`` is not a mailbox address (``None`` when it is one)."""
    if len(text) > MAX_ADDRESS:
        return f"longer than {MAX_ADDRESS} characters"
    local, at, domain = text.rpartition("@")
    if not at:
        return "no @ (user@domain)"
    problem = _local_problem(local)
    if problem is not None:
        return problem
    try:
        ascii_domain(domain)
    except ValueError as exc:
        return str(exc)
    return None


def is_mailbox_address(text: str) -> bool:
    """True when ``text`` is a mailbox address (``user@example.com``, IDN allowed)."""
    return address_problem(text) is None
