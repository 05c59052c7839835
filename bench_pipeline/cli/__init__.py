"""Argument parsing, the commands and their progress display."""
