"""Widgets the screens share or keep apart to stay small."""
