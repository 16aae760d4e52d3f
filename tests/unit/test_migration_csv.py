"""Microsoft's IMAP migration CSV: parsing, problems with line numbers, planned accounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.mail.model import Security
from workspace.accounts.model import NAME, AccountRole, AuthKind, MailEndpoint, Side, validate
from workspace.imports.migration_csv import (
    MAX_FILE_BYTES,
    MAX_LINE,
    CsvProblem,
    MigrationCsv,
    MigrationRow,
    parse_migration_csv,
    plan_csv_accounts,
    read_migration_csv,
)

SECRET = "Zq9-SECRET-pw"  # distinctive, so "never in a message" is checked for real

GOOD = (
    "EmailAddress,UserName,Password\n"
    "terry@contoso.com,terry.adams@gmail.com,Zq9-SECRET-pw\n"
    "ann@contoso.com,ann.beebe@gmail.com,Zq9-SECRET-pw2\n"
)


def _lines(result: MigrationCsv) -> list[int]:
    return [p.line for p in result.problems]


def _assert_no_secret(result: MigrationCsv) -> None:
    shown = [str(p) for p in result.problems] + [repr(p) for p in result.problems]
    shown += [repr(row) for row in result.rows] + [repr(result)]
    for text in shown:
        assert SECRET not in text


# --- good files ---------------------------------------------------------------------------


def test_good_file() -> None:
    result = parse_migration_csv(GOOD)
    assert result.ok and result.problems == []
    assert [(r.line, r.email, r.username, r.password, r.user_root) for r in result.rows] == [
        (2, "terry@contoso.com", "terry.adams@gmail.com", SECRET, ""),
        (3, "ann@contoso.com", "ann.beebe@gmail.com", SECRET + "2", ""),
    ]
    _assert_no_secret(result)


@pytest.mark.parametrize("bom", ["\ufeff", "\u00ef\u00bb\u00bf"])
def test_bom_is_stripped(bom: str) -> None:
    result = parse_migration_csv(bom + GOOD)
    assert result.ok and len(result.rows) == 2


def test_crlf_and_lone_cr() -> None:
    for newline in ("\r\n", "\r"):
        result = parse_migration_csv(GOOD.replace("\n", newline))
        assert result.ok
        assert [r.line for r in result.rows] == [2, 3]
        assert result.rows[0].password == SECRET


def test_user_root_reordered_columns_and_header_case() -> None:
    text = (
        " password ,USERROOT,Extra Column,emailaddress,UserName\r\n"
        f'{SECRET},/users/terry,whatever,terry@contoso.com,"contoso\\terry"\r\n'
        f"{SECRET}2,,x,ann@contoso.com,ann\r\n"
    )
    result = parse_migration_csv(text)
    assert result.ok
    terry, ann = result.rows
    assert (terry.email, terry.username, terry.password, terry.user_root) == (
        "terry@contoso.com",
        "contoso\\terry",
        SECRET,
        "/users/terry",
    )
    assert (ann.user_root, ann.line) == ("", 3)


def test_admin_username_forms_and_quoted_commas_in_password() -> None:
    text = (
        "EmailAddress,UserName,Password\n"
        'a@contoso.com,/authuser=admin/a,"pa,ss ""word"""\n'
        "b@contoso.com,b*admin,x\n"
    )
    result = parse_migration_csv(text)
    assert result.ok
    assert [r.username for r in result.rows] == ["/authuser=admin/a", "b*admin"]
    assert result.rows[0].password == 'pa,ss "word"'


def test_blank_lines_and_empty_excel_rows_are_skipped() -> None:
    text = "\n\nEmailAddress,UserName,Password\n\n,,\n  \na@contoso.com,a,p\n\n"
    result = parse_migration_csv(text)
    assert result.ok
    assert [r.line for r in result.rows] == [7]


# --- bad header -----------------------------------------------------------------------------


