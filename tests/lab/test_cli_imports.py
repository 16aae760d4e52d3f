"""Imports from the command line: a big CSV in batches with progress, a .env all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mxlab.memory_keyring import MemoryKeyring

Run = Callable[..., tuple[int, str, str]]


def test_a_batch_csv_imports_in_batches_and_says_how_far(
    mx: Run, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    rows = ["EmailAddress,UserName,Password"]
    rows += [f"user{n}@hotelsales.cl,user{n}.hs@gmail.com,pw-{n:05d}-secret" for n in range(450)]
    csv = tmp_path / "batch.csv"
    csv.write_text("\r\n".join(rows) + "\r\n")
    code, out, err = mx("accounts", "import-csv", str(csv), "--yes")
    assert code == 0, err
    assert "450 account(s) created" in out
    # not a terminal: one progress line per committed batch (200 rows each)
    assert [line for line in err.splitlines() if line.startswith("imported")] == [
        "imported 200 / 450",
        "imported 400 / 450",
        "imported 450 / 450",
    ]
    assert len(memory_keyring.entries) == 450
    assert "pw-00001-secret" not in out + err


def test_env_rewrite_refused_changes_nothing(
    mx: Run, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "SMTP_HOST=smtp.office365.com\nSMTP_PORT=587\n"
        "SMTP_USER=ventas@example.com\nSMTP_PASSWORD=Pa55-word-9\n"
    )
    (tmp_path / "not-a-dir").write_text("")
    link = tmp_path / "link.env"
    link.symlink_to(tmp_path / "not-a-dir" / "x.env")  # dangling: cannot be read or rewritten
    code, _, err = mx("accounts", "import-env", str(link), "--rewrite", "--yes")
    assert code == 2 and "internal error" not in err
    code, out, err = mx("accounts", "import-env", str(env), "--rewrite", "--yes")
    assert code == 0, err
    assert "1 secret line(s) replaced by a comment" in out
    assert "Pa55-word-9" not in env.read_text()
    assert list(memory_keyring.entries.values()) == ["Pa55-word-9"]
