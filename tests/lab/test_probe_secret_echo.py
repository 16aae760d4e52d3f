"""A server that echoes the secret back never gets it shown, recorded or stored.

Real echoing peers on loopback (tests/labkit/hostile_talk.py): SMTP with PLAIN, LOGIN and
XOAUTH2, IMAP with LOGIN, PLAIN and XOAUTH2. The echo holds the password, the SASL blob,
the blob decoded, the blob cut short and the password cut short at the end of a line.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from probes.mail.model import (
    AuthMethod,
    Credentials,
    PhaseName,
    Protocol,
    Security,
    Target,
    Timeouts,
)
from probes.mail.runner import ProbeOptions, run_probe
from probes.mail.secrets_mask import MASK, SecretMask, redact, secret_variants
from tests.labkit.hostile import HostilePeer

Start = Callable[..., HostilePeer]
USER = "ana@contoso.test"
SECRET = "Hunter2-correct-horse-battery"
OPTIONS = ProbeOptions(timeouts=Timeouts(1.0, 1.0, 1.0, 1.0, 1.0), allow_plaintext_auth=True)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden(secret: str) -> list[str]:
    """What must appear nowhere: the secret, its start, and every encoding we send."""
    plain = b64(f"\0{USER}\0{secret}")
    xoauth = b64(f"user={USER}\x01auth=Bearer {secret}\x01\x01")
    return [secret, secret[:-2], b64(secret), plain, plain[:-6], xoauth, xoauth[:-6]]


def everything(result: object) -> str:
    data = result.to_dict()  # type: ignore[attr-defined]
    return json.dumps(data, ensure_ascii=False) + json.dumps(data)


@pytest.mark.parametrize(
    ("protocol", "method"),
    [
        (Protocol.SMTP, AuthMethod.PLAIN),
        (Protocol.SMTP, AuthMethod.LOGIN),
        (Protocol.SMTP, AuthMethod.XOAUTH2),
        (Protocol.IMAP, AuthMethod.LOGIN),
        (Protocol.IMAP, AuthMethod.PLAIN),
        (Protocol.IMAP, AuthMethod.XOAUTH2),
    ],
)
async def test_an_echoed_secret_is_masked_everywhere(
    hostile_peer: Start, protocol: Protocol, method: AuthMethod
) -> None:
    peer = hostile_peer("echo", protocol=protocol.value)
    creds = Credentials(USER, SECRET, method)
    result = await run_probe(Target(peer.host, peer.port, protocol, Security.NONE, creds), OPTIONS)
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.kind, auth
    text = everything(result) + "".join(f"{d.title} {d.evidence}" for d in result.diagnoses)
    for shown in forbidden(SECRET):
        assert shown not in text, (shown, auth.summary, auth.transcript)
    assert MASK in text
    assert USER in text  # the login name is not a secret


async def test_secret_with_quotes_is_masked_in_its_imap_quoted_form(hostile_peer: Start) -> None:
    secret = 'pa"ss\\word-long'
    peer = hostile_peer("echo", protocol="imap")
    creds = Credentials(USER, secret, AuthMethod.LOGIN)
    result = await run_probe(
        Target(peer.host, peer.port, Protocol.IMAP, Security.NONE, creds), OPTIONS
    )
    text = everything(result)
    assert 'pa\\"ss\\\\word' not in text and "ss\\word-long" not in text
    assert result.phase(PhaseName.AUTH).kind == "imap.login_failed"  # type: ignore[union-attr]


def test_mask_covers_every_encoding_and_cut_echoes() -> None:
    mask = SecretMask.of([SECRET], [USER])
    for shown in forbidden(SECRET):
        assert shown not in mask(f"535 echo {shown}"), shown
    assert mask("nothing secret here") == "nothing secret here"
    assert mask(f"starts {SECRET[:6]}") == f"starts {MASK}"
    assert mask(b64(f"\0{USER}\0")) == b64(f"\0{USER}\0")  # the user part alone is not secret


def test_short_secrets_are_not_masked_and_history_uses_the_same_variants() -> None:
    assert SecretMask.of(["abc"], [USER])("abc abc") == "abc abc"
    assert redact(f'"{b64(SECRET)}"', [SECRET], [USER]) == f'"{MASK}"'
    assert set(secret_variants(SECRET, [USER])) >= {SECRET, b64(SECRET)}
    assert not SecretMask()
    assert SecretMask().facts({"a": ["x"]}) == {"a": ["x"]}
