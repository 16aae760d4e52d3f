"""``mxpilot accounts`` and ``mxpilot checklist`` as a user runs them (in-memory keyring)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.memory_keyring import MemoryKeyring
from mxlab.smtp import PERSONALITIES, SmtpLabServer
from tests.conftest import IMAP_USERS, LAB_PASSWORD, LAB_USER, Run


def accounts(mx: Run) -> dict[str, Any]:
    code, out, _ = mx("accounts", "list", "--json")
    assert code == 0
    return {a["name"]: a for a in json.loads(out)["accounts"]}


def with_check(items: dict[str, Any], **spec: str) -> list[dict[str, Any]]:
    return [
        i
        for i in items.values()
        if i["check"] and all(i["check"].get(k) == v for k, v in spec.items())
    ]


def test_add_edit_remove_with_the_secret_in_the_keyring(
    mx: Run, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    code, out, err = mx(
        "accounts", "add", "controloc", "--address", "controloc@hotelsales.cl",
        "--provider", "office365", "--side", "service",
        "--role", "monitoring", "--role", "sender", "--role", "order-inbox",
        "--password-stdin", stdin="K0ntr0l!OC#2025$Sys\n",
    )  # fmt: skip
    assert code == 0, err
    assert "password stored in the OS keyring" in out
    listed = accounts(mx)["controloc"]
    assert listed["imap"] == "outlook.office365.com:993 tls"
    assert listed["smtp"] == "smtp.office365.com:587 starttls"
    assert listed["roles"] == ["monitoring", "sender", "order-inbox"]
    assert listed["secret"] == "stored"
    assert list(memory_keyring.entries.values()) == ["K0ntr0l!OC#2025$Sys"]

    code, out, err = mx(
        "accounts", "edit", "controloc", "--rename", "oc", "--smtp", "smtp.office365.com:465",
        "--notes", "sistema de OC",
    )  # fmt: skip
    assert code == 0, err
    edited = accounts(mx)["oc"]
    assert edited["smtp"] == "smtp.office365.com:465 tls" and edited["secret"] == "stored"
    code, _, err = mx("accounts", "edit", "oc", "--set-password", "--password-stdin", stdin="n3w\n")
    assert code == 0, err
    assert list(memory_keyring.entries.values()) == ["n3w"]

    code, _, err = mx("accounts", "remove", "oc")
    assert code == 2 and "--yes" in err
    code, out, _ = mx("accounts", "remove", "oc", "--yes")
    assert code == 0 and "deleted" in out
    assert accounts(mx) == {} and memory_keyring.entries == {}
    assert not any(b"n3w" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_bad_input_is_a_clear_message_and_exit_2(mx: Run) -> None:
    code, _, err = mx("accounts", "add", "x", "--address", "nope", "--imap", "imap.x.com:99999")
    assert code == 2
    assert "address: 'nope' is not an e-mail address" in err
    assert "out of range" in err and "Traceback" not in err
    code, _, err = mx("accounts", "add", "app", "--address", "a@b.cl", "--role", "sender")
    assert code == 2 and "smtp-host" in err and "SMTP server" in err
    code, _, err = mx("accounts", "show", "ghost")
    assert code == 2 and "no account named 'ghost'" in err
    code, _, err = mx("checklist", "show")
    assert code == 2 and "checklist new" in err


def test_a_missing_keyring_refuses_and_says_how_to_get_one(
    mx: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    code, out, _ = mx("accounts", "keyring")
    assert code == 1 and "no keyring available" in out and "gnome-keyring" in out
    code, _, err = mx(
        "accounts", "add", "a", "--address", "a@b.cl", "--provider", "office365",
        "--password-stdin", stdin="secret-pw\n",
    )  # fmt: skip
    assert code == 1 and "refusing to store a secret" in err
    assert accounts(mx) == {}


def test_import_csv_reports_bad_rows_and_imports_good_ones(
    mx: Run, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    csv = tmp_path / "batch.csv"
    csv.write_bytes(
        "\ufeffEmailAddress,UserName,Password\r\n"
        "ana@hotelsales.cl,ana.hs@gmail.com,abcdefghijklmnop\r\n"
        "broken-address,luis@gmail.com,pw2\r\n"
        "luis@hotelsales.cl,luis.hs@gmail.com,\r\n".encode()
    )
    code, out, err = mx("accounts", "import-csv", str(csv), "--yes")
    assert code == 1
    assert "batch.csv:3:" in err and "batch.csv:4:" in err
    assert "pw2" not in err
    assert "1 account(s) created" in out
    (created,) = accounts(mx).values()
    assert created["address"] == "ana.hs@gmail.com" and created["side"] == "source"
    assert created["imap"] == "imap.gmail.com:993 tls" and created["auth"] == "app-password"
    assert list(memory_keyring.entries.values()) == ["abcdefghijklmnop"]


def test_checklist_walk_through(mx: Run, tmp_path: Path) -> None:
    code, out, err = mx("checklist", "new", "--domain", "hotelsales.cl", "--lang", "es")
    assert code == 0, err
    assert "45 items" in out or "items (es)" in out
    code, out, _ = mx("checklist", "show", "--json")
    shown = json.loads(out)
    assert shown["lang"] == "es" and shown["done"] == 0
    first = shown["items"][0]["id"]
    code, out, err = mx("checklist", "check", first, "--by", "ana", "--note", "licencia OK")
    assert code == 0, err
    code, out, _ = mx("checklist", "show", first, "--json")
    item = json.loads(out)
    assert item["state"] == "done" and item["changed_by"] == "ana" and item["note"] == "licencia OK"
    assert [e["action"] for e in item["events"]] == ["done", "note"]
    code, _, err = mx("checklist", "check", "no-such-thing")
    assert code == 2 and "no item" in err
    code, out, _ = mx("checklist", "show")
    assert "1/" in out and "licencia OK" in out
    report = tmp_path / "informe.md"
    code, out, err = mx("checklist", "report", "--output", str(report))
    assert code == 0, err
    text = report.read_text(encoding="utf-8")
    assert "hotelsales.cl" in text and "licencia OK" in text and "Avance" in text
    code, out, _ = mx("checklist", "report", "--format", "html")
    assert out.startswith("<!DOCTYPE html>")


def test_probe_account_and_verify_against_the_lab(
    mx: Run,
    smtp_server: Callable[..., SmtpLabServer],
    dovecot: Any,
    lab_certs: LabCertificates,
    zones: DnsLab,
) -> None:
    smtp = smtp_server("starttls")
    code, _, err = mx(
        "accounts", "add", "sender", "--address", LAB_USER, "--side", "target",
        "--provider", "office365", "--role", "sender",
        "--smtp", f"127.0.0.1:{smtp.port}", "--smtp-security", "starttls",
        "--password-stdin", stdin=LAB_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    imap_user = "imap@lab.test"
    code, _, err = mx(
        "accounts", "add", "reader", "--address", imap_user, "--side", "target",
        "--role", "monitoring", "--role", "order-inbox",
        "--imap", f"127.0.0.1:{dovecot.imaps_port}",
        "--password-stdin", stdin=IMAP_USERS[imap_user] + "\n",
    )  # fmt: skip
    assert code == 0, err
    ca = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    code, out, err = mx("probe", "--account", "sender", "--json", *ca)
    assert code == 0, err
    (probe,) = json.loads(out)["probes"]
    assert probe["status"] == "pass" and probe["target"]["username"] == LAB_USER
    assert LAB_PASSWORD not in out
    code, out, _ = mx("accounts", "show", "sender", "--json")
    assert json.loads(out)["history"][0]["status"] == "pass"

    mx("checklist", "new", "--domain", "m365.lab.test", "--tenant", "labtenant")
    code, out, err = mx(
        "checklist", "verify", "--json", "--nameserver", f"127.0.0.1:{zones.port}", *ca
    )
    verdicts = {o["item"]: o for o in json.loads(out)}
    assert code == 1  # Gmail-era checks fail on a domain already on Microsoft 365
    code, out, _ = mx("checklist", "show", "--json")
    items = {i["id"]: i for i in json.loads(out)["items"]}
    smtp_items = with_check(items, protocol="smtp", side="target")
    assert smtp_items
    for item in smtp_items:
        assert item["status"] == "verified", verdicts[item["id"]]["summary"]
    (mx_item,) = with_check(items, record="mx", profile="office365")
    assert mx_item["status"] == "verified" and mx_item["evidence"]["runs"]


def test_plain_probe_and_dns_runs_are_kept_as_history(
    mx: Run, smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates, zones: DnsLab
) -> None:
    smtp = smtp_server("starttls", personality="o365_tenant_disabled")
    target = ["probe", f"127.0.0.1:{smtp.port}", "--user", LAB_USER, "--password-stdin"]
    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    code, _, _ = mx(*target, *lab, stdin=LAB_PASSWORD + "\n")
    assert code == 1
    smtp.personality = PERSONALITIES["ok"]
    code, _, _ = mx(*target, *lab, stdin=LAB_PASSWORD + "\n")
    assert code == 0
    code, _, _ = mx(*target, *lab, "--no-history", stdin=LAB_PASSWORD + "\n")
    code, _, _ = mx("dns", "m365.lab.test", "--nameserver", f"127.0.0.1:{zones.port}")
    assert code == 0
    from workspace.history import RunHistory
    from workspace.store import Store

    with Store(mx.workspace / "workspace.sqlite3") as store:  # type: ignore[attr-defined]
        runs = RunHistory(store).recent()
        assert [r.kind for r in runs] == ["dns", "probe", "probe"]
        assert [r.status for r in runs[1:]] == ["pass", "fail"]
        assert "5.7.139" in runs[2].summary
        since = RunHistory(store).passing_since(runs[1].subject)
        assert since is not None and since.id == runs[1].id
        assert LAB_PASSWORD not in store.query("SELECT group_concat(result) FROM runs")[0][0]


def test_account_history_says_since_when_it_works(
    mx: Run, smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates
) -> None:
    smtp = smtp_server("starttls", personality="o365_tenant_disabled")
    code, _, err = mx(
        "accounts", "add", "app", "--address", LAB_USER, "--role", "sender",
        "--smtp", f"127.0.0.1:{smtp.port}", "--password-stdin", stdin=LAB_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    lab = ["--ca-file", str(lab_certs.ca_pem), "--timeout", "3"]
    assert mx("probe", "--account", "app", *lab)[0] == 1
    code, out, _ = mx("accounts", "show", "app", "--json")
    (failing,) = json.loads(out)["since"].values()
    assert failing.startswith("failing since")
    smtp.personality = PERSONALITIES["ok"]  # SMTP AUTH turned on for the mailbox
    assert mx("probe", "--account", "app", *lab)[0] == 0
    assert mx("probe", "--account", "app", *lab)[0] == 0
    code, out, _ = mx("accounts", "show", "app", "--json")
    shown = json.loads(out)
    (working,) = shown["since"].values()
    first_pass = shown["history"][1]  # newest first: pass, pass, fail
    assert working.startswith("working since") and f"run #{first_pass['id']}" in working
    code, out, _ = mx("accounts", "show", "app")
    assert "working since" in out and "5.7.139" in out
