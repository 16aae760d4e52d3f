"""tui.screens.accounts.screen."""
