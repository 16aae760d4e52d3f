"""render: results as Rich renderables, shared by the CLI and the TUI.

Below both front ends, above the workspace: it never imports textual, the CLI
or the app. It is the one place where text from the network or from files
becomes terminal output.
"""
