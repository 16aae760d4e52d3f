"""Microsoft's IMAP migration CSV: read it, report its problems, plan its accounts.

An Exchange Online IMAP migration batch takes a CSV file whose header names
``EmailAddress,UserName,Password`` (and optionally ``UserRoot``); each later
row is one mailbox to migrate. :func:`parse_migration_csv` never raises: every
fault becomes a :class:`CsvProblem` with the physical line it is on (1 is the
header), and the good rows are kept so the caller decides what to do.

Passwords never appear in a problem message or a ``repr``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workspace.accounts.address import is_mailbox_address
from workspace.accounts.model import (
    GOOGLE_PROVIDERS,
    PROVIDERS,
    Account,
    AccountRole,
    AuthKind,
    MailEndpoint,
    Side,
    account_name,
    preset_endpoints,
    validate,
)

MAX_LINE = 10_000  # characters in one physical line (and in one row spanning lines)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PROBLEMS = 200
REQUIRED_COLUMNS = ("EmailAddress", "UserName", "Password")
OPTIONAL_COLUMNS = ("UserRoot",)

_BOMS = ("\ufeff", "\u00ef\u00bb\u00bf")  # a BOM, and a BOM decoded as Latin-1 / cp1252
_LINE_BREAK = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_PLACEHOLDER = "\x00"  # stands in for an oversize line, so its row is never taken
_SHOWN = 60


@dataclass(frozen=True)
class CsvProblem:
    """One fault of the file, on a physical line (0: the file as a whole); never a password."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class MigrationRow:
    """One mailbox of the batch, as the file gives it."""

    line: int
    email: str
    username: str
    password: str = field(repr=False)
    user_root: str = ""


@dataclass
class MigrationCsv:
    """The rows that parsed and the problems found (good rows are kept next to bad ones)."""

    rows: list[MigrationRow]
    problems: list[CsvProblem]

    @property
    def ok(self) -> bool:
        """True when the file has no problem at all."""
        return not self.problems


@dataclass(frozen=True)
class _Record:
    start: int
    end: int
    fields: list[str]
    bad: bool = False  # already reported (oversize, not valid CSV): never a header or a row

    @property
    def blank(self) -> bool:
        return not self.bad and all(not f.strip() for f in self.fields)


class _Lines:
    """The physical lines of the text, fed to :mod:`csv` with oversize ones blanked out."""

    def __init__(self, text: str, problems: list[CsvProblem]) -> None:
        self.lines = _LINE_BREAK.split(text)
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.oversize: set[int] = set()
        self.problems = problems

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self.lines, start=1):
            body = line.rstrip("\r\n")
            if len(body) > MAX_LINE:
                self.oversize.add(number)
                self.problems.append(
                    CsvProblem(number, f"the line is longer than {MAX_LINE} characters")
                )
                yield _PLACEHOLDER + line[len(body) :]
            else:
                yield line

    def span_length(self, start: int, end: int) -> int:
        """Characters of lines ``start..end`` (1-based, inclusive), line breaks left out."""
        return sum(len(line.rstrip("\r\n")) for line in self.lines[start - 1 : end])

    def poisoned(self, start: int, end: int) -> bool:
        """True when an oversize line lies in ``start..end``."""
        return any(start <= n <= end for n in self.oversize)


def _records(lines: _Lines, problems: list[CsvProblem]) -> Iterator[_Record]:
    reader = csv.reader(iter(lines), strict=False)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the message names the fault, never the data
            hint = "; is a closing quote missing?" if "field limit" in str(exc) else ""
            problems.append(CsvProblem(start, f"not valid CSV ({exc}){hint}"))
            yield _Record(start, max(reader.line_num, start), [], bad=True)
            continue
        end = max(reader.line_num, start)
        if lines.poisoned(start, end):
            yield _Record(start, end, [], bad=True)  # reported as an oversize line
            continue
        if lines.span_length(start, end) > MAX_LINE:
            problems.append(
                CsvProblem(
                    start, f"the row (lines {start}-{end}) is longer than {MAX_LINE} characters"
                )
            )
            yield _Record(start, end, [], bad=True)
            continue
        yield _Record(start, end, fields)


