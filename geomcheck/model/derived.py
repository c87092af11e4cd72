"""The one owner of a block's derived data (float views, integer rows, per-neuron facts).

Every view of a block that is computed from its weights — the folded exact rows,
their integer form over a common denominator, the float64 copies the filters use,
row norms, transposes, per-neuron map-change facts — lives in the block's
:class:`BlockData` (``block.data``), built on first use and dropped with the block.
There are no module-level caches keyed by blocks: a loader that already holds the
float arrays hands them to the block (:meth:`BlockData.provide`) instead of
reaching into the modules that use them.

This module is trusted (standard library only): it stores what other layers
compute, under documented names, and never interprets the float values.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

__all__ = ["BlockData", "FLOAT_ARRAYS"]

#: name under which ``geomcheck.search.floats.float_arrays`` keeps the float64 copies
FLOAT_ARRAYS = "float_arrays"


class BlockData:
    """Derived data of one block, each item built once on first use (thread-safe)."""

    __slots__ = ("_items", "_lock", "__weakref__")

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._lock = threading.RLock()

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """The item ``name``, calling ``build()`` the first time."""
        try:
            return self._items[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._items:
                self._items[name] = build()
            return self._items[name]

    def provide(self, name: str, value: Any) -> None:
        """Hand the block an item its loader already has (e.g. the float arrays it read)."""
        with self._lock:
            self._items[name] = value

    def get(self, name: str, default: Any = None) -> Any:
        return self._items.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self._items
