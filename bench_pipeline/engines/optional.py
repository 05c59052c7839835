"""Engines that come with the `engines` extra: how to tell they are missing, and what to do about it."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install -e '.[engines]'"


def missing_reason(module: str, extra: str = "engines") -> str | None:
    """None when `module` can be imported, else a one-line reason with the install command (of `extra`)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a blocked or broken package counts as missing
        found = False
    return None if found else f"{module} is not installed: {INSTALL_HINT.replace('engines', extra)}"
