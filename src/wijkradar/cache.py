"""The one cache: what is derived from the warehouse, remembered until its data change.

Every layer that remembers something (the warehouse's own reads, crosswalks, residents, priority
lists, goal progress, page data) asks :func:`remember`, handing it the warehouse handle the result
is computed from. What is remembered is kept here per opened warehouse (its handle, cursors and
views share it) and dropped when that warehouse is closed (:func:`release`). The key carries the
handle's :meth:`~wijkradar.warehouse.core.Core.cache_key`: what was ingested and trained and, for
a view with a gemeente's uploads, their revision; a change of the data is a new key. The least
recently used entry goes first. Nothing is kept on the warehouse itself.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar, cast

import numpy as np
import pandas as pd

T = TypeVar("T")
_MISSING: Any = object()
ENTRIES = 4096  # a few dozen per gemeente page and one per goal, all small but the measures


class Versioned(Protocol):
    """A source of data that says which version of it a result was computed from."""

    @property
    def cache_owner(self) -> object:
        """What the remembered results belong to (one opened warehouse and its cursors)."""
        ...

    def cache_key(self, *, sources_only: bool = False) -> tuple[Any, ...]:
        """Identify the version of the data (``sources_only``: of the ingested files alone)."""
        ...


class Memo:
    """What the process remembers: the least recently used goes first.

    Each key is computed by one thread while the others asking for it wait: twenty requests
    arriving together for what nobody asked yet would otherwise each compute it, twenty times
    slower each.
    """

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """Return the value remembered for ``key``, making it first when there is none."""
        with self._guard:
            found = self._values.get(key, _MISSING)
            if found is not _MISSING:
                self._values.move_to_end(key)
                return cast(T, found)
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                found = self._values.get(key, _MISSING)
            if found is _MISSING:
                found = make()
                with self._guard:
                    self._values[key] = found
                    while len(self._values) > self.entries:
                        self._values.popitem(last=False)
                    self._locks.pop(key, None)
        return cast(T, found)

    def clear(self) -> None:
        """Forget everything."""
        with self._guard:
            self._values.clear()


_MEMOS: dict[object, Memo] = {}
_GUARD = threading.Lock()


def remember(
    source: Versioned,
    key: tuple[Any, ...],
    make: Callable[[], T],
    *,
    shared: bool = False,
    sources_only: bool = False,
) -> T:
    """Return ``make()``, remembered per ``key`` and version of ``source`` until the data change.

    DataFrames and dicts come back as copies, so a caller may change what it gets; ``shared``
    hands out the remembered object itself, for callers that only read it (large frames).
    ``sources_only`` is for what follows from the ingested files alone (regions, crosswalks,
    figures on an indeling): training a model then does not make it be computed again.
    """
    memo = _MEMOS.get(source.cache_owner)
    if memo is None:  # the first result for an opened warehouse: only then is a Memo made
        with _GUARD:
            memo = _MEMOS.setdefault(source.cache_owner, Memo())
    value: T = memo.get((*key, *source.cache_key(sources_only=sources_only)), make)
    return value if shared else _copy(value)


def release(owner: object) -> None:
    """Drop what was remembered for a warehouse that is closed."""
    with _GUARD:
        _MEMOS.pop(owner, None)


def forget() -> None:
    """Drop everything remembered (benchmarks measure cold starts with it)."""
    with _GUARD:
        _MEMOS.clear()


def _copy(value: T) -> T:
    if isinstance(value, pd.DataFrame):
        return value.copy()
    if isinstance(value, (dict, list)):
        return cast(T, _copy_tree(value))
    return value


_IMMUTABLE: Final = (str, int, float, bool, type(None), np.generic)


def _copy_tree(value: Any) -> Any:
    """Copy the dicts and lists of a remembered value (page data: a deep copy's work at a fraction)."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_tree(v) for k, v in value.items()}
    if kind is list:
        return [_copy_tree(v) for v in value]
    if isinstance(value, _IMMUTABLE):
        return value
    if kind is tuple:
        return tuple(_copy_tree(v) for v in value)
    if isinstance(value, pd.DataFrame):
        return value.copy()
    return copy.deepcopy(value)