def test_missing_column_stops_parsing() -> None:
    result = parse_migration_csv(f"EmailAddress,UserName\na@contoso.com,a\nb@c.d,{SECRET}\n")
    assert result.rows == [] and _lines(result) == [1]
    assert "Password" in result.problems[0].message
    _assert_no_secret(result)


def test_header_forgotten_never_echoes_the_first_row() -> None:
    result = parse_migration_csv(f"a@contoso.com,a,{SECRET}\nb@contoso.com,b,x\n")
    assert result.rows == [] and _lines(result) == [1]
    _assert_no_secret(result)


def test_header_hints() -> None:
    spaced = parse_migration_csv("Email Address,UserName,Password\n")
    assert "EmailAddress without spaces" in spaced.problems[0].message
    semicolons = parse_migration_csv("EmailAddress;UserName;Password\na@b.c;a;p\n")
    assert "';'" in semicolons.problems[0].message and semicolons.rows == []


def test_duplicate_header_column() -> None:
    result = parse_migration_csv("EmailAddress,UserName,Password,emailaddress\n")
    assert _lines(result) == [1] and "more than once" in result.problems[0].message


def test_empty_text() -> None:
    for text in ("", "\ufeff", "\n\r\n", ",,\n"):
        result = parse_migration_csv(text)
        assert not result.ok and result.rows == []
        assert "empty" in result.problems[0].message


# --- bad rows -------------------------------------------------------------------------------


BAD = (
    "EmailAddress,UserName,Password\n"  # 1
    f"good@contoso.com,good,{SECRET}\n"  # 2
    f"not-an-address,u,{SECRET}\n"  # 3
    f",u,{SECRET}\n"  # 4
    f"c@contoso.com,,{SECRET}\n"  # 5
    f"d@contoso.com,has space,{SECRET}\n"  # 6
    "e@contoso.com,e,\n"  # 7
    "f@contoso.com,f,   \n"  # 8
    f"g@contoso.com,g,{SECRET},extra\n"  # 9
    "h@contoso.com,h\n"  # 10
    f"GOOD@contoso.com,again,{SECRET}\n"  # 11
    f"{SECRET},u,{SECRET}\n"  # 12: the password in the address column is never shown
    f"last@contoso.com,last,{SECRET}\n"  # 13
)


def test_every_bad_row_kind_with_its_line() -> None:
    result = parse_migration_csv(BAD)
    by_line = {p.line: p.message for p in result.problems}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert by_line[3] == "EmailAddress 'not-an-address' is not an e-mail address"
    assert by_line[4] == "EmailAddress is empty"
    assert by_line[5] == "UserName is empty"
    assert by_line[6].startswith("UserName has a space")
    assert by_line[7] == by_line[8] == "Password is empty"
    assert by_line[9] == "expected 3 fields as in the header, found 4"
    assert by_line[10] == "expected 3 fields as in the header, found 2"
    assert by_line[11] == "EmailAddress 'GOOD@contoso.com' is already on line 2"
    assert "hidden" in by_line[12]
    assert str(result.problems[0]) == f"line 3: {by_line[3]}"
    # the good rows are still there: the caller decides
    assert [r.line for r in result.rows] == [2, 13]
    assert not result.ok
    _assert_no_secret(result)


def test_several_problems_on_one_row() -> None:
    result = parse_migration_csv("EmailAddress,UserName,Password\nnope,,\n")
    assert _lines(result) == [2, 2, 2] and result.rows == []


def test_quoted_field_spanning_lines_keeps_later_line_numbers() -> None:
    text = (
        "EmailAddress,UserName,Password,UserRoot\n"  # 1
        'a@contoso.com,a,"line one\r\nline two\nline three",/r\n'  # 2-4
        "b@contoso.com,b,p,\n"  # 5
        "bad,c,p,\n"  # 6
        'c@contoso.com,c,"p",/r\n'  # 7
        '"unclosed@contoso.com,d,p,\n'  # 8 ... to the end
        "e@contoso.com,e,p,\n"  # 9
    )
    result = parse_migration_csv(text)
    assert [r.line for r in result.rows] == [2, 5, 7]
    assert result.rows[0].password == "line one\r\nline two\nline three"
    assert _lines(result) == [6, 8]
    assert "line 8 to line 9" in result.problems[1].message


