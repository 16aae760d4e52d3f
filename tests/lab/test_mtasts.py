"""MTA-STS and TLS-RPT: record and policy parsing, and fetching policies from a lab HTTPS server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.dns.mtasts import (
    POLICY_SIZE_LIMIT,
    fetch_policy,
    parse_policy,
    parse_sts_txt,
    parse_tlsrpt,
    policy_covers,
)
from tests.labkit.https_server import LabHttpsServer, free_port

POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: *.mail.protection.outlook.com\r\n"
    b"mx: backup.m365.lab.test\r\nmax_age: 604800\r\n"
)
PATH = "/.well-known/mta-sts.txt"


# --- TXT records ----------------------------------------------------------------------------


def test_sts_txt_good() -> None:
    record = parse_sts_txt("v=STSv1; id=20261121T000000;")
    assert (record.version, record.id, record.errors) == ("STSv1", "20261121T000000", [])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("v=STSv1;", "no id="),
        ("v=STSv1; id=2026-11-21", "1 to 32"),
        ("v=STSv1; id=" + "a" * 33, "1 to 32"),
        ("id=1; v=STSv1", "first"),
        ("v=STSv2; id=1", "STSv1"),
        ("id=1", "no v="),
        ("v=STSv1;; id=1", "empty field"),
    ],
)
def test_sts_txt_errors(text: str, fragment: str) -> None:
    assert any(fragment in e for e in parse_sts_txt(text).errors)


def test_tlsrpt_good() -> None:
    record = parse_tlsrpt("v=TLSRPTv1; rua=mailto:tls@m365.lab.test, https://r.lab.test/tls")
    assert record.errors == []
    assert record.rua == ["mailto:tls@m365.lab.test", "https://r.lab.test/tls"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("v=TLSRPTv1", "no rua="),
        ("v=TLSRPTv1; rua=http://r.lab.test", "https"),
        ("v=TLSRPTv1; rua=ftp://r.lab.test", "only mailto"),
        ("v=TLSRPTv1; rua=mailto:nobody", "e-mail"),
        ("v=TLSRPTv2; rua=mailto:a@b.test", "TLSRPTv1"),
    ],
)
def test_tlsrpt_errors(text: str, fragment: str) -> None:
    assert any(fragment in e for e in parse_tlsrpt(text).errors)


# --- policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_policy_good(newline: str) -> None:
    text = POLICY.decode().replace("\r\n", newline)
    policy = parse_policy(text)
    assert policy.errors == [] and policy.warnings == []
    assert (policy.version, policy.mode, policy.max_age) == ("STSv1", "enforce", 604800)
    assert policy.mx == ["*.mail.protection.outlook.com", "backup.m365.lab.test"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: STSv1\nmode: strict\nmx: a.test\nmax_age: 86400\n", "enforce, testing"),
        ("version: STSv1\nmode: enforce\nmx: a.test\n", "no max_age"),
        ("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n", "above"),
        ("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n", "number of seconds"),
        ("version: STSv1\nmode: enforce\nmax_age: 86400\n", "without any mx"),
        ("version: STSv1\nmode: enforce\nmx: *.*.test\nmax_age: 86400\n", "not a host"),
        ("mode: enforce\nmx: a.test\nmax_age: 86400\n", "no version"),
        ("version: STSv2\nmode: none\nmax_age: 86400\n", "must be STSv1"),
        ("<html>nope</html>", "not 'key: value'"),
    ],
)
def test_policy_errors(text: str, fragment: str) -> None:
    errors = parse_policy(text).errors
    assert any(fragment in e for e in errors), errors


def test_policy_short_max_age_warns_in_enforce_only() -> None:
    enforce = parse_policy("version: STSv1\nmode: enforce\nmx: a.lab.test\nmax_age: 3600\n")
    testing = parse_policy("version: STSv1\nmode: testing\nmx: a.lab.test\nmax_age: 3600\n")
    assert enforce.errors == [] and any("below one day" in w for w in enforce.warnings)
    assert testing.warnings == []


def test_policy_mode_none_needs_no_mx() -> None:
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").errors == []


def test_policy_covers_wildcard_is_one_label() -> None:
    policy = parse_policy(POLICY.decode())
    hosts = [
        "contoso-com.mail.protection.outlook.com.",
        "CONTOSO-COM.Mail.Protection.Outlook.com",
        "a.b.mail.protection.outlook.com",
        "mail.protection.outlook.com",
        "backup.m365.lab.test",
        "aspmx.l.google.com",
    ]
    assert policy_covers(policy, hosts) == [
        "a.b.mail.protection.outlook.com",
        "mail.protection.outlook.com",
        "aspmx.l.google.com",
    ]


@given(st.text())
def test_parsers_never_raise(text: str) -> None:
    json.dumps(parse_policy(text).to_dict())
    json.dumps(parse_sts_txt(text).to_dict())
    json.dumps(parse_tlsrpt(text).to_dict())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["version", "mode", "mx", "max_age", "x", ""]),
            st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=30),
        ),
        max_size=8,
    ),
    st.sampled_from(["\r\n", "\n"]),
)
def test_policy_parser_never_raises_on_policy_like_text(
    lines: list[tuple[str, str]], newline: str
) -> None:
    policy = parse_policy(newline.join(f"{k}: {v}" for k, v in lines))
    policy_covers(policy, ["mx1.lab.test", "a.mail.protection.outlook.com"])


# --- fetching from the lab HTTPS server -----------------------------------------------------

HOSTS = {
    "good": (200, "text/plain; charset=utf-8", POLICY),
    "notfound": (404, "text/plain", b"no such thing\n"),
    "redirect": (301, "text/plain", b"https://elsewhere.lab.test/.well-known/mta-sts.txt"),
    "html": (200, "text/html", POLICY),
    "big": (200, "text/plain", POLICY + b"x" * (POLICY_SIZE_LIMIT + 10)),
    "bad": (200, "text/plain", b"version: STSv1\nmode: maybe\nmax_age: 1\n"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHttpsServer]:
    names = [f"mta-sts.{kind}.lab.test" for kind in HOSTS]
    routes = {(f"mta-sts.{kind}.lab.test", PATH): route for kind, route in HOSTS.items()}
    with LabHttpsServer(tmp_path_factory.mktemp("https"), names, routes) as lab:
        yield lab


async def test_fetch_good_policy(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "good.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert fetched.error_kind is None and fetched.ok, fetched.error
    assert fetched.status_code == 200 and fetched.warnings == []
    assert fetched.policy is not None and fetched.policy.mode == "enforce"
    assert fetched.url == f"https://mta-sts.good.lab.test:{server.port}{PATH}"
    assert ("mta-sts.good.lab.test", PATH) in server.requests
    assert "mta-sts.good.lab.test" in server.sni_names
    json.dumps(fetched.to_dict())


async def test_fetch_404(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "notfound.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert (fetched.error_kind, fetched.status_code, fetched.policy) == ("http_status", 404, None)
    assert fetched.error is not None and "404" in fetched.error


async def test_fetch_redirect_refused(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "redirect.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert fetched.error_kind == "redirect" and fetched.policy is None
    assert fetched.error is not None and "elsewhere.lab.test" in fetched.error


async def test_fetch_wrong_content_type_warns(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "html.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert fetched.ok and fetched.content_type == "text/html"
    assert any("text/plain" in w for w in fetched.warnings)


async def test_fetch_oversize(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "big.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert fetched.error_kind == "oversize" and fetched.policy is None


async def test_fetch_bad_policy(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "bad.lab.test", address="127.0.0.1", port=server.port, verify=server.client_context()
    )
    assert fetched.error_kind == "policy" and fetched.policy is not None
    assert fetched.error is not None and "mode" in fetched.error


async def test_fetch_certificate_for_another_name(tmp_path: Path) -> None:
    routes = {PATH: (200, "text/plain", POLICY)}
    with LabHttpsServer(tmp_path, ["mta-sts.other.lab.test"], routes) as other:
        fetched = await fetch_policy(
            "good.lab.test", address="127.0.0.1", port=other.port, verify=other.client_context()
        )
    assert fetched.error_kind == "tls" and fetched.policy is None
    assert fetched.error is not None and "mta-sts.good.lab.test" in fetched.error
    assert "Hostname mismatch" in fetched.error


async def test_fetch_untrusted_ca(server: LabHttpsServer, tmp_path: Path) -> None:
    with LabHttpsServer(tmp_path, ["unused.lab.test"], {}) as stranger:
        verify = stranger.client_context()  # trusts another CA only
    fetched = await fetch_policy(
        "good.lab.test", address="127.0.0.1", port=server.port, verify=verify
    )
    assert fetched.error_kind == "tls"
    assert fetched.error is not None and "local issuer" in fetched.error


async def test_fetch_nothing_listening(server: LabHttpsServer) -> None:
    fetched = await fetch_policy(
        "good.lab.test",
        address="127.0.0.1",
        port=free_port(),
        verify=server.client_context(),
        timeout=3.0,
    )
    assert fetched.error_kind == "connect_refused", fetched.error
    assert fetched.status_code is None and fetched.policy is None


async def test_fetch_silent_server_times_out(server: LabHttpsServer) -> None:
    with socket.socket() as silent:  # accepts TCP (backlog) but never speaks TLS
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        fetched = await fetch_policy(
            "good.lab.test",
            address="127.0.0.1",
            port=silent.getsockname()[1],
            verify=server.client_context(),
            timeout=0.5,
        )
    assert fetched.error_kind == "timeout", fetched.error
    assert fetched.error is not None and "within 0.5 s" in fetched.error
