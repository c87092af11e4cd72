"""The Parquet dataset of a scan: manifest, atomic partition files, validation, reading.

Layout of ``DIR``::

    DIR/_scan.json                      the manifest: inputs (model hashes, sources), version
    DIR/layer=L/KIND-LO-HI.parquet      rows LO … HI−1 of one (layer, path kind); hive-partitioned

Every partition file is written to a temporary name in its folder and moved
into place with :func:`os.replace` (atomic on POSIX), so a file that exists
under its final name was written completely. Its schema metadata repeats the
manifest's ``inputs_sha256`` and the task it answers; pages carry checksums.
:func:`partition_is_valid` re-reads a file with checksum verification and
checks those fields and the row count, so a truncated, corrupt or foreign file
is recomputed instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from geomcheck.errors import InvalidInput

__all__ = ["MANIFEST", "METADATA_KEY", "canonical_sha256", "check_manifest", "write_manifest", "partition_path",
           "write_partition", "partition_is_valid", "read_scan", "remove_temporaries"]

MANIFEST = "_scan.json"
METADATA_KEY = b"geomcheck.scan"
_TMP_MARK = ".tmp-"


def canonical_sha256(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _first_difference(old, new, path: str = "") -> str:
    """A short description of where two JSON values first differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        order = ("layers", "model_sha256", "model", "directions", "bases", "fingerprint", "paths", "exact")
        for key in sorted(set(old) | set(new), key=lambda k: (order.index(k) if k in order else len(order), k)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b:
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path}: {json.dumps(old)[:80]} there, {json.dumps(new)[:80]} now"


def check_manifest(directory: Path, manifest: dict, overwrite: bool) -> bool:
    """True if ``directory`` already holds a scan of the same inputs.

    A different scan there is refused (InvalidInput, one line) unless
    ``overwrite``, which removes its partition files and manifest.
    """
    path = directory / MANIFEST
    if not path.exists():
        leftovers = list(directory.glob("layer=*/*.parquet")) if directory.is_dir() else []
        if leftovers and not overwrite:
            raise InvalidInput(f"--out {directory}: holds Parquet files but no {MANIFEST}; "
                               "use another --out, or --overwrite to replace them")
        for file in leftovers:
            file.unlink()
        return False
    try:
        old = json.loads(path.read_text())
        same = old["inputs_sha256"] == manifest["inputs_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        old, same = None, False
    if same:
        return True
    if not overwrite:
        where = _first_difference(old.get("inputs"), manifest["inputs"]) if isinstance(old, dict) else "unreadable manifest"
        raise InvalidInput(f"--out {directory}: holds a scan of other inputs ({where}); results are never mixed: "
                           "use another --out, or --overwrite to replace it")
    for file in directory.glob("layer=*/*.parquet"):
        file.unlink()
    path.unlink()
    return False


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")  # "."-names: readers skip them
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_manifest(directory: Path, manifest: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(directory / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def remove_temporaries(directory: Path) -> int:
    """Delete half-written temporaries left by an interrupted run; returns how many."""
    found = [p for p in directory.glob(f"layer=*/.*{_TMP_MARK}*")] if directory.is_dir() else []
    for p in found:
        p.unlink()
    return len(found)


def partition_path(directory: Path, layer: int, name: str) -> Path:
    return directory / f"layer={layer}" / name


def write_partition(path: Path, table, info: dict) -> None:
    """Write ``table`` with ``info`` in its schema metadata, atomically."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(info, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")  # "."-names: readers skip them
    pq.write_table(table, tmp, write_page_checksum=True)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def partition_is_valid(path: Path, info: dict) -> bool:
    """The file exists, reads back with verified page checksums and answers exactly ``info``."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return False
    try:
        table = pq.read_table(path, page_checksum_verification=True)
        stored = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"null"))
    except Exception:  # noqa: BLE001 - any failure to read back means: recompute
        return False
    return stored == info and table.num_rows == info["rows"]


def read_scan(directory: str | Path):
    """The whole dataset as one ``pyarrow.Table`` (``layer`` from the folder names), sorted by row key."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise InvalidInput(f"{directory}: not a geomcheck scan (no {MANIFEST})")
    dataset = ds.dataset(directory, format="parquet", exclude_invalid_files=False,
                         partitioning=ds.partitioning(pa.schema([("layer", pa.int32())]), flavor="hive"),
                         ignore_prefixes=["_", "."])
    table = dataset.to_table()
    if table.num_rows:
        table = table.sort_by([("layer", "ascending"), ("kind", "ascending"), ("base", "ascending"),
                               ("direction", "ascending")])
    return table
