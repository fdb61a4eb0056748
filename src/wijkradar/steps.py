"""How long work says where it is: a callback a library function calls as each step begins.

The library names its steps in Dutch (the words a progress bar shows); the CLI turns them into a
bar with time left. A caller that wants no progress passes nothing: :func:`unseen` is the default.
"""

from __future__ import annotations

from collections.abc import Callable

OnStep = Callable[[str], None]


def unseen(step: str) -> None:
    """Take a step's name and show it nowhere (the default for callers without a progress bar)."""
