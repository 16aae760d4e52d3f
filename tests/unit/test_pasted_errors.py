"""explain() over pasted wrappers and OS errors: a corpus from public sources, every OS wording."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.explain import explain, readable_text
from probes.diagnosis.os_errors import LANGUAGES, find_os_errors, normalise, os_errors
from probes.diagnosis.wrappers import chain_links, readable_link

CORPUS = Path(__file__).parent / "data" / "pasted_wrappers.toml"


def _cases() -> list[dict[str, Any]]:
    with CORPUS.open("rb") as handle:
        return list(tomllib.load(handle)["case"])


def ids(text: str, lang: str = "en") -> list[str]:
    return [d.id for d in explain(text, lang=lang).findings]


@pytest.mark.parametrize("case", _cases(), ids=[c["name"] for c in _cases()])
def test_pasted_text_is_recognised(case: dict[str, Any]) -> None:
    assert case["source"].strip()
    found = explain(case["text"])
    order = [d.id for d in found.findings]
    assert order, f"nothing recognised in {case['name']}"
    assert order[0] == case["expected"], order
    for other in case.get("also", []):
        assert other in order, order
    for other in case.get("absent", []):
        assert other not in order, order
    if "fragment" in case:
        assert case["fragment"] in found.fragments, found.fragments
    assert found.findings[0].evidence


def test_corpus_cites_and_names_are_unique() -> None:
    names = [c["name"] for c in _cases()]
    assert len(names) == len(set(names))
    assert len(names) >= 30


def _wordings() -> list[tuple[str, str, str, str]]:
    return [
        (error.name, lang, text, error.entry)
        for error in os_errors()
        for lang, text in error.wordings()
    ]


@pytest.mark.parametrize(
    ("name", "lang", "text", "entry"),
    _wordings(),
    ids=[f"{n}-{lang}-{i}" for i, (n, lang, _, _) in enumerate(_wordings())],
)
def test_every_os_wording_is_recognised(name: str, lang: str, text: str, entry: str) -> None:
    assert ids(text)[0] == entry
    assert [hit.error.name for hit in find_os_errors(text)][:1] == [name]


@pytest.mark.parametrize("error", os_errors(), ids=[e.name for e in os_errors()])
def test_each_error_is_complete(error: Any) -> None:
    Catalogue.load().entry(error.entry)  # names an entry that exists
    assert ids(error.says)[0] == error.entry  # the English wording it adds is recognised
    assert error.sources
    assert error.texts.get("en")
    if error.errno or error.winerror:  # socket and name errors: Spanish too
        assert error.texts.get("es")


def test_socket_errors_have_every_language() -> None:
    for error in os_errors():
        if error.errno:
            missing = [lang for lang in LANGUAGES if not error.texts.get(lang)]
            assert missing == [], (error.name, missing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[WinError 10061] Es konnte keine Verbindung hergestellt werden, da der Zielcomputer die Verbindung verweigerte",  # noqa: E501
            "net.connect_refused",
        ),
        (
            "Ein Verbindungsversuch ist fehlgeschlagen,\nda die Gegenstelle nach einer bestimmten Zeitspanne nicht richtig reagiert hat,",  # noqa: E501
            "net.connect_timeout",
        ),
        (
            "Se produjo un error durante el intento de conexión ya que la parte conectada no respondió adecuadamente...",  # noqa: E501
            "net.connect_timeout",
        ),
        (
            "Aucune connexion n'a pu être établie car l'ordinateur cible l'a expressément refusée",
            "net.connect_refused",
        ),
        (
            "System.Net.Sockets.SocketException (10054): Foi forçado o cancelamento de uma conexão existente pelo host remoto.",  # noqa: E501
            "net.connection_reset",
        ),
        (
            "ConnectionAbortedError: [WinError 10053] Uma conexão estabelecida foi anulada pelo software no computador host",  # noqa: E501
            "net.connection_aborted",
        ),
        (
            "java.net.SocketException: Se ha anulado una conexión establecida por el\n software en su equipo host.",  # noqa: E501
            "net.connection_aborted",
        ),
        (
            "SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo failed: Hôte inconnu",
            "dns.nxdomain",
        ),
        (
            'Tls(Io(Os { code: 11001, kind: Uncategorized, message: "Der angegebene Host ist unbekannt." }))',  # noqa: E501
            "dns.nxdomain",
        ),
        ("socket.gaierror: [Errno -3] Falha temporária na resolução de nome", "dns.servfail"),
        (
            "System.Net.Sockets.SocketException (11004): El nombre solicitado es válido pero no se encontraron datos del tipo solicitado",  # noqa: E501
            "dns.nodata",
        ),
        ("connect ECONNREFUSED 127.0.0.1:587", "net.connect_refused"),
        ("Error: connect EHOSTUNREACH 2a00:1450:4013:c00::6c:587", "net.unreachable"),
        (
            "curl: (7) Failed to connect to smtp.example.com port 587: Verbindungsaufbau abgelehnt",
            "net.connect_refused",
        ),
        (
            "stream_socket_client(): unable to connect to tcp://smtp.office365.com:587 (Connexion refusée)",  # noqa: E501
            "net.connect_refused",
        ),
        ("Error: getaddrinfo ENOTFOUND smtp.gmial.com\n  code: 'EDNS',", "dns.nxdomain"),
        (
            "Error: No recipients defined\n  code: 'EENVELOPE',\n  command: 'API'",
            "app.envelope_rejected",
        ),
        ("Error: Connection closed unexpectedly\n  code: 'ECONNECTION'", "io.closed_unexpectedly"),
    ],
)
def test_os_and_library_texts(text: str, expected: str) -> None:
    assert ids(text)[0] == expected


def test_spanish_explanation_of_a_german_error() -> None:
    found = explain("Die Verbindung wurde vom Kommunikationspartner zurückgesetzt", lang="es")
    assert found.findings[0].id == "net.connection_reset"
    assert found.findings[0].title.startswith("La conexión fue restablecida")


def test_python_chain_puts_the_cause_first() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "TimeoutError: [WinError 10060] Se produjo un error durante el intento de conexión\n"
        "\nDuring handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "y.py", line 2, in send\n'
        "smtplib.SMTPAuthenticationError: (535, b'5.7.3 Authentication unsuccessful')\n"
    )
    assert ids(text)[:2] == ["net.connect_timeout", "o365.bad_credentials"]
    links = chain_links(readable_text(text))
    assert "WinError 10060" in links[0] and "535" in links[1]


def test_java_and_dotnet_chains_put_the_innermost_first() -> None:
    java = "A: outer\nCaused by: B: middle\nCaused by: C: root"
    assert [link.strip() for link in chain_links(java)] == ["C: root", "B: middle", "A: outer"]
    dotnet = "SmtpException: Failure sending mail. ---> IOException: x ---> SocketException: root"
    assert chain_links(dotnet)[0].strip() == "SocketException: root"


def test_dotnet_failure_sending_mail_explains_the_inner_exception() -> None:
    text = (
        "System.Net.Mail.SmtpException: Failure sending mail. ---> System.Net.WebException: "
        "Unable to connect to the remote server ---> System.Net.Sockets.SocketException: "
        "No connection could be made because the target machine actively refused it 127.0.0.1:25"
    )
    order = ids(text)
    assert order[0] == "net.connect_refused"
    assert order.index("app.connect_failed") < order.index("app.send_failed")


def test_wrapper_rewrites() -> None:
    assert readable_link(
        'Expected response code "250/251/252" but got code "550", with message "550 5.1.1 x"'
    ) == ('server replied "550 5.1.1 x"')
    assert "535 5.7.139" in readable_link(
        "MailKit.Security.AuthenticationException: 535: 5.7.139 Authentication unsuccessful"
    )
    assert "CLIENT -> SERVER" not in readable_link(
        "CLIENT -> SERVER: AUTH LOGIN\nSERVER -> CLIENT: 535 5.7.3 x"
    )
    assert "self-signed" not in readable_link(
        "An error occurred. This usually means that the server is using a self-signed certificate.\n\n"  # noqa: E501
        "See https://github.com/jstedfast/MailKit/blob/master/FAQ.md#SslHandshakeException for possible solutions.\n"  # noqa: E501
    )


def test_normalise_ignores_accents_quotes_and_breaks() -> None:
    assert normalise("Connexion  refusée\n’l’hôte'") == "connexion refusee lhote"


def test_unrelated_text_finds_no_os_error() -> None:
    assert find_os_errors("all good, message sent to the host") == []
