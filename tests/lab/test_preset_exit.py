"""``mxpilot probe --preset``: the exit code when port 25 is blocked on a client network.

Port 25 that drops SYNs (it times out) while 587 and 465 answer is what ISPs and corporate
networks do; the matrix's own conclusion (``net.port25_blocked``) calls it normal, so that
failure counts as a warning and the run exits 0. Any other failure still exits 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from mxlab.certs import LabCertificates
from mxlab.smtp import SmtpLabServer
from tests.conftest import ROOT
from tests.labkit.hostile import HostilePeer

QUICK = ["--timeout", "2"]

Servers = Callable[..., SmtpLabServer]
Peers = Callable[..., HostilePeer]


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    """``mxpilot probe ARGS`` as a user runs it (a subprocess)."""
    return subprocess.run(
        [sys.executable, "-m", "mxpilot", "probe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def preset_args(ports: dict[str, int], certs: LabCertificates) -> list[str]:
    port_map = ",".join(f"{role}={port}" for role, port in ports.items())
    return [
        "127.0.0.1",
        "--preset",
        "custom",
        "--port-map",
        port_map,
        "--ca-file",
        str(certs.ca_pem),
        *QUICK,
    ]


def preset_json(ports: dict[str, int], certs: LabCertificates) -> tuple[int, dict[str, Any]]:
    done = probe(*preset_args(ports, certs), "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_port_25_blocked_while_587_and_465_pass_exits_zero(
    smtp_server: Servers, hostile_peer: Peers, lab_certs: LabCertificates
) -> None:
    submission, smtps = smtp_server("starttls"), smtp_server("tls")
    relay = hostile_peer("dropped_syn")
    ports = {"submission": submission.port, "smtps": smtps.port, "relay": relay.port}
    code, out = preset_json(ports, lab_certs)
    assert code == 0, out
    assert out["status"] == "warn"
    statuses = {p["role"]: p["status"] for p in out["probes"]}
    assert statuses == {"submission": "pass", "smtps": "pass", "relay": "fail"}
    relay_probe = next(p for p in out["probes"] if p["role"] == "relay")
    assert relay_probe["phases"][-1]["kind"] == "connect.timeout"
    (conclusion,) = out["conclusions"]
    assert conclusion["id"] == "net.port25_blocked" and conclusion["severity"] == "warn"
    assert "(normal)" in conclusion["title"]
    assert out["expected_failures"] == ["relay"]


def test_text_output_exits_zero_too_and_says_it_is_normal_in_spanish(
    smtp_server: Servers, hostile_peer: Peers, lab_certs: LabCertificates
) -> None:
    submission, smtps = smtp_server("starttls"), smtp_server("tls")
    relay = hostile_peer("dropped_syn")
    ports = {"submission": submission.port, "smtps": smtps.port, "relay": relay.port}
    done = probe(*preset_args(ports, lab_certs), "--lang", "es")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "El puerto 25 está bloqueado en esta red (normal)" in done.stdout


def test_another_failure_beside_port_25_still_exits_one(
    smtp_server: Servers, hostile_peer: Peers, lab_certs: LabCertificates
) -> None:
    smtps = smtp_server("tls")
    submission, relay = hostile_peer("dropped_syn"), hostile_peer("dropped_syn")
    ports = {"submission": submission.port, "smtps": smtps.port, "relay": relay.port}
    code, out = preset_json(ports, lab_certs)
    assert code == 1
    assert out["status"] == "fail"
    ids = {c["id"] for c in out["conclusions"]}
    assert ids == {"net.port_blocked_587", "net.port25_blocked"}
    assert out["expected_failures"] == ["relay"]  # 587 is not normal to block


def test_port_25_refused_is_not_a_network_block_and_exits_one(
    smtp_server: Servers, hostile_peer: Peers, lab_certs: LabCertificates
) -> None:
    submission, smtps = smtp_server("starttls"), smtp_server("tls")
    relay = hostile_peer("refused")
    ports = {"submission": submission.port, "smtps": smtps.port, "relay": relay.port}
    code, out = preset_json(ports, lab_certs)
    assert code == 1
    assert out["status"] == "fail"
    assert out["conclusions"] == [] and out["expected_failures"] == []


def test_every_port_timing_out_exits_one(hostile_peer: Peers, lab_certs: LabCertificates) -> None:
    ports = {role: hostile_peer("dropped_syn").port for role in ("submission", "smtps", "relay")}
    code, out = preset_json(ports, lab_certs)
    assert code == 1
    assert [c["id"] for c in out["conclusions"]] == ["net.all_blocked"]
    assert out["expected_failures"] == []
