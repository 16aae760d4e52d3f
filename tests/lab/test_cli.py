"""The command line, run as a user runs it (a subprocess), against the lab."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from mxlab.certs import LabCertificates
from mxlab.smtp import SmtpLabServer
from tests.conftest import LAB_PASSWORD, LAB_USER, ROOT, secret_free
from tests.labkit.hostile import HostilePeer

QUICK = ["--timeout", "2"]


def mxpilot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mxpilot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def probe_json(*args: str, stdin: str = "") -> tuple[int, dict[str, Any]]:
    done = mxpilot("probe", *args, "--json", stdin=stdin)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_probe_json_schema_and_exit_zero(
    smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates
) -> None:
    server = smtp_server("starttls")
    code, out = probe_json(
        f"{server.host}:{server.port}",
        "--security",
        "starttls",
        "--user",
        LAB_USER,
        "--password-stdin",
        "--ca-file",
        str(lab_certs.ca_pem),
        *QUICK,
        stdin=LAB_PASSWORD + "\n",
    )
    assert code == 0
    assert out["status"] == "pass"
    (probe,) = out["probes"]
    assert set(probe) >= {
        "target",
        "status",
        "security_used",
        "verified",
        "cancelled",
        "duration_ms",
        "phases",
        "diagnoses",
    }
    assert probe["target"] == {
        "host": server.host,
        "port": server.port,
        "protocol": "smtp",
        "security": "starttls",
        "username": LAB_USER,
    }
    phase_keys = {
        "name",
        "label",
        "status",
        "duration_ms",
        "summary",
        "kind",
        "code",
        "enhanced",
        "facts",
        "transcript",
    }
    assert all(set(p) == phase_keys for p in probe["phases"])
    assert [p["name"] for p in probe["phases"]][-1] == "auth"


def test_password_never_leaves_stdin(
    smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates
) -> None:
    server = smtp_server("starttls", "o365_tenant_disabled")
    done = mxpilot(
        "probe",
        f"{server.host}:{server.port}",
        "--user",
        LAB_USER,
        "--password-stdin",
        "--ca-file",
        str(lab_certs.ca_pem),
        "-v",
        *QUICK,
        stdin=LAB_PASSWORD + "\n",
    )
    assert done.returncode == 1
    assert "5.7.139" in done.stdout
    assert "Set-CASMailbox" in done.stdout
    assert secret_free(done.stdout + done.stderr, LAB_PASSWORD)


def test_failed_check_exits_one_with_diagnosis(
    smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates
) -> None:
    server = smtp_server("tls")
    code, out = probe_json(
        f"{server.host}:{server.port}",
        "--security",
        "starttls",
        "--ca-file",
        str(lab_certs.ca_pem),
        *QUICK,
    )
    assert code == 1
    (probe,) = out["probes"]
    assert probe["status"] == "fail"
    assert probe["diagnoses"][0]["id"].startswith("mode.")


def test_preset_matrix_concludes_587_is_blocked(
    smtp_server: Callable[..., SmtpLabServer],
    hostile_peer: Callable[..., HostilePeer],
    lab_certs: LabCertificates,
) -> None:
    dropped = hostile_peer("dropped_syn")
    smtps = smtp_server("tls")
    code, out = probe_json(
        "127.0.0.1",
        "--preset",
        "custom",
        "--port-map",
        f"submission={dropped.port},smtps={smtps.port}",
        "--ca-file",
        str(lab_certs.ca_pem),
        *QUICK,
    )
    assert code == 1
    assert [p["role"] for p in out["probes"]] == ["submission", "smtps"]
    assert out["probes"][0]["phases"][-1]["kind"] == "connect.timeout"
    assert out["probes"][1]["status"] == "pass"
    (conclusion,) = out["conclusions"]
    assert conclusion["id"] == "net.port_blocked_587"
    commands = " ".join(f["command"] or "" for f in conclusion["fixes"])
    assert "EMAIL_USE_SSL" in commands or "SMTP_SSL" in commands


@pytest.mark.parametrize(
    "args",
    [
        ["probe"],
        ["probe", "mail.example.com:99999"],
        ["probe", "mail.example.com:abc"],
        ["probe", "bad host name"],
        ["probe", "127.0.0.1:25", "--timeout", "-1"],
        ["probe", "--preset", "nope"],
        ["probe", "--preset", "custom"],
        ["probe", "127.0.0.1:25", "--nameserver", "not-an-ip"],
        ["probe", "127.0.0.1:25", "--ca-file", "/nonexistent.pem"],
        ["probe", "127.0.0.1:25", "--user", "u"],  # no terminal, no --password-stdin
        ["probe", "--preset", "custom", "127.0.0.1", "--port-map", "bogus=1"],
        ["probe", "--no-such-option"],
        ["explain"],
    ],
)
def test_usage_errors_exit_two_with_one_clear_line(args: list[str]) -> None:
    done = mxpilot(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip()


def test_password_as_argument_is_not_accepted() -> None:
    done = mxpilot("probe", "127.0.0.1:25", "--user", "u", "--password", "x")
    assert done.returncode == 2


def test_version_and_help() -> None:
    assert mxpilot("--version").stdout.startswith("mxpilot ")
    help_text = mxpilot("probe", "--help").stdout
    for option in ("--preset", "--password-stdin", "--ca-file", "--insecure", "--json"):
        assert option in help_text


def test_explain_reads_stdin_and_argument() -> None:
    done = mxpilot(
        "explain",
        "--json",
        "--mailbox",
        "ops@example.com",
        stdin="SMTP Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
        "is disabled for the Tenant.",
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["findings"]
    assert (found and "5.7.139" in json.dumps(found[0])) or "SMTP AUTH" in found[0]["title"]
    assert "ops@example.com" in json.dumps(found)
    plain = mxpilot("explain", "Conexión cerrada inesperadamente")
    assert plain.returncode == 0 and plain.stdout.strip()
    nothing = mxpilot("explain", "the weather is nice today")
    assert nothing.returncode == 1


def test_ssl_cert_file_is_honoured_and_insecure_marks_unverified(
    smtp_server: Callable[..., SmtpLabServer], lab_certs: LabCertificates
) -> None:
    import os

    server = smtp_server("tls")
    address = f"{server.host}:{server.port}"
    untrusted = mxpilot("probe", address, "--security", "tls", *QUICK)
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stdout
    env = {**os.environ, "SSL_CERT_FILE": str(lab_certs.ca_pem)}
    trusted = subprocess.run(
        [sys.executable, "-m", "mxpilot", "probe", address, "--security", "tls", *QUICK],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert trusted.returncode == 0, trusted.stdout
    insecure = mxpilot("probe", address, "--security", "tls", "--insecure", *QUICK)
    assert "UNVERIFIED" in insecure.stdout
    _, out = probe_json(address, "--security", "tls", "--insecure", *QUICK)
    assert out["probes"][0]["verified"] is False


def test_ctrl_c_cancels_cleanly(hostile_peer: Callable[..., HostilePeer]) -> None:
    """SIGINT during a probe that waits on a dropped port: exit 130, no traceback."""
    import signal
    import time

    dropped = hostile_peer("dropped_syn")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mxpilot",
            "probe",
            f"{dropped.host}:{dropped.port}",
            "--timeout",
            "30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err + out
