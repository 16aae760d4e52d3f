"""tui.screens.dns.screen."""