def test_oversize_line() -> None:
    long_line = "x" * (MAX_LINE + 1)
    text = f"EmailAddress,UserName,Password\n{long_line}\na@contoso.com,a,p\n"
    result = parse_migration_csv(text)
    assert _lines(result) == [2] and "longer than" in result.problems[0].message
    assert [r.line for r in result.rows] == [3]
    # a line of exactly the limit is fine (the row itself is just bad)
    exact = parse_migration_csv(f"EmailAddress,UserName,Password\n{'x' * MAX_LINE}\n")
    assert "longer" not in exact.problems[0].message


def test_oversize_header_is_not_replaced_by_the_next_line() -> None:
    text = f"{'E' * (MAX_LINE + 5)}\nEmailAddress,UserName,Password\na@contoso.com,a,p\n"
    result = parse_migration_csv(text)
    assert _lines(result) == [1] and result.rows == []


def test_oversize_row_spanning_lines() -> None:
    chunk = "y" * 5000 + "\n"
    text = f'EmailAddress,UserName,Password\na@contoso.com,a,"{chunk * 3}"\nb@contoso.com,b,p\n'
    result = parse_migration_csv(text)
    assert _lines(result) == [2] and "lines 2-5" in result.problems[0].message
    assert [r.line for r in result.rows] == [6]


def test_problems_are_capped() -> None:
    text = "EmailAddress,UserName,Password\n" + "bad,u,p\n" * 1000
    result = parse_migration_csv(text)
    assert len(result.problems) <= 202
    assert "stopped after" in result.problems[-1].message


def test_row_repr_hides_the_password() -> None:
    row = MigrationRow(2, "a@b.c", "a", SECRET)
    assert SECRET not in repr(row)
    assert str(CsvProblem(0, "whole file")) == "whole file"


# --- files -------------------------------------------------------------------------------


def test_read_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    result = read_migration_csv(path)
    assert result.ok and [r.line for r in result.rows] == [2, 3]


def test_read_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("EmailAddress,UserName,Password\nj@x.com,josé,pässword\n".encode("latin-1"))
    result = read_migration_csv(path)
    assert result.rows == []
    assert result.problems == [CsvProblem(0, "not UTF-8 text: save the CSV as UTF-8")]
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(GOOD.encode("utf-16"))
    assert not read_migration_csv(utf16).ok


def test_read_oversize_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: cheap to make
    result = read_migration_csv(path)
    assert result.rows == [] and _lines(result) == [0]
    assert "larger than 5 MB" in result.problems[0].message


def test_read_missing_file(tmp_path: Path) -> None:
    result = read_migration_csv(tmp_path / "nope.csv")
    assert result.rows == [] and _lines(result) == [0]


# --- planned accounts -------------------------------------------------------------------------


def test_plan_gmail_accounts() -> None:
    text = (
        "EmailAddress,UserName,Password,UserRoot\n"
        f"terry@contoso.com,terry@gmail.com,{SECRET},\n"
        "terry2@contoso.com,Terry@googlemail.com,p2,/users/terry\n"
        "jose@contoso.com,josé.ruiz+x@gmail.com,p3,\n"
        "odd@contoso.com,-._@gmail.com,p4,\n"
        f"long@contoso.com,{'l' * 64}@gmail.com,p5,\n"
        f"long2@contoso.com,{'L' * 64}@gmail.com,p6,\n"
    )
    parsed = parse_migration_csv(text)
    assert parsed.ok
    planned = plan_csv_accounts(parsed, existing_names=["TERRY", "account"])
    names = [account.name for account, _ in planned]
    assert names == ["terry-2", "Terry-3", "jose.ruiz-x", "account-2", "l" * 64, "L" * 62 + "-2"]
    assert all(NAME.match(name) for name in names)
    first, password = planned[0]
    assert password == SECRET
    assert first.side is Side.SOURCE and first.roles == (AccountRole.MIGRATION,)
    assert first.provider == "gmail" and first.auth is AuthKind.APP_PASSWORD
    assert first.imap == MailEndpoint("imap.gmail.com", 993, Security.TLS)
    assert first.smtp is None
    # the source account is the Gmail mailbox; the row's EmailAddress is where it migrates to
    assert first.address == "terry@gmail.com" and first.username == "terry@gmail.com"
    assert first.notes == "imported from migration CSV line 2"
    assert first.extra == {"migrates_to": "terry@contoso.com"}
    assert planned[1][0].extra == {"migrates_to": "terry2@contoso.com", "user_root": "/users/terry"}
    for account, _ in planned:
        assert validate(account) == account
        assert SECRET not in repr(account)


