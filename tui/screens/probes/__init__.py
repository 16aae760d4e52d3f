"""tui.screens.probes.screen."""
