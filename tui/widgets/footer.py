"""The app's footer: Textual's, redrawn once per burst of binding changes.

Textual's Footer recomposes every key on each "bindings changed" signal;
while a screen mounts (focus moves, tables fill) those come in bursts, and
each recompose restyles every key. This one coalesces a burst into one
recompose after the next refresh — the same keys, a fraction of the work
(it roughly halved the time to the first interactive screen).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """A footer whose keys are recomposed at most once per refresh, and only when they change."""

    _recompose_pending = False
    _shown: tuple[tuple[str, str, str, bool, str], ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Schedule one recompose for any number of binding changes before the next refresh."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        if not self.is_attached:
            return  # its screen went away meanwhile (a dialog closed)
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
        )
        if shown == self._shown:
            return  # the same keys as drawn: nothing to redraw
        self._shown = shown
        await self.recompose()
