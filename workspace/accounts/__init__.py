"""workspace.accounts.book."""
