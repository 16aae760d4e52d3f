"""workspace: headless state (accounts, secrets, checklists); never imports textual."""
