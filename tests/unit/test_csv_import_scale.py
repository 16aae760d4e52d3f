"""Big CSV imports: linear work per row, batched commits, whole accounts when stopped.

Functional only (no timings; ``bench/csv_import.py`` measures): SQL statements
and keyring calls are counted per row, a second connection writes between two
batches, and an import stopped by Ctrl-C or a failure leaves exactly the
accounts of the committed batches, each with its secret.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import keyring.errors
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxlab.memory_keyring import MemoryKeyring
from workspace.accounts.book import ImportStopped, NewAccount
from workspace.accounts.model import AccountError, unique_name
from workspace.imports import migration_csv
from workspace.imports.migration_csv import parse_migration_csv, plan_csv_accounts
from workspace.secrets import SERVICE, SecretStore, SecretStoreError
from workspace.session import Workspace
from workspace.store import Store


class CountingKeyring(MemoryKeyring):
    """The in-memory keyring, counting calls; refuses the ``fail_at``-th store (1-based)."""

    def __init__(self, fail_at: int = 0) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.fail_at = fail_at

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store, or refuse the ``fail_at``-th time."""
        self.calls["set"] += 1
        if self.calls["set"] == self.fail_at:
            raise keyring.errors.PasswordSetError("locked")
        super().set_password(service, username, password)

    def get_password(self, service: str, username: str) -> str | None:
        """Read (counted)."""
        self.calls["get"] += 1
        return super().get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        """Delete (counted)."""
        self.calls["delete"] += 1
        super().delete_password(service, username)


def migration_text(rows: int, local: str | None = None) -> str:
    """A migration CSV of ``rows`` mailboxes; ``local``: every source shares that local part."""
    lines = ["EmailAddress,UserName,Password"]
    for n in range(rows):
        source = f"{local or f'user{n}'}@school{n}.example"
        lines.append(f"box{n}@contoso.example,{source},Pw-{n:05d}-x")
    return "\n".join(lines) + "\n"


def planned(ws: Workspace, rows: int) -> list[NewAccount]:
    """The accounts a ``rows``-row CSV plans in ``ws``, with their passwords."""
    parsed = parse_migration_csv(migration_text(rows))
    assert parsed.ok
    plan = plan_csv_accounts(parsed, existing_names=ws.accounts.names())
    return [NewAccount(account, secret) for account, secret in plan]


def open_ws(path: Path, backend: MemoryKeyring) -> Workspace:
    """A workspace at ``path`` whose secrets go to ``backend``."""
    return Workspace.open(path, SecretStore(backend))


def assert_whole(ws: Workspace, backend: MemoryKeyring, count: int) -> None:
    """Exactly ``count`` accounts, each with its secret, and no other secret."""
    accounts = ws.accounts.list()
    assert len(accounts) == count
    assert {key for key in backend.entries} == {
        (SERVICE, SecretStore.entry(a.uid)) for a in accounts
    }
    for account in accounts:
        line = int(account.notes.rsplit(" ", 1)[1])
        assert ws.accounts.secret(account) == f"Pw-{line - 2:05d}-x"


@pytest.mark.parametrize("rows", [120, 480])
def test_sql_statements_and_keyring_calls_grow_linearly(tmp_path: Path, rows: int) -> None:
    backend = CountingKeyring()
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:
        new = planned(ws, rows)
        statements: list[str] = []
        ws.store._conn.set_trace_callback(statements.append)
        created = ws.accounts.add_in_batches(new, batch_size=40)
        ws.store._conn.set_trace_callback(None)
        assert len(created) == rows
        batches = rows // 40
        kinds = Counter(sql.split()[0].upper() for sql in statements)
        # one INSERT per row, BEGIN and COMMIT per batch, one query of the names taken:
        assert kinds == Counter(INSERT=rows, BEGIN=batches, COMMIT=batches, SELECT=1)
        assert backend.calls == Counter(set=rows)  # one keyring write per row, no read
        assert_whole(ws, backend, rows)


def test_unique_names_try_a_bounded_number_of_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    numbered = migration_csv._Names._numbered

    def counting(base: str, number: int) -> str:
        tried.append(base)
        return numbered(base, number)

    monkeypatch.setattr(migration_csv._Names, "_numbered", staticmethod(counting))
    parsed = parse_migration_csv(migration_text(3000, local="info"))
    plan = plan_csv_accounts(parsed, existing_names={"info", "INFO-3"})
    names = [account.name for account, _ in plan]
    assert names[:3] == ["info-2", "info-4", "info-5"] and names[-1] == "info-3002"
    assert len(set(names)) == 3000
    assert len(tried) <= 3000 + 2  # one candidate per row, plus the taken ones skipped


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "A", "a-2", "b", "a-3", "x" * 64, "x" * 62 + "-2"]), max_size=30
    ),
    st.lists(st.sampled_from(["a", "a-2", "A-4", "x" * 64, "x" * 62 + "-3"]), max_size=5),
)
def test_names_match_unique_name(bases: list[str], existing: list[str]) -> None:
    names = migration_csv._Names(existing)
    taken = {name.lower() for name in existing}
    assert [names.claim(base) for base in bases] == [unique_name(base, taken) for base in bases]


