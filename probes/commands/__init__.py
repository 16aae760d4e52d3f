"""Suggested commands: values quoted for the shell a command is labelled with.

``quote`` (one value for sh, PowerShell, cmd, Python), ``context`` (where a
placeholder stands in a template), ``template`` (filling a template with
quoted values), ``refusal`` (the EN/ES message when a value cannot be quoted).
"""
