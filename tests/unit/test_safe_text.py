"""render/text.py: hostile text reaches no terminal, JSON, Markdown or HTML as control or markup."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from io import StringIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console
from rich.table import Table
from rich.text import Text

from render.text import (
    LINE_LIMIT,
    REPLY_LIMIT,
    STORED_LIMIT,
    cut,
    cut_notice,
    escape_controls,
    html_text,
    is_unsafe,
    json_safe,
    markdown_text,
    one_line,
    plain,
    unescape_controls,
)

HOSTILE = [
    "\x1b[2J\x1b[H cleared",
    "\x1b]0;owned title\x07",
    "\x1b]8;;http://evil.test/\x1b\\click me\x1b]8;;\x1b\\",
    "\x9b2J C1 CSI",
    "\x9d0;title\x9c",
    "user\u202egnp.exe",
    "\u2066isolate\u2069 \u200e\u200f\u061c",
    "[/bold] ends markup",
    "[link=http://x]link[/link]",
    "[bold red]loud[/]",
    "nul\x00byte",
    "lone \ud800 surrogate \udfff",
    "private \ue000 \U000f0000",
    "tag \U000e0041\U000e0042 smuggling",
    "bell\x07 backspace\x08 cr\r vt\x0b ff\x0c del\x7f",
    "line\u2028sep\u2029para",
    ":smile: emoji code",
    "ñandú 漢字 😀 👨\u200d👩\u200d👧 café",
]

SGR = re.compile(r"\x1b\[[0-9;]*m")
"""The colour sequences Rich itself writes; anything else escaping would be the data."""

VISIBLE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=200)
"""Any code point, surrogates and unassigned included."""


def _render(*renderables: object) -> str:
    console = Console(
        file=StringIO(),
        force_terminal=True,
        color_system="truecolor",
        width=120,
        legacy_windows=False,
    )
    for renderable in renderables:
        console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def _assert_inert(output: str) -> None:
    """Only Rich's own SGR sequences and newlines: no other control, bidi or link."""
    assert "\x1b]" not in output  # no OSC: title, hyperlink
    bare = SGR.sub("", output)
    bad = [c for c in bare if c != "\n" and is_unsafe(c)]
    assert not bad, [f"U+{ord(c):04X}" for c in bad]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_reaches_the_terminal_inert(hostile: str) -> None:
    table = Table("value")
    table.add_row(one_line(hostile))
    output = _render(plain(hostile, style="bold"), one_line(hostile), table)
    _assert_inert(output)
    bare = SGR.sub("", output)
    for markup in ("[/bold]", "[link=http://x]", "[bold red]", ":smile:"):
        if markup in hostile:
            assert markup in bare  # shown literally, not applied
    assert "\x1b]8;" not in output


def test_escapes_are_visible_and_printable_unicode_stays() -> None:
    assert escape_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape_controls("\x9b") == "\\x9b"
    assert escape_controls("x\u202ey") == "x\\u202ey"
    assert escape_controls("\ud800") == "\\ud800"
    assert escape_controls("\U000e0041") == "\\U000e0041"
    assert escape_controls("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert escape_controls("a\nb\tc\r", keep_newlines=True, keep_tabs=True) == "a\nb\tc\\r"
    kept = "ñandú 漢字 😀 👨\u200d👩\u200d👧 e\u0301"
    assert escape_controls(kept) == kept


def test_backslashes_stay_readable_and_unambiguous() -> None:
    assert escape_controls("C:\\Mail\\inbox") == "C:\\Mail\\inbox"
    assert escape_controls("\\x1b") == "\\\\x1b"  # a literal backslash-x, not an ESC
    assert escape_controls("\\\x1b") == "\\\\\\x1b"
    assert escape_controls("\\\\") == "\\\\\\"
    assert escape_controls("\x1b") != escape_controls("\\x1b")


def test_cut_says_how_much_it_cut_in_both_languages() -> None:
    big = "x" * 1_048_576
    assert cut(big, 2_000).endswith("… [cut: 1,048,576 characters, showing 2,000]")
    assert cut(big, 2_000, lang="es").endswith(
        "… [cortado: 1.048.576 caracteres, se muestran 2.000]"
    )
    assert cut("short", 10) == "short"
    assert cut_notice(10, 5, "es-CL").startswith("… [cortado")
    assert LINE_LIMIT < REPLY_LIMIT < STORED_LIMIT
    cut_text = plain(big)
    assert len(cut_text.plain) < REPLY_LIMIT + 100
    assert "[cut:" in one_line(big).plain


def test_plain_is_rich_text_never_markup() -> None:
    shown = plain("[bold]x[/bold] [link=http://x]y[/link]", style="red")
    assert isinstance(shown, Text)
    assert shown.plain == "[bold]x[/bold] [link=http://x]y[/link]"
    assert not shown.spans


def test_json_safe_escapes_what_json_dumps_leaves_raw() -> None:
    data = {"banner\x9b": ["\x1b[2J", "\u202eevil", ("a\nb", 1, None, True)], "n": 2.5}
    raw = json.dumps(data, ensure_ascii=False)
    assert "\x9b" in raw and "\u202e" in raw  # the problem json_safe solves
    safe = json.dumps(json_safe(data), ensure_ascii=False)
    assert not any(is_unsafe(c) for c in safe)
    back = json.loads(safe)
    assert back == {"banner\\x9b": ["\\x1b[2J", "\\u202eevil", ["a\nb", 1, None, True]], "n": 2.5}


def test_markdown_text_has_no_markdown_effect() -> None:
    hostile = (
        "# title *em* _em_ **b** `code` [l](http://x) ![i](y) <b>h</b> &amp; ~~s~~ | a |\n"
        "- item\n+ item\n1. one\n> quote\n    code block\n===\n---\n"
        "https://evil.test www.evil.test ana@example.com"
    )
    rendered = (
        MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown_text(hostile))
    )
    tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
    assert tags <= {"p", "br"}, tags
    cell = markdown_text("a|b\nc", table_cell=True)
    assert cell == "a\\|b<br>c"


