"""Tensor files read exactly, or refused in one line.

Every number a loader hands to geomcheck is the exact value the file stores:

* floats: float16, bfloat16, float32, float64 become their exact dyadic values
  (each converts to float64 without rounding); ``long double`` (x87 80-bit) is
  read through ``as_integer_ratio`` — exact, never rounded through float64;
* integers of any width become exact Python integers (int64 beyond 2⁵³ too);
* anything else — complex, bool, strings, object arrays, float8 — is refused,
  naming the tensor and its dtype.

:func:`exact_values` turns an array into nested tuples of Fractions;
:func:`float64_copy` gives a float64 copy *only when it is exact* (the fast
search may use it then; otherwise it must build its own copy from the
Fractions, rounding each once).

:class:`SafetensorsFile` is a small reader of the safetensors format (an
8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range, then the raw little-endian data). It exists because the
``safetensors`` package's numpy reader cannot read bfloat16 (numpy has no such
type) and SAE/LLM checkpoints are often stored in it; every field of the header
is validated, so a truncated, empty or garbage file is one line, not a traceback.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

from geomcheck.errors import InvalidInput, ModelFormatError

__all__ = ["SafetensorsFile", "ShardedTensors", "read_tensor_file", "exact_values", "float64_copy",
           "check_numeric", "read_npz"]

# safetensors dtype → (numpy dtype text, bytes per entry); BF16 is decoded by hand.
_ST_DTYPES = {
    "F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2),
    "I64": ("<i8", 8), "I32": ("<i4", 4), "I16": ("<i2", 2), "I8": ("i1", 1),
    "U64": ("<u8", 8), "U32": ("<u4", 4), "U16": ("<u2", 2), "U8": ("u1", 1),
}
_MAX_HEADER = 100 * 2**20  # the format's own limit is 100 MB


def _load_json_bounded(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ModelFormatError(f"{what}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{what}: not valid JSON ({str(exc).splitlines()[0]})") from None


class SafetensorsFile(Mapping):
    """A lazy, validated view of one ``.safetensors`` file: ``file[name]`` is a numpy array.

    BF16 tensors come back as float32 (a bfloat16 is the top half of a
    float32, so the conversion is exact).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidInput(f"model file not found: {self.path}")
        size = self.path.stat().st_size
        with self.path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelFormatError(f"{self.path}: not a safetensors file (only {len(head)} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > min(_MAX_HEADER, size - 8):
                raise ModelFormatError(f"{self.path}: not a safetensors file (header length {n} does not fit "
                                       f"in a file of {size} bytes)")
            header = _load_json_bounded(f.read(n), f"{self.path} header")
        if not isinstance(header, dict):
            raise ModelFormatError(f"{self.path}: safetensors header is not a JSON object")
        self.metadata = header.pop("__metadata__", None)
        data_size = size - 8 - n
        self._entries: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
        for name, info in header.items():
            where = f"{self.path}: tensor {name!r}"
            if not isinstance(info, dict):
                raise ModelFormatError(f"{where}: header entry is not an object")
            dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
            if not isinstance(dtype, str):
                raise ModelFormatError(f"{where}: dtype missing")
            if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
                raise ModelFormatError(f"{where}: shape {shape!r} is not a list of sizes")
            if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
                    and 0 <= offsets[0] <= offsets[1] <= data_size):
                raise ModelFormatError(f"{where}: data_offsets {offsets!r} outside the file's {data_size} data bytes")
            if dtype in _ST_DTYPES and math.prod(shape) * _ST_DTYPES[dtype][1] != offsets[1] - offsets[0]:
                raise ModelFormatError(f"{where}: shape {shape} of {dtype} does not match its "
                                       f"{offsets[1] - offsets[0]} bytes")
            self._entries[name] = (dtype, tuple(shape), 8 + n + offsets[0], offsets[1] - offsets[0])

    def __getitem__(self, name: str):
        import numpy as np

        dtype, shape, start, length = self._entries[name]
        if dtype not in _ST_DTYPES:
            raise ModelFormatError(f"{self.path}: tensor {name!r} has dtype {dtype}, which geomcheck does not read "
                                   f"exactly (readable: {', '.join(_ST_DTYPES)})")
        with self.path.open("rb") as f:
            f.seek(start)
            raw = f.read(length)
        arr = np.frombuffer(raw, dtype=np.dtype(_ST_DTYPES[dtype][0])).reshape(shape)
        if dtype == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        return arr

    def dtype(self, name: str) -> str:
        return self._entries[name][0]

    def shape(self, name: str) -> tuple[int, ...]:
        return self._entries[name][1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class ShardedTensors(Mapping):
    """Several safetensors files seen as one state dict; a name stored twice is refused."""

    def __init__(self, paths: list[Path]):
        self.files = [SafetensorsFile(p) for p in paths]
        self._where: dict[str, SafetensorsFile] = {}
        for f in self.files:
            for name in f:
                if name in self._where:
                    raise ModelFormatError(f"tensor {name!r} is stored twice ({self._where[name].path.name} "
                                           f"and {f.path.name}); which one is meant is ambiguous")
                self._where[name] = f

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(str(f.path) for f in self.files)

    def __getitem__(self, name: str):
        return self._where[name][name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def read_npz(path: str | Path) -> dict[str, Any]:
    """Every array of an ``.npz`` (pickled object arrays refused, naming the array)."""
    import zipfile

    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"model file not found: {path}")
    out = {}
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, RecursionError) as exc:
        raise InvalidInput(f"{path}: not a readable .npz file "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):  # a bare .npy under an .npz name
        raise InvalidInput(f"{path}: not an .npz archive (one .npy array; save with numpy.savez)")
    with data:
        for key in data.files:
            try:
                out[key] = data[key]
            except ValueError as exc:
                raise ModelFormatError(f"{path}: array {key!r} cannot be read without pickle "
                                       f"(object arrays are refused: {str(exc).splitlines()[0]})") from None
            except (OSError, EOFError, zipfile.BadZipFile, KeyError, RecursionError) as exc:
                raise InvalidInput(f"{path}: array {key!r} is not readable "
                                   f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return out


def read_tensor_file(path: str | Path) -> Mapping[str, Any]:
    """A ``.safetensors`` or ``.npz`` state dict (lazy for safetensors)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"model file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return SafetensorsFile(path)
    if suffix == ".npz":
        return read_npz(path)
    raise InvalidInput(f"{path}: expected a .safetensors or .npz state dict")


# ---------------------------------------------------------------------------
# exact values


def _torch_to_numpy(array):
    """A torch tensor → numpy without rounding (bfloat16 → float32 is exact)."""
    array = array.detach().cpu()
    dtype = str(array.dtype)
    if dtype == "torch.bfloat16":
        array = array.float()
    elif dtype.startswith("torch.complex"):
        raise ModelFormatError(f"dtype {dtype} (complex) has no real value")
    elif dtype.startswith("torch.float8"):
        array = array.float()  # every float8 value is exactly a float32
    return array.numpy()


def check_numeric(array, where: str):
    """``array`` as a numpy array of finite real numbers (floats of any width, integers), else one line.

    NaN and ±Inf are refused, naming the first bad entry.
    """
    import numpy as np

    if hasattr(array, "detach"):
        try:
            array = _torch_to_numpy(array)
        except ModelFormatError as exc:
            raise ModelFormatError(f"{where}: {exc}") from None
    try:
        arr = np.asarray(array)
    except (ValueError, TypeError) as exc:
        raise ModelFormatError(f"{where}: not an array of numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise ModelFormatError(f"{where}: dtype {arr.dtype} is complex; a weight must be real "
                               "(the imaginary part would be lost)")
    if kind not in "fiu":
        raise ModelFormatError(f"{where}: expected numbers, got dtype {arr.dtype}")
    if kind == "f":
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            index = "".join(f"[{i}]" for i in bad[0])
            raise ModelFormatError(f"{where}{index}: {arr[tuple(bad[0])]} is not a finite number")
    return arr


def _is_wide_float(arr) -> bool:
    import numpy as np

    return arr.dtype.kind == "f" and np.finfo(arr.dtype).nmant > 52


def float64_copy(arr):
    """A float64 copy of a checked array when every entry converts exactly, else None."""
    import numpy as np

    if arr.dtype.kind == "f" and not _is_wide_float(arr):
        return arr.astype(np.float64)  # float16/32/64 → float64 is exact
    if arr.dtype.kind in "iu":
        # an integer of at most 53 bits is exact in float64 (decided on Python ints, not on floats)
        if arr.dtype.itemsize <= 4 or all(abs(v) <= 2**53 for v in arr.ravel().tolist()):
            return arr.astype(np.float64)
        return None
    converted = arr.astype(np.float64)
    with np.errstate(over="ignore"):
        ok = np.isfinite(converted).all() and bool(np.all(converted.astype(arr.dtype) == arr))
    return converted if ok else None


def _scalar_to_fraction(kind: str, wide: bool):
    if kind in "iu":
        return lambda v: Fraction(int(v))
    if wide:
        return lambda v: Fraction(*v.as_integer_ratio())
    return Fraction


def exact_values(array, where: str):
    """A real numpy/torch array → exact Fractions: a tuple for 1-D, a tuple of row tuples for 2-D."""
    import numpy as np

    arr = check_numeric(array, where)
    if arr.ndim not in (1, 2):
        raise ModelFormatError(f"{where}: expected a vector or a matrix, got shape {arr.shape}")
    wide = _is_wide_float(arr)
    to_q = _scalar_to_fraction(arr.dtype.kind, wide)
    if arr.dtype.kind == "f" and not wide:
        flat = arr.astype(np.float64)
        rows = flat.tolist()  # Python floats, exact
    elif wide:
        rows = [list(r) for r in arr] if arr.ndim == 2 else list(arr)  # numpy longdouble scalars
    else:
        rows = arr.tolist()  # Python ints, exact at any width
    if arr.ndim == 1:
        return tuple(map(to_q, rows))
    return tuple(tuple(map(to_q, row)) for row in rows)
