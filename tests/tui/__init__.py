"""TUI tests: the app under Pilot, SVG snapshots, and a real terminal (tmux)."""