def test_html_text_escapes_tags_and_controls() -> None:
    assert (
        html_text('<script>"x"</script>\x9b') == "&lt;script&gt;&quot;x&quot;&lt;/script&gt;\\x9b"
    )


@given(VISIBLE_TEXT)
@settings(max_examples=400)
def test_escaped_text_has_no_unsafe_character_and_decodes_back(text: str) -> None:
    one = escape_controls(text)
    assert not any(is_unsafe(c) for c in one)
    assert unescape_controls(one) == text
    many = escape_controls(text, keep_newlines=True, keep_tabs=True)
    assert not any(is_unsafe(c) for c in many if c not in "\n\t")
    assert unescape_controls(many) == text


@given(VISIBLE_TEXT, VISIBLE_TEXT)
@settings(max_examples=300)
def test_escaping_is_injective(first: str, second: str) -> None:
    if first != second:
        assert escape_controls(first) != escape_controls(second)


@given(st.text(max_size=50), st.sampled_from(["\x1b", "\x9b", "\u202e", "\x00", "\\", "\n"]))
def test_texts_differing_in_a_control_stay_distinct(text: str, control: str) -> None:
    middle = len(text) // 2
    with_control = text[:middle] + control + text[middle:]
    assert escape_controls(with_control) != escape_controls(text)


def test_allowed_categories_only() -> None:
    for point in (0x00, 0x1F, 0x7F, 0x80, 0x9F, 0x200E, 0x202A, 0x2066, 0x061C, 0xFEFF, 0xE000):
        assert is_unsafe(chr(point)), hex(point)
    for char in "aé漢😀 \u200d":
        assert not is_unsafe(char)
    assert unicodedata.category("\u0378") == "Cn" and is_unsafe("\u0378")


@given(VISIBLE_TEXT)
@settings(max_examples=150, deadline=None)
def test_any_text_renders_inert_through_rich(text: str) -> None:
    _assert_inert(_render(plain(text, style="bold"), one_line(text)))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | VISIBLE_TEXT,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(VISIBLE_TEXT, inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_safe_output_parses_back_and_has_nothing_unsafe(value: object) -> None:
    dumped = json.dumps(json_safe(value), ensure_ascii=False)
    assert not any(is_unsafe(c) for c in dumped)
    assert json.loads(dumped) == json_safe(value)


@given(VISIBLE_TEXT)
@settings(max_examples=200, deadline=None)
def test_markdown_and_html_carry_the_text_and_nothing_more(text: str) -> None:
    rendered = (
        MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown_text(text))
    )
    assert set(re.findall(r"</?([a-z0-9]+)", rendered)) <= {"p", "br"}
    cell = markdown_text(text, table_cell=True)
    assert "\n" not in cell and not re.search(r"(?<!\\)\|", cell.replace("\\\\", ""))
    shown = html_text(text)
    assert not re.search(r"[<>\"']", shown)
    assert html.unescape(shown) == escape_controls(text, keep_newlines=True)
