"""The user's browser, played in the lab: the sign-in page, then the redirect to 127.0.0.1.

The lab identity provider's authorize endpoint answers with a 302 to the app's loopback
listener (``?code=…&state=…``), as a real provider does once the user has signed in;
:class:`LabBrowser` follows it like a browser would and records the landing page's status.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import httpx

TIMEOUT_S = 5.0


class LabBrowser:
    """Visits sign-in URLs with the lab CA trusted; ``pages`` holds each landing status."""

    def __init__(self, ca_file: Path) -> None:
        self.verify = ssl.create_default_context(cafile=str(ca_file))
        self.pages: list[int] = []
        self._threads: list[threading.Thread] = []

    def visit(self, url: str) -> int:
        """Open ``url``, follow the provider's redirect to the listener; its HTTP status."""
        with httpx.Client(verify=self.verify, timeout=TIMEOUT_S, trust_env=False) as web:
            redirect = web.get(url)
        if redirect.status_code != 302:
            raise AssertionError(f"the sign-in page answered {redirect.status_code}, not 302")
        with httpx.Client(timeout=TIMEOUT_S, trust_env=False) as local:
            status = local.get(redirect.headers["location"]).status_code
        self.pages.append(status)
        return status

    def open(self, url: str) -> bool:
        """Like ``webbrowser.open``: returns at once, the visit happens in its own thread."""
        thread = threading.Thread(target=self.visit, args=(url,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def wait(self) -> list[int]:
        """Wait (bounded) for the visits started by :meth:`open`; the landing statuses."""
        for thread in self._threads:
            thread.join(timeout=2 * TIMEOUT_S + 1)
        return self.pages
