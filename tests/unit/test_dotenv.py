"""The ``.env`` parser: syntax, line numbers, problems that never echo values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workspace.imports.dotenv import EnvEntry, EnvFile, line_key, parse_env, read_env, split_lines

SECRET = "K0ntr0l!OC#2025$Sys"


def values(env: EnvFile) -> dict[str, str]:
    """Key -> value in effect."""
    return {entry.key: entry.value for entry in env.entries}


def test_blank_comments_export_and_spaces() -> None:
    env = parse_env(
        "# heading\n\n   # indented comment\nexport A=1\nB = two words \n  C=3\nexport=4\n"
    )
    assert values(env) == {"A": "1", "B": "two words", "C": "3", "export": "4"}
    assert [e.line for e in env.entries] == [4, 5, 6, 7]
    assert env.problems == []
    assert env.newline == "\n"
    assert len(env.lines) == 7


def test_unquoted_comments() -> None:
    env = parse_env(
        "IMAP_HOST=outlook.office365.com        # Cambio: era imap.gmail.com\n"
        f"IMAP_PASSWORD={SECRET}  # nueva\n"
        "PASS=pass#word\n"
        "TAB=value\t# tab comment\n"
        "EMPTY=   # fill me\n"
        "HASH=#notacomment\n"
    )
    assert values(env) == {
        "IMAP_HOST": "outlook.office365.com",
        "IMAP_PASSWORD": SECRET,
        "PASS": "pass#word",
        "TAB": "value",
        "EMPTY": "",
        "HASH": "#notacomment",
    }


def test_quotes() -> None:
    env = parse_env(
        "S='lit \\n # not a comment' # comment\n"
        'D="a\\nb\\tc \\"q\\" \\\\ \\x"\n'
        'N="Kontrol Travel - Administración"\n'
        "E=''\n"
        'F=""#c\n'
        "Q=a'b\"c\n"
    )
    assert values(env) == {
        "S": "lit \\n # not a comment",
        "D": 'a\nb\tc "q" \\ \\x',
        "N": "Kontrol Travel - Administración",
        "E": "",
        "F": "",
        "Q": "a'b\"c",
    }
    assert env.problems == []


def test_blank_values() -> None:
    env = parse_env("A=\nB=  \nC\t=\t\n")
    assert values(env) == {"A": "", "B": "", "C": ""}


def test_crlf_and_bom() -> None:
    env = parse_env("\ufeffA=1\r\nB='x y'\r\n# c\r\nC=3")
    assert values(env) == {"A": "1", "B": "x y", "C": "3"}
    assert env.newline == "\r\n"
    assert env.lines == ["A=1", "B='x y'", "# c", "C=3"]
    assert env.entries[0].key == "A"  # no BOM in the first key


def test_split_lines_keeps_each_ending() -> None:
    assert split_lines("a\r\nb\nc") == [("a", "\r\n"), ("b", "\n"), ("c", "")]
    assert split_lines("a\n") == [("a", "\n")]
    assert split_lines("") == []
    assert split_lines("a\rb\n") == [("a\rb", "\n")]


def test_keys() -> None:
    env = parse_env("a.b-c_D9=1\n_X=2\n9A=3\nA B=4\n=5\nÑ=6\n")
    assert values(env) == {"a.b-c_D9": "1", "_X": "2"}
    assert [p.line for p in env.problems] == [3, 4, 5, 6]
    assert "bad key '9A'" in env.problems[0].message
    assert env.problems[2].message == "no key before '='"


def test_duplicates_last_wins() -> None:
    env = parse_env("A=1\nB=2\nA=3\nA=4\n")
    entry = env.get("A")
    assert entry is not None and entry.value == "4" and entry.line == 4
    assert env.get("missing") is None
    assert env.duplicates() == {"A": [1, 3, 4]}


def test_malformed_lines_report_line_numbers_not_values() -> None:
    text = (
        "OK=1\n"
        "\n"
        f"IMAP_HOST outlook.office365.com {SECRET}\n"
        f"IMAP_PASSWORD='{SECRET}\n"
        f'SMTP_PASSWORD="{SECRET}\n'
        f"OTHER='{SECRET}' trailing{SECRET}\n"
        f"{SECRET}\n"
        f"{SECRET} {SECRET}=x\n"
        "LAST=2\n"
    )
    env = parse_env(text)
    assert values(env) == {"OK": "1", "LAST": "2"}
    messages = {p.line: p.message for p in env.problems}
    assert sorted(messages) == [3, 4, 5, 6, 7, 8]
    assert messages[3] == "no '=' in 'IMAP_HOST ...' (expected KEY=value)"
    assert str(env.problems[0]).startswith("line 3: no '='")
    assert "unterminated single quote" in messages[4] and "IMAP_PASSWORD" in messages[4]
    assert "unterminated double quote" in messages[5] and "SMTP_PASSWORD" in messages[5]
    assert "text after the closing quote" in messages[6] and "OTHER" in messages[6]
    for problem in env.problems:
        assert SECRET not in problem.message
        assert "outlook" not in problem.message
        assert "0ntr0l" not in problem.message


def test_bad_key_shows_at_most_20_characters_and_no_second_word() -> None:
    env = parse_env("A-VERY-LONG-BAD-KEY-!-NAME=value\nIMAP_PASSWORD s3cret=x\n!x y=1\n")
    messages = [p.message for p in env.problems]
    assert messages[0].startswith("bad key 'A-VERY-LONG-BAD-KEY-...' before '='")
    assert messages[1].startswith("bad key 'IMAP_PASSWORD ...' before '='")
    assert messages[2].startswith("bad key before '='")
    assert not any("value" in m or "s3cret" in m or "NAME" in m for m in messages)


def test_multiline_value_is_one_problem() -> None:
    env = parse_env('A=1\nKEY="-----BEGIN\nMIIEv==\n-----END-----"\nB=2\n')
    assert values(env) == {"A": "1", "B": "2"}
    (problem,) = env.problems
    assert problem.line == 2
    assert "spans lines 2-4" in problem.message
    assert "BEGIN" not in problem.message


def test_unterminated_quote_does_not_swallow_later_definitions() -> None:
    env = parse_env('A="open\nB="closed"\nC=3\n')
    assert values(env) == {"B": "closed", "C": "3"}
    assert [(p.line, p.message) for p in env.problems] == [
        (1, "unterminated double quote in the value of A")
    ]


def test_repr_hides_values() -> None:
    env = parse_env(f"IMAP_PASSWORD={SECRET}\n")
    assert SECRET not in repr(env)
    assert SECRET not in repr(env.entries)
    assert "IMAP_PASSWORD" in repr(env.entries[0])


def test_line_key() -> None:
    assert line_key("export A_B = 1") == "A_B"
    assert line_key("IMAP_HOST outlook") == "IMAP_HOST"
    assert line_key("# A=1") is None
    assert line_key("   ") is None
    assert line_key("9=1") is None


def test_read_env(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfA=1\r\nB=\xc3\xb1\r\n")
    env = read_env(path)
    assert values(env) == {"A": "1", "B": "ñ"}
    assert env.newline == "\r\n"


def test_read_env_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=\xff\xfe\n")
    env = read_env(path)
    assert env.entries == []
    assert [(p.line, p.message) for p in env.problems] == [(0, "not UTF-8 text")]


def test_read_env_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_env(tmp_path / "absent.env")


def _check(env: EnvFile) -> None:
    for entry in env.entries:
        assert isinstance(entry, EnvEntry)
        assert 1 <= entry.line <= len(env.lines)
        assert env.lines[entry.line - 1] == entry.raw
    for problem in env.problems:
        assert 1 <= problem.line <= len(env.lines)
    assert env.newline in ("\n", "\r\n")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_any_text(text: str) -> None:
    _check(parse_env(text))


MARK = "S3CR3T"
FRAGMENT = st.sampled_from(
    ["KEY", "A_B", "export ", "=", " ", "\t", "'", '"', "#", "\\", "\r", MARK, "x y", "9", "\ufeff"]
)
LINE = st.lists(FRAGMENT, max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_parse_env_like_text(lines: list[str], newline: str, final: bool) -> None:
    text = newline.join(lines) + (newline if final and lines else "")
    env = parse_env(text)
    _check(env)
    for problem in env.problems:
        line = env.lines[problem.line - 1]
        before, equals, _ = line.partition("=")
        words = re.sub(r"^\s*export\s+(?=\S)", "", line).split()
        may_show = before if equals else (words or [""])[0]
        if MARK not in may_show:
            assert MARK not in problem.message