def _strip_bom(text: str) -> str:
    for bom in _BOMS:
        if text.startswith(bom):
            return text[len(bom) :]
    return text


def _columns(header: _Record, problems: list[CsvProblem]) -> dict[str, int] | None:
    """Where each known column is (lower-cased name to index), or None after a problem."""
    known = {name.lower(): name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    where: dict[str, int] = {}
    twice: list[str] = []
    for index, raw in enumerate(header.fields):
        key = raw.strip().lower()
        if key not in known:
            continue
        if key in where:
            twice.append(known[key])
        else:
            where[key] = index
    if twice:
        problems.append(
            CsvProblem(header.start, f"the header names {', '.join(twice)} more than once")
        )
        return None
    missing = [name for name in REQUIRED_COLUMNS if name.lower() not in where]
    if not missing:
        return where
    message = (
        f"the header has no {', '.join(missing)} column: the first line must name "
        f"{','.join(REQUIRED_COLUMNS)} (and optionally {','.join(OPTIONAL_COLUMNS)})"
    )
    spaced = {
        known[k]
        for raw in header.fields
        if (k := re.sub(r"\s+", "", raw).lower()) in known and raw.strip().lower() != k
    }
    if spaced:
        message += f"; write {', '.join(sorted(spaced))} without spaces"
    elif len(header.fields) == 1 and ";" in header.fields[0]:
        message += "; the file separates fields with ';': Microsoft needs commas"
    problems.append(CsvProblem(header.start, message))
    return None


def _show(value: str, password: str) -> str:
    """``value`` quoted and shortened for a message; hidden when it holds the password."""
    if password and password in value:
        return "(hidden: it contains the password)"
    if len(value) > _SHOWN:
        value = value[:_SHOWN] + "…"
    return repr(value)


def _row(
    record: _Record, where: dict[str, int], width: int, seen: dict[str, int]
) -> tuple[MigrationRow | None, list[str]]:
    """The row of a record, or None and the reasons (which never show the password)."""
    if len(record.fields) != width:
        reason = f"expected {width} fields as in the header, found {len(record.fields)}"
        if record.end > record.start:
            reason += (
                f" (a quoted field carries the row from line {record.start} to line "
                f"{record.end}: check its quotes)"
            )
        return None, [reason]
    password = record.fields[where["password"]]
    email = record.fields[where["emailaddress"]].strip()
    username = record.fields[where["username"]].strip()
    root_at = where.get("userroot")
    user_root = record.fields[root_at].strip() if root_at is not None else ""
    reasons: list[str] = []
    if not email:
        reasons.append("EmailAddress is empty")
    elif not is_mailbox_address(email):
        reasons.append(f"EmailAddress {_show(email, password)} is not an e-mail address")
    else:
        first = seen.setdefault(email.lower(), record.start)
        if first != record.start:
            reasons.append(f"EmailAddress {_show(email, password)} is already on line {first}")
    if not username:
        reasons.append("UserName is empty")
    elif any(ch.isspace() for ch in username):
        reasons.append("UserName has a space in it (it is the logon name, e.g. the Gmail address)")
    if not password.strip():
        reasons.append("Password is empty")
    if reasons:
        return None, reasons
    return MigrationRow(record.start, email, username, password, user_root), []


def parse_migration_csv(text: str) -> MigrationCsv:
    """Parse the text of a migration CSV; never raises, every fault is a :class:`CsvProblem`."""
    problems: list[CsvProblem] = []
    rows: list[MigrationRow] = []
    lines = _Lines(_strip_bom(text), problems)
    records = _records(lines, problems)
    header = next((r for r in records if not r.blank), None)
    if header is None:
        if not problems:
            problems.append(
                CsvProblem(
                    1, f"the file is empty: the first line must be {','.join(REQUIRED_COLUMNS)}"
                )
            )
        return MigrationCsv(rows, problems)
    where = None if header.bad else _columns(header, problems)
    if where is None:
        return MigrationCsv(rows, problems)
    seen: dict[str, int] = {}
    for record in records:
        if len(problems) >= MAX_PROBLEMS:
            problems.append(CsvProblem(record.start, f"stopped after {MAX_PROBLEMS} problems"))
            break
        if record.blank or record.bad:
            continue
        row, reasons = _row(record, where, len(header.fields), seen)
        problems.extend(CsvProblem(record.start, reason) for reason in reasons)
        if row is not None:
            rows.append(row)
    problems.sort(key=lambda p: p.line)
    return MigrationCsv(rows, problems)


def read_migration_csv(path: Path) -> MigrationCsv:
    """Read and parse a migration CSV file (UTF-8, with or without BOM; at most 5 MB)."""
    too_big = CsvProblem(
        0, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split the batch"
    )
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return MigrationCsv([], [too_big])
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return MigrationCsv([], [CsvProblem(0, f"cannot read {path.name}: {exc.strerror}")])
    if len(data) > MAX_FILE_BYTES:
        return MigrationCsv([], [too_big])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return MigrationCsv([], [CsvProblem(0, "not UTF-8 text: save the CSV as UTF-8")])
    return parse_migration_csv(text)


class _Names:
    """Unique names as :func:`~workspace.accounts.model.unique_name` gives them, in O(1) each.

    ``base``, else ``base-2``, ``base-3``...: the next number to try per base is
    remembered, so a file where thousands of rows share a local part stays linear.
    """

    def __init__(self, taken: Collection[str]) -> None:
        self.taken = {name.lower() for name in taken}
        self.next_number: dict[str, int] = {}

    def claim(self, base: str) -> str:
        """The first free name of ``base``, now taken."""
        candidate = base
        number = self.next_number.get(base.lower(), 2)
        if candidate.lower() in self.taken:
            candidate = self._numbered(base, number)
        while candidate.lower() in self.taken:
            number += 1
            candidate = self._numbered(base, number)
        if candidate != base:
            self.next_number[base.lower()] = number + 1
        self.taken.add(candidate.lower())
        return candidate

    @staticmethod
    def _numbered(base: str, number: int) -> str:
        suffix = f"-{number}"
        return base[: 64 - len(suffix)] + suffix


def plan_csv_accounts(
    csv: MigrationCsv,
    *,
    provider: str = "gmail",
    existing_names: Collection[str] = (),
    imap: MailEndpoint | None = None,
) -> list[tuple[Account, str]]:
    """One validated source account per row, paired with its password.

    The IMAP endpoint is ``imap`` when given, else the provider preset's (a
    ``custom`` provider has none: ValueError). Names come from the local part
    of EmailAddress, made unique against ``existing_names`` and the file.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    endpoint = imap or preset_endpoints(provider)[0]
    if endpoint is None or not endpoint.host:
        raise ValueError(f"{provider} provider needs an IMAP host")
    auth = AuthKind.APP_PASSWORD if provider in GOOGLE_PROVIDERS else AuthKind.PASSWORD
    names = _Names(existing_names)
    planned: list[tuple[Account, str]] = []
    for row in csv.rows:
        # The row's EmailAddress is the Microsoft 365 mailbox the data goes to; the source
        # account is the mailbox being read, whose address is its UserName when that is one.
        source = row.username if is_mailbox_address(row.username) else row.email
        extra = {"migrates_to": row.email}
        if row.user_root:
            extra["user_root"] = row.user_root
        account = Account(
            name=names.claim(account_name(source)),
            address=source,
            side=Side.SOURCE,
            provider=provider,
            roles=(AccountRole.MIGRATION,),
            imap=endpoint,
            username=row.username,
            auth=auth,
            notes=f"imported from migration CSV line {row.line}",
            extra=extra,
        )
        planned.append((validate(account), row.password))
    return planned
