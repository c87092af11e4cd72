"""A small on-disk cache for values derived from a real model's weights (e.g. its canonical sha256).

Entries are keyed by a hash of the weights themselves (the float arrays' dtype,
shape and bytes, plus the exact text of everything else) and by
:data:`FORMAT_VERSION`, so a changed weights file or a changed canonical format
never reads a stale value. The directory is ``$GEOMCHECK_CACHE_DIR``, else
``$XDG_CACHE_HOME/geomcheck``, else the platform's cache directory
(``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows, ``~/.cache``
elsewhere); ``GEOMCHECK_NO_CACHE=1`` turns it off.

Writes are atomic (a temporary file in the same directory, then ``os.replace``),
so concurrent writers of one key each leave a complete file and a reader sees
either none or a whole one. An entry that does not parse, or whose stored key
differs from its file name's, is treated as missing and rewritten. A cache that
cannot be written (read-only home) is silently skipped: it only saves time.

Only values that are cheap to check for shape live here; nothing here is trusted
(the checker re-hashes a model itself).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["FORMAT_VERSION", "cache_dir", "cached_value", "weights_key"]

# Bump when the canonical text of a model (geomcheck.io.modelfile) or a cached value's meaning changes.
FORMAT_VERSION = "geomcheck.cache/1+mlp/1"


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off."""
    if os.environ.get("GEOMCHECK_NO_CACHE"):
        return None
    if os.environ.get("GEOMCHECK_CACHE_DIR"):
        return Path(os.environ["GEOMCHECK_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "geomcheck"
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "geomcheck"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "geomcheck" / "Cache"
    return home / ".cache" / "geomcheck"


def weights_key(*parts) -> str:
    """sha256 over the parts: arrays by dtype, shape and bytes; anything else by its ``repr``-free text."""
    h = hashlib.sha256(FORMAT_VERSION.encode())
    for part in parts:
        if hasattr(part, "tobytes") and hasattr(part, "dtype"):
            h.update(f"|array {part.dtype.str} {tuple(part.shape)}|".encode())
            h.update(memoryview(part.tobytes()))  # C-order bytes, whatever the array's strides
        else:
            h.update(f"|{type(part).__name__} {part}|".encode())
    return h.hexdigest()


def _read(path: Path, key: str, valid: Callable[[object], bool]):
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or entry.get("format") != FORMAT_VERSION:
        return None
    value = entry.get("value")
    return value if valid(value) else None


def _write(path: Path, key: str, value) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": FORMAT_VERSION, "key": key, "value": value}, handle)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        pass  # an unwritable cache only costs time


def cached_value(kind: str, key: str, compute: Callable[[], object],
                 valid: Callable[[object], bool] = lambda v: True):
    """``compute()``, or the value stored under (kind, key); JSON values only."""
    directory = cache_dir()
    if directory is None:
        return compute()
    path = directory / kind / f"{key}.json"
    value = _read(path, key, valid)
    if value is None:
        value = compute()
        _write(path, key, value)
    return value
