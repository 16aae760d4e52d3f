"""Accounts in the workspace: SQLite rows, secrets in the keyring, validation."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import keyring.backends.fail
import keyring.backends.null
import pytest
from keyrings.alt.file import PlaintextKeyring

from mxlab.memory_keyring import MemoryKeyring
from probes.mail.model import Protocol, Security
from workspace.accounts.book import AccountConflict, AccountNotFound, NewAccount, SecretState
from workspace.accounts.model import (
    Account,
    AccountError,
    AccountRole,
    AuthKind,
    MailEndpoint,
    Side,
    guess_provider,
    validate,
    with_preset_endpoints,
)
from workspace.accounts.targets import account_targets
from workspace.schema import SCHEMA_VERSION
from workspace.secrets import SERVICE, BackendState, SecretStore, SecretStoreError, backend_status
from workspace.session import Workspace
from workspace.store import Store, StoreError

SECRET = "K0ntr0l!OC#2025$Sys"


def office365_account(name: str = "controloc") -> Account:
    return with_preset_endpoints(
        Account(
            name=name,
            address=f"{name}@hotelsales.cl",
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.MONITORING, AccountRole.SENDER, AccountRole.ORDER_INBOX),
        )
    )


def files_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_account_round_trip_and_secret_only_in_keyring(
    workspace: Workspace, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    created = workspace.accounts.add(office365_account(), SECRET)
    assert created.uid and created.revision == 1
    loaded = workspace.accounts.get("CONTROLOC")  # names are case-insensitive
    assert loaded == created
    assert loaded.imap == MailEndpoint("outlook.office365.com", 993, Security.TLS)
    assert loaded.smtp == MailEndpoint("smtp.office365.com", 587, Security.STARTTLS)
    assert memory_keyring.entries == {(SERVICE, f"{created.uid}/password"): SECRET}
    assert workspace.accounts.secret_state(loaded) is SecretState.STORED
    assert SECRET.encode() not in files_bytes(tmp_path)
    assert SECRET not in repr(NewAccount(loaded, SECRET))


def test_validation_names_every_bad_field(workspace: Workspace) -> None:
    bad = Account(
        name="-bad name",
        address="not-an-address",
        provider="hotmail",
        imap=MailEndpoint("imap example.com", 993, Security.TLS),
        smtp=MailEndpoint("smtp.example.com", 70000, Security.AUTO),
        username="user name",
    )
    with pytest.raises(AccountError) as caught:
        workspace.accounts.add(bad, SECRET)
    problems = caught.value.problems
    assert set(problems) >= {"name", "address", "provider", "imap-host", "smtp-port", "username"}
    assert "out of range" in problems["smtp-port"]
    assert SECRET not in str(caught.value)
    assert workspace.accounts.list() == []


def test_a_role_needs_its_server() -> None:
    sender = Account(name="app", address="app@example.com", roles=(AccountRole.SENDER,))
    with pytest.raises(AccountError) as caught:
        validate(sender)
    assert "smtp-host" in caught.value.problems
    assert "sender" in caught.value.problems["smtp-host"]
    fixed = replace(sender, smtp=MailEndpoint("smtp.example.com", 587, Security.STARTTLS))
    assert validate(fixed).smtp is not None


def test_duplicate_names_are_refused_case_insensitively(workspace: Workspace) -> None:
    workspace.accounts.add(office365_account("ventas"))
    with pytest.raises(AccountError, match="exists"):
        workspace.accounts.add(office365_account("VENTAS"))


def test_stale_update_is_a_conflict_not_a_lost_update(workspace: Workspace) -> None:
    first = workspace.accounts.add(office365_account())
    mine = replace(first, notes="mine")
    theirs = replace(first, notes="theirs")
    saved = workspace.accounts.update(theirs)
    assert saved.revision == 2
    with pytest.raises(AccountConflict, match="changed elsewhere"):
        workspace.accounts.update(mine)
    assert workspace.accounts.get(first.name).notes == "theirs"


def test_rename_keeps_the_secret(workspace: Workspace) -> None:
    created = workspace.accounts.add(office365_account(), SECRET)
    renamed = workspace.accounts.update(replace(created, name="oc-system"))
    assert workspace.accounts.secret(workspace.accounts.get("oc-system")) == SECRET
    assert renamed.uid == created.uid
    with pytest.raises(AccountNotFound):
        workspace.accounts.get("controloc")


def test_remove_deletes_every_secret(workspace: Workspace, memory_keyring: MemoryKeyring) -> None:
    created = workspace.accounts.add(office365_account(), SECRET)
    memory_keyring.set_password(SERVICE, f"{created.uid}/oauth-refresh", "refresh-token-xyz")
    workspace.accounts.add(office365_account("other"), "other-secret")
    workspace.accounts.remove("controloc")
    assert [a.name for a in workspace.accounts.list()] == ["other"]
    assert all(not key[1].startswith(created.uid) for key in memory_keyring.entries)


class BrokenAfterOne(MemoryKeyring):
    """Stores one secret, then refuses (a keyring locked mid-import)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.entries:
            raise keyring.errors.PasswordSetError("locked")
        super().set_password(service, username, password)


