"""The wrappers users paste around an error, taken apart so the catalogue sees the error itself.

Mail libraries wrap the server's reply or the operating system's error in
their own words: PHPMailer (``SMTP Error: Could not connect to SMTP host.``),
Symfony/Laravel Mailer (``Expected response code "250" but got code "530",
with message "530 5.7.0 ..."``), Nodemailer (``code: 'EAUTH'``), MailKit
(``535: 5.7.139 ...`` and a page of advice), .NET (``Failure sending mail.
---> System.Net.Sockets.SocketException (10060): ...``), JavaMail (``nested
exception is:``), Python (chained tracebacks). :func:`unwrap` splits the text
into the links of its exception chain, the root cause first, rewrites each so
reply codes stand out, and adds the English wording of any OS error it names
(:mod:`probes.diagnosis.os_errors`). :func:`explain_segments` asks the
catalogue about each link and keeps the cause's findings first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.model import Diagnosis
from probes.diagnosis.os_errors import find_os_errors

MAX_SEGMENTS = 12
"""At most this many links of an exception chain are explained one by one."""

_PYTHON_CHAIN = re.compile(
    r"^\s*(?:During handling of the above exception, another exception occurred"
    r"|The above exception was the direct cause of the following exception):?\s*$",
    re.MULTILINE,
)
"""Python's chain separators: the link before each one is the earlier cause."""

_INNER = re.compile(
    r"^\s*Caused by:\s*|[;.]?\s*nested exception is:?\s*|\s*--->\s*"
    r"|^\s*Inner exception message is:\s*",
    re.MULTILINE,
)
"""Java and .NET chain markers: what follows each one is the inner cause."""

_NOISE = re.compile(
    r"^\s*(?:--- End of (?:inner exception )?stack trace[^\n]*---|CLIENT -> SERVER:[^\n]*"
    r"|\.\.\. \d+ more)\s*$",
    re.MULTILINE,
)
"""Lines that never carry the error: .NET stack markers, PHPMailer's client commands."""

_CONSEQUENCE = re.compile(
    r"^[^\n]*(?:please run connect\(\) first|SMTPServerDisconnected: Server not connected)[^\n]*$",
    re.MULTILINE,
)
"""Errors that only follow an earlier failure (a ``quit()`` after a failed connect)."""

_EXPECTED = re.compile(
    r"Expected response code \"?\d{3}(?:/\d{3})*\"? but got (?:code \"?(?P<code>\d{3})\"?,?"
    r"\s*with message|(?P<empty>an empty response))",
    re.IGNORECASE,
)
"""Symfony/Swift Mailer: the expected codes are noise, the message is the server's reply."""

_CODE_COLON = re.compile(r"(?<![\w.])([2-5][0-5]\d): ([245]\.\d{1,3}\.\d{1,3})(?![\w.])")
"""MailKit writes ``535: 5.7.139``; the catalogue reads ``535 5.7.139``."""

_MAILKIT_STATUS = re.compile(
    r"\b(AuthenticationInvalidCredentials|AuthenticationRequired|MailboxUnavailable):\s*"
    r"(?=[245]\.\d{1,3}\.\d{1,3})"
)
MAILKIT_STATUS_CODES: Mapping[str, str] = {
    "AuthenticationInvalidCredentials": "535",
    "AuthenticationRequired": "530",
    "MailboxUnavailable": "550",
}
"""MailKit names the reply code (``AuthenticationInvalidCredentials: 5.7.3``); its number."""

_MAILKIT_ADVICE = re.compile(
    r"(?:This usually means|One possibility is)[\s\S]*?"
    r"(?:See https://github\.com/jstedfast/MailKit\S*(?: for possible solutions\.?)?|\n\s*\n|\Z)"
)
"""MailKit's general advice (every possible cause listed) hides the real reasons."""

_NODEMAILER_CODE = re.compile(r"\bcode\b[\"']?\s*[:=]\s*[\"']?(E[A-Z]{3,12})\b")
NODEMAILER_CODES: Mapping[str, str] = {
    "EAUTH": "Authentication failed",
    "ECONNECTION": "Could not connect to the server",
    "EDNS": "getaddrinfo ENOTFOUND",
    "ETLS": "The handshake failed",
}
"""Nodemailer error codes and the English wording of the catalogue entry each means."""

