"""``mxpilot demo``: the app on a local lab, with no real account and no internet.

The lab (:mod:`mxlab.demo`) runs SMTP, IMAP and DNS servers on 127.0.0.1; a fresh
workspace points at them, its passwords in an in-memory keyring installed for this
process only, so the user's real keyring is never read or written. ``--no-tui`` keeps
the lab up for the command line instead and prints what to try.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from mxpilot.common import EXIT_OK, UsageError, workspace_option

if TYPE_CHECKING:
    from signal import _HANDLER as SignalHandler

    from mxlab.demo import DemoLab

_WAIT_STEP_S = 0.2

BANNER = {
    "en": (
        "mxpilot DEMO: nothing here is real.",
        "Every server runs on this computer (127.0.0.1): no real account, no internet.",
        "Domain {domain}, tenant {tenant}; passwords only in a throw-away in-memory keyring.",
    ),
    "es": (
        "mxpilot DEMO: nada de esto es real.",
        "Todos los servidores corren en este equipo (127.0.0.1): sin cuentas reales ni internet.",
        "Dominio {domain}, tenant {tenant}; contraseñas solo en un llavero temporal en memoria.",
    ),
}

HELP = {
    "en": {
        "running": "The demo lab runs here:",
        "workspace": "Demo workspace",
        "try": "Try, in another terminal:",
        "keyring": (
            "Other processes cannot read the demo's in-memory keyring: --account probes and "
            "checklist verify connect without logging in. To log in, use --user and type the "
            "demo password {password}."
        ),
        "fix": (
            "Type 'fix' and Enter to turn SMTP AUTH on for the demo tenant (the fix for "
            "5.7.139), 'break' to turn it off again."
        ),
        "stop": "Press ctrl+c to stop the lab.",
        "fixed": "SMTP AUTH is now on for the demo tenant.",
        "broken": "SMTP AUTH is now off for the demo tenant (535 5.7.139).",
        "stopped": "Demo lab stopped.",
    },
    "es": {
        "running": "El laboratorio de la demo corre aquí:",
        "workspace": "Espacio de trabajo de la demo",
        "try": "Probar, en otra terminal:",
        "keyring": (
            "Otros procesos no pueden leer el llavero en memoria de la demo: las pruebas con "
            "--account y checklist verify se conectan sin iniciar sesión. Para iniciar sesión, "
            "usar --user y escribir la contraseña de la demo {password}."
        ),
        "fix": (
            "Escribir 'fix' y Enter para activar SMTP AUTH en el tenant de la demo (la solución "
            "de 5.7.139), 'break' para volver a desactivarlo."
        ),
        "stop": "Pulsar ctrl+c para detener el laboratorio.",
        "fixed": "SMTP AUTH está activado para el tenant de la demo.",
        "broken": "SMTP AUTH está desactivado para el tenant de la demo (535 5.7.139).",
        "stopped": "Laboratorio de la demo detenido.",
    },
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        parents=[workspace_option()],
        help="try every screen on a local demo lab: no real account, no internet",
        description="Start a lab of mail and DNS servers on 127.0.0.1 and open the app on a "
        "demo workspace pointed at it. Without --workspace the workspace is temporary.",
    )
    demo.add_argument("--lang", choices=["en", "es"], default=None, help="language")
    demo.add_argument(
        "--no-tui",
        action="store_true",
        help="start the lab only, print what runs where and the commands to try; ctrl+c ends",
    )


def banner(lang: str, domain: str, tenant: str) -> str:
    """The DEMO banner, framed so it cannot be missed."""
    lines = [line.format(domain=domain, tenant=tenant) for line in BANNER[_lang(lang)]]
    rule = "=" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])


def _lang(lang: str | None) -> str:
    return lang if lang in BANNER else "en"


def run_demo_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot demo`` and return the exit code."""
    import keyring

    from mxlab.demo import DEMO_DOMAIN, DEMO_TENANT, DemoError, DemoLab, create_demo_workspace
    from mxlab.memory_keyring import MemoryKeyring
    from workspace.secrets import SecretStore

    lang = _lang(getattr(args, "lang", None))
    print(banner(lang, DEMO_DOMAIN, DEMO_TENANT), file=sys.stderr, flush=True)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    given: Path | None = getattr(args, "workspace", None)
    temporary: Path | None = None
    if given is None:
        given = temporary = Path(tempfile.mkdtemp(prefix="mxpilot-demo-"))
    shielded: SignalHandler = None
    try:
        with DemoLab() as lab:
            try:
                ws = create_demo_workspace(given, lab, SecretStore(backend), lang)
            except DemoError as error:
                raise UsageError(str(error)) from None
            workspace_path = ws.path
            ws.close()
            if args.no_tui:
                code = _serve(lab, workspace_path, lang)
                shielded = _ignore_interrupts()  # a second ctrl+c must not leave files behind
                return code
            from tui.app import run_app

            return run_app(workspace_path, lab.connection_settings(lang), demo=lab)
    finally:
        keyring.set_keyring(previous)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        if shielded is not None:
            signal.signal(signal.SIGINT, shielded)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _ignore_interrupts() -> SignalHandler:
    """Ignore ctrl+c while the lab shuts down; the handler to restore (None: unchanged)."""
    if not _in_main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def describe(lab: DemoLab, workspace_path: Path, lang: str) -> str:
    """What runs where, and the commands to try against it."""
    from mxlab.demo import DEMO_PASSWORD, SERVICE_ADDRESS

    text = HELP[_lang(lang)]
    imap = lab.imap
    assert imap is not None
    ws = shlex.quote(str(workspace_path))
    ca = shlex.quote(str(lab.ca_file))
    ns = f"{lab.nameserver.host}:{lab.nameserver.port}"
    trust = f"--ca-file {ca} --nameserver {ns}"
    lines = [text["running"]]
    lines += [f"  {what:<24} {where}" for what, where in lab.endpoints()]
    lines += [f"  {text['workspace']:<24} {workspace_path}", "", text["try"]]
    lines += [
        f"  mxpilot --workspace {ws} accounts list",
        f"  mxpilot --workspace {ws} probe --account controloc {trust}",
        f"  mxpilot --workspace {ws} probe --account alerts {trust}",
        f"  mxpilot dns {lab.domain} --expect coexistence --tenant {lab.tenant} --nameserver {ns}",
        f"  mxpilot dns {lab.m365_domain} --tenant {lab.tenant} --nameserver {ns}",
        f"  mxpilot --workspace {ws} checklist show",
        f"  mxpilot --workspace {ws} checklist verify {trust} --https-port {lab.https_port}",
        f"  mxpilot probe {lab.host}:{imap.tls_port} --protocol imap --security tls --inbox "
        f"--user {SERVICE_ADDRESS} --ca-file {ca}",
        "  mxpilot explain '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
        "is disabled for the Tenant.'",
        "",
        text["keyring"].format(password=DEMO_PASSWORD),
    ]
    if sys.stdin is not None and sys.stdin.isatty():
        lines.append(text["fix"])
    lines.append(text["stop"])
    return "\n".join(lines)


def _serve(lab: DemoLab, workspace_path: Path, lang: str) -> int:
    """Keep the lab up until ctrl+c (or SIGTERM); 'fix'/'break' on a terminal toggle SMTP AUTH."""
    print(describe(lab, workspace_path, lang), flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = signal.signal(signal.SIGTERM, stop) if _in_main_thread() else None
    if sys.stdin is not None and sys.stdin.isatty():
        reader = threading.Thread(
            target=_read_toggles, args=(lab, lang, done), name="demo-stdin", daemon=True
        )
        reader.start()
    try:
        while not done.wait(_WAIT_STEP_S):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(HELP[_lang(lang)]["stopped"], file=sys.stderr, flush=True)
    return EXIT_OK


def _read_toggles(lab: DemoLab, lang: str, done: threading.Event) -> None:
    text = HELP[_lang(lang)]
    for line in sys.stdin:
        if done.is_set() or not lab.running:
            return
        word = line.strip().lower()
        if word in ("fix", "break"):
            lab.set_tenant_smtp_auth(word == "fix")
            print(text["fixed" if word == "fix" else "broken"], flush=True)
