"""The test suite: unit, lab integration, CLI and TUI tests."""