PHPMAILER_SPANISH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), english)
    for pattern, english in (
        (r"Imposible\s+autentificar|No\s+se\s+pudo\s+autentificar", "Could not authenticate"),
        (
            r"(?:Imposible|No\s+se\s+pudo)\s+conectar\s+(?:al|con\s+el)\s+servidor\s+SMTP",
            "Could not connect to SMTP host",
        ),
        (r"SMTP\s+Connect\(\)\s+fall[oó]", "SMTP connect() failed"),
    )
)
"""PHPMailer's Spanish messages (language/phpmailer.lang-es.php) and the English originals."""


@dataclass(frozen=True)
class Segment:
    """One link of an exception chain: what the catalogue reads, and the lines worth showing."""

    text: str
    lines: tuple[str, ...] = ()


def chain_links(document: str) -> list[str]:
    """The links of the exception chain in the text, the root cause first."""
    links: list[str] = []
    for python_link in _PYTHON_CHAIN.split(document):  # Python prints the cause first
        inner = [part for part in _INNER.split(python_link) if part.strip()]
        links.extend(reversed(inner))  # Java and .NET print the cause last
    if len(links) > 1:
        kept = [link for link in links if _CONSEQUENCE.sub("", link).strip()]
        links = kept or links
    if len(links) > MAX_SEGMENTS:
        links = [*links[: MAX_SEGMENTS - 1], "\n".join(links[MAX_SEGMENTS - 1 :])]
    return links or [document]


def readable_link(link: str) -> str:
    """One link rewritten: noise lines out, reply codes where the catalogue looks for them."""
    text = _NOISE.sub("", link)
    text = _MAILKIT_ADVICE.sub("", text)
    text = _EXPECTED.sub(
        lambda m: (
            "connection closed unexpectedly (empty response)"
            if m.group("empty")
            else "server replied"
        ),
        text,
    )
    text = _MAILKIT_STATUS.sub(lambda m: f"{m.group(1)}: {MAILKIT_STATUS_CODES[m.group(1)]} ", text)
    return _CODE_COLON.sub(r"\1 \2", text)


def segment(link: str) -> Segment:
    """A link made readable, with the English wording of each OS error or library code it names."""
    text = readable_link(link)
    notes: list[str] = []
    lines: list[str] = []
    for hit in find_os_errors(text):
        notes.append(hit.annotation)
        lines.append(hit.line)
    notes.extend(english for pattern, english in PHPMAILER_SPANISH if pattern.search(text))
    for match in _NODEMAILER_CODE.finditer(text):
        wording = NODEMAILER_CODES.get(match.group(1))
        if wording:
            notes.append(f"{wording} [{match.group(1)}]")
    return Segment("\n".join([text, *notes]), tuple(lines))


def unwrap(document: str) -> list[Segment]:
    """The readable text as chain links, the root cause first."""
    return [segment(link) for link in chain_links(document)]


def explain_segments(
    catalogue: Catalogue,
    segments: Iterable[Segment],
    context: Mapping[str, str] | None = None,
    lang: str | None = "en",
) -> list[Diagnosis]:
    """The catalogue's findings link by link: the cause's first, each entry and family once."""
    found: list[Diagnosis] = []
    seen: set[str] = set()
    for part in segments:
        for diagnosis in catalogue.explain_text(part.text, context, lang):
            family = catalogue.entry(diagnosis.id).family or "=" + diagnosis.id
            if diagnosis.id in seen or family in seen:
                continue
            seen.update((diagnosis.id, family))
            found.append(diagnosis)
    return found


def with_recognised_lines(
    fragments: list[str], segments: Iterable[Segment], limit: int, length: int
) -> list[str]:
    """The fragments plus the pasted lines where an OS error was recognised (each once)."""
    result = list(fragments)
    for part in segments:
        for line in part.lines:
            piece = line[:length]
            if piece and piece not in result and len(result) < limit:
                result.append(piece)
    return result
