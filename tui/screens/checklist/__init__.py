"""tui.screens.checklist.screen."""