def test_plan_other_providers() -> None:
    parsed = parse_migration_csv(GOOD)
    yahoo = plan_csv_accounts(parsed, provider="yahoo")
    assert {a.auth for a, _ in yahoo} == {AuthKind.PASSWORD}
    assert yahoo[0][0].imap == MailEndpoint("imap.mail.yahoo.com", 993, Security.TLS)
    assert {a.auth for a, _ in plan_csv_accounts(parsed, provider="google-workspace")} == {
        AuthKind.APP_PASSWORD
    }
    with pytest.raises(ValueError, match="custom provider needs an IMAP host"):
        plan_csv_accounts(parsed, provider="custom")
    with pytest.raises(ValueError, match="unknown provider"):
        plan_csv_accounts(parsed, provider="aol")
    own = MailEndpoint("imap.example.org", 143, Security.STARTTLS)
    custom = plan_csv_accounts(parsed, provider="custom", imap=own)
    assert custom[0][0].imap == own
    assert custom[0][0].auth is AuthKind.PASSWORD


def test_plan_empty() -> None:
    assert plan_csv_accounts(MigrationCsv([], [])) == []


# --- properties -------------------------------------------------------------------------------


FRAGMENTS = st.sampled_from(
    [
        ",",
        '"',
        '""',
        "\r",
        "\n",
        "\r\n",
        "\ufeff",
        "\x00",
        " ",
        "\t",
        ";",
        "@",
        "a@b.c",
        "A@B.C",
        "é",
        "\u2028",
        "\x1c",
        "EmailAddress",
        "UserName",
        "Password",
        "UserRoot",
        "emailaddress",
        "EmailAddress,UserName,Password\n",
        "EmailAddress,UserName,Password,UserRoot\r\n",
        "x@y.z,u,p\n",
        "-._",
    ]
)
CSV_LIKE = st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join)


def _check_any(text: str) -> None:
    result = parse_migration_csv(text)
    assert all(row.line >= 2 for row in result.rows)
    assert all(p.line >= 0 for p in result.problems)
    assert result.ok == (not result.problems)
    planned = plan_csv_accounts(result)
    assert len(planned) == len(result.rows)
    names = [account.name.lower() for account, _ in planned]
    assert len(set(names)) == len(names)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    _check_any(text)


@settings(max_examples=200, deadline=None)
@given(CSV_LIKE)
def test_parse_never_raises_on_csv_like_text(text: str) -> None:
    _check_any(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.text(max_size=12), st.text(min_size=1, max_size=12)).map(
            lambda t: (t[0] + "@contoso.com", t[1] or "u", t[2])
        ),
        max_size=8,
    )
)
def test_rows_quoted_roundtrip_and_secrets_hidden(rows: list[tuple[str, str, str]]) -> None:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = ["EmailAddress,UserName,Password"]
    lines += [",".join(quote(v) for v in row) for row in rows]
    result = parse_migration_csv("\r\n".join(lines) + "\r\n")
    for row in result.rows:
        assert row.password in {r[2] for r in rows}
        assert "password=" not in repr(row)  # the field is left out of repr
    _check_any("\r\n".join(lines))