def test_batches_commit_and_another_workspace_writes_between(tmp_path: Path) -> None:
    path, backend = tmp_path / "ws.sqlite3", CountingKeyring()
    seen: list[tuple[int, int, int]] = []
    with open_ws(path, backend) as ws:
        new = planned(ws, 250)
        visitor = new[0].account

        def between(done: int, total: int) -> None:
            # A second Workspace on its own connection, waiting at most 0.2 s for the lock.
            with Workspace(Store(path, busy_timeout=0.2), SecretStore(MemoryKeyring())) as other:
                count = len(other.accounts.list())  # the import's committed rows are visible
                other.accounts.add(replace(visitor, name=f"visitor{done}"))
            seen.append((done, total, count))

        ws.accounts.add_in_batches(new, batch_size=100, on_progress=between)
        assert seen == [(0, 250, 0), (100, 250, 101), (200, 250, 202), (250, 250, 253)]
        names = {a.name for a in ws.accounts.list()}
        assert len(names) == 254 and {"visitor0", "visitor100", "visitor250"} <= names
        assert len(backend.entries) == 250


def test_ctrl_c_between_batches_leaves_whole_accounts_and_says_how_far(tmp_path: Path) -> None:
    backend = CountingKeyring()
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:
        new = planned(ws, 250)

        def interrupt(done: int, total: int) -> None:
            if done == 100:
                raise KeyboardInterrupt

        with pytest.raises(ImportStopped) as stopped:
            ws.accounts.add_in_batches(new, batch_size=50, on_progress=interrupt)
        assert (stopped.value.done, stopped.value.total) == (100, 250)
        assert stopped.value.interrupted
        assert isinstance(stopped.value.__cause__, KeyboardInterrupt)
        assert [a.name for a in stopped.value.created] == [n.account.name for n in new[:100]]
        assert "after 100 of 250" in str(stopped.value) and "interrupted" in str(stopped.value)
        assert_whole(ws, backend, 100)


def test_keyring_failure_mid_batch_undoes_that_batch_only(tmp_path: Path) -> None:
    backend = CountingKeyring(fail_at=130)  # the 30th secret of the third batch
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:
        with pytest.raises(ImportStopped) as stopped:
            ws.accounts.add_in_batches(planned(ws, 250), batch_size=50)
        assert (stopped.value.done, stopped.value.total) == (100, 250)
        assert not stopped.value.interrupted
        assert isinstance(stopped.value.cause, SecretStoreError)
        assert "Pw-" not in str(stopped.value)
        assert backend.calls["delete"] == 29  # the batch's stored secrets taken back
        assert_whole(ws, backend, 100)


def test_a_row_that_cannot_be_inserted_takes_its_batch_secrets_back(tmp_path: Path) -> None:
    path, backend = tmp_path / "ws.sqlite3", CountingKeyring()
    with open_ws(path, backend) as ws:
        new = planned(ws, 150)
        clash = new[70].account.name

        def race(done: int, total: int) -> None:
            if done == 50:  # another process takes a name of the second batch meanwhile
                with open_ws(path, MemoryKeyring()) as other:
                    other.accounts.add(new[70].account)

        with pytest.raises(ImportStopped) as stopped:
            ws.accounts.add_in_batches(new, batch_size=50, on_progress=race)
        assert stopped.value.done == 50
        assert isinstance(stopped.value.cause, AccountError) and clash in str(stopped.value)
        accounts = ws.accounts.list()
        assert len(accounts) == 51  # the first batch, and the other process' account
        created = {a.uid for a in stopped.value.created}
        assert len(created) == 50 and created < {a.uid for a in accounts}
        assert {key[1] for key in backend.entries} == {SecretStore.entry(uid) for uid in created}


def test_stopped_right_after_a_commit_counts_that_batch(tmp_path: Path) -> None:
    backend = CountingKeyring()
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:

        def broken_display(done: int, total: int) -> None:
            if done == 150:
                raise RuntimeError("display gone")

        with pytest.raises(ImportStopped, match=r"after 150 of 200.*display gone"):
            ws.accounts.add_in_batches(planned(ws, 200), batch_size=50, on_progress=broken_display)
        assert_whole(ws, backend, 150)


def test_bad_or_taken_names_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    backend = CountingKeyring()
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:
        new = planned(ws, 300)
        ws.accounts.add(new[250].account)
        progress: list[tuple[int, int]] = []

        def note(done: int, total: int) -> None:
            progress.append((done, total))

        with pytest.raises(AccountError, match="exists"):
            ws.accounts.add_in_batches(new, batch_size=50, on_progress=note)
        assert progress == [] and backend.calls == Counter()
        assert len(ws.accounts.list()) == 1
        with pytest.raises(ValueError, match="batch_size"):
            ws.accounts.add_in_batches(new, batch_size=0)


def test_everything_in_one_batch_and_nothing_to_import(tmp_path: Path) -> None:
    backend = CountingKeyring()
    with open_ws(tmp_path / "ws.sqlite3", backend) as ws:
        progress: list[tuple[int, int]] = []
        assert (
            ws.accounts.add_in_batches([], on_progress=lambda d, t: progress.append((d, t))) == []
        )
        assert progress == [(0, 0)]
        created = ws.accounts.add_in_batches(planned(ws, 30))  # default batch size
        assert len(created) == 30
        assert_whole(ws, backend, 30)