def test_import_is_all_or_nothing_even_when_the_keyring_fails(tmp_path: Path) -> None:
    backend = BrokenAfterOne()
    with Workspace.open(tmp_path / "ws.sqlite3", SecretStore(backend)) as ws:
        batch = [NewAccount(office365_account(f"box{n}"), f"secret-{n}") for n in range(3)]
        with pytest.raises(SecretStoreError, match="refused"):
            ws.accounts.add_many(batch)
        assert ws.accounts.list() == []
        assert backend.entries == {}  # the one stored secret was taken back
        invalid = [*batch[:2], NewAccount(replace(batch[2].account, address="nope"), "x")]
        with pytest.raises(AccountError, match="box2"):
            ws.accounts.add_many(invalid)
        assert ws.accounts.list() == []


@pytest.mark.parametrize(
    ("backend", "state"),
    [
        (keyring.backends.fail.Keyring(), BackendState.MISSING),
        (keyring.backends.null.Keyring(), BackendState.MISSING),
        (PlaintextKeyring(), BackendState.INSECURE),
        (MemoryKeyring(), BackendState.READY),
    ],
)
def test_backend_classification(backend: Any, state: BackendState) -> None:
    status = backend_status(backend)
    assert status.state is state
    if state is not BackendState.READY:
        assert "gnome-keyring" in status.describe() or "Keychain" in status.describe()


def test_insecure_or_missing_backend_is_refused(tmp_path: Path) -> None:
    plaintext = PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    for n, backend in enumerate((keyring.backends.fail.Keyring(), plaintext)):
        with Workspace.open(tmp_path / f"ws{n}.sqlite3", SecretStore(backend)) as ws:
            with pytest.raises(SecretStoreError, match="refusing to store"):
                ws.accounts.add(office365_account("first"), SECRET)
            assert ws.accounts.list() == []
            account = ws.accounts.add(office365_account("second"))  # no secret: fine
            assert ws.accounts.secret_state(account) is SecretState.UNAVAILABLE
    assert not (tmp_path / "keyring_pass.cfg").exists()


def test_store_file_is_private_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "ws.sqlite3"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
        assert store.query("PRAGMA foreign_keys")[0][0] == 1
        assert store.integrity() == "ok"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with Store(path) as again:  # reopening migrates nothing and loses nothing
        assert again.schema_version == SCHEMA_VERSION


def test_newer_or_foreign_files_are_refused_clearly(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer mxpilot"):
        Store(newer)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable mxpilot workspace"):
        Store(junk)


def test_directory_workspace_path_means_the_file_inside(
    tmp_path: Path, memory_keyring: Any
) -> None:
    with Workspace.open(tmp_path) as ws:
        assert ws.path == tmp_path / "workspace.sqlite3"


def test_plan_targets_from_an_account() -> None:
    account = validate(replace(office365_account(), uid="u1", extra={"mailbox": "Pedidos"}))
    targets = account_targets(account, SECRET, check_inbox=True)
    assert [(t.protocol, t.host, t.port, t.security) for t in targets] == [
        (Protocol.IMAP, "outlook.office365.com", 993, Security.TLS),
        (Protocol.SMTP, "smtp.office365.com", 587, Security.STARTTLS),
    ]
    assert targets[0].mailbox == "Pedidos" and targets[0].check_inbox
    assert targets[0].credentials is not None and targets[0].credentials.username == account.address
    assert SECRET not in repr(targets)
    oauth = replace(account, auth=AuthKind.OAUTH)
    (smtp,) = account_targets(oauth, "token", protocols=[Protocol.SMTP])
    assert smtp.credentials is not None and smtp.credentials.method.value == "xoauth2"
    assert all(t.credentials is None for t in account_targets(account, SECRET, login=False))


def test_guess_provider() -> None:
    assert guess_provider("Outlook.Office365.com.") == "office365"
    assert guess_provider("imap.gmail.com") == "gmail"
    assert guess_provider("mail.example.net") == "custom"
