"""mxpilot: the command line and the entry point of the terminal app."""
