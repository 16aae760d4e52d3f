"""Opening a URL in the system's browser (for OAuth sign-ins)."""

from __future__ import annotations


def system_browser(url: str) -> bool:
    """``webbrowser.open`` (imported on first use: start-up stays light)."""
    import webbrowser

    return webbrowser.open(url)
