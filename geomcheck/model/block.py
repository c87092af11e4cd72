"""One MLP block, exactly: ``out = W_out·φ(W_in·N(x) + b_in) + b_out``.

Weights are Fractions (a float weight is its exact dyadic value). The block
folds γ and β into the first layer (:class:`FoldedBlock`), so that the
pre-activations are ``h = w̃·z + b'`` with ``z`` the normalized point
(:mod:`geomcheck.model.norms`) and ``w̃ = P·w'``. Sign decisions are exact:
for an input ``x`` with ``u = P·x`` and ``N = ‖u‖² + d·ε``,

    sign(h_i) = sign(√d·(w̃_i·u) + b'_i·√N)

because ``h_i = (√d·(w̃_i·u) + b'_i·√N)/√N`` and √N > 0; that is a
:func:`~geomcheck.exact.signs.sign_sqrt_combination`, no square root taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Sequence

from geomcheck.errors import DegenerateInput, InvalidInput, ModelFormatError
from geomcheck.exact.backend import matvec
from geomcheck.exact.bulk import fold_rows
from geomcheck.exact.signs import sign, sign_sqrt_combination
from geomcheck.model.activations import Activation
from geomcheck.model.derived import BlockData
from geomcheck.model.lazy import DyadicRows, LazyFoldedBias, LazyFoldedRows
from geomcheck.model.norms import Normalization

__all__ = ["MLPBlock", "FoldedBlock", "pattern_string"]

Vector = Sequence[Fraction]
Matrix = tuple[tuple[Fraction, ...], ...]

_SYMBOL = {1: "+", -1: "-", 0: "0"}


def _float_list(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def pattern_string(signs: Sequence[int]) -> str:
    """``(+1, −1, 0)`` → ``"+-0"``."""
    return "".join(_SYMBOL[s] for s in signs)


@dataclass(frozen=True, eq=False)
class FoldedBlock:
    """``h = weights·z + bias`` on the normalized point z (γ, β folded; P applied).

    ``weights`` rows are ``w̃_i = P·w'_i`` (``P = I`` unless the normalization
    centres). ``eps`` and ``scales`` are the normalization's.
    """

    weights: Matrix
    bias: tuple[Fraction, ...]
    centers: bool
    scales: bool
    eps: Fraction

    @property
    def n(self) -> int:
        return len(self.bias)

    @property
    def d(self) -> int:
        return len(self.weights[0])

    def row_is_zero(self, i: int) -> bool:
        """``w̃_i = 0`` exactly (lazy folded rows answer without building the row)."""
        test = getattr(self.weights, "is_zero", None)
        return test(i) if test is not None else not any(self.weights[i])

    def preactivations_at(self, z: Vector) -> list[Fraction]:
        """Exact ``w̃·z + b'`` at a rational point z of the normalized space."""
        return [h + b for h, b in zip(matvec(self.weights, z), self.bias)]

    def signs_at(self, z: Vector) -> tuple[int, ...]:
        return tuple(sign(h) for h in self.preactivations_at(z))


@dataclass(frozen=True, eq=False)
class MLPBlock:
    """An MLP block with exact weights. ``w_in`` is n×d (rows are neurons), ``w_out`` d_out×n."""

    w_in: Matrix
    b_in: tuple[Fraction, ...]
    w_out: Matrix
    b_out: tuple[Fraction, ...]
    norm: Normalization
    activation: Activation
    name: str = field(default="")

    @classmethod
    def from_float_arrays(cls, w_in, b_in, w_out, b_out, norm: Normalization, activation: Activation,
                          name: str = "") -> "MLPBlock":
        """A block whose weight matrices are float arrays, read exactly and lazily.

        ``w_in`` (n×d) and ``w_out`` (d_out×n) are float arrays (numpy, or lists of float
        rows): every float is an exact dyadic rational, so they are kept as they are
        (:class:`~geomcheck.model.lazy.DyadicRows`) and rows become Fractions only when
        read. Bulk exact work (the filtered engines' integer products) reads the arrays
        directly. ``b_in``, ``b_out`` are sequences of exact numbers (Fractions, ints or
        floats — a float is read as its exact value); ``norm`` holds γ, β and ε exactly.
        """
        return cls(DyadicRows(w_in), tuple(map(Fraction, _float_list(b_in))), DyadicRows(w_out),
                   tuple(map(Fraction, _float_list(b_out))), norm, activation, name)

    def __post_init__(self) -> None:
        if isinstance(self.w_in, DyadicRows):
            n, d = self.w_in.shape
        else:
            n, d = len(self.w_in), len(self.w_in[0]) if self.w_in else 0
        if n == 0 or d == 0:
            raise ModelFormatError("w_in: must have at least one row and one column")
        if not isinstance(self.w_in, DyadicRows):
            for i, row in enumerate(self.w_in):
                if len(row) != d:
                    raise ModelFormatError(f"w_in[{i}]: has {len(row)} entries, row 0 has {d}")
        if len(self.b_in) != n:
            raise ModelFormatError(f"b_in: has {len(self.b_in)} entries, w_in has {n} rows (neurons)")
        if not len(self.w_out):
            raise ModelFormatError("w_out: must have at least one row")
        if isinstance(self.w_out, DyadicRows):
            if self.w_out.shape[1] != n:
                raise ModelFormatError(f"w_out: has {self.w_out.shape[1]} columns, expected n = {n} (one per neuron)")
        else:
            for i, row in enumerate(self.w_out):
                if len(row) != n:
                    raise ModelFormatError(f"w_out[{i}]: has {len(row)} entries, expected n = {n} (one per neuron)")
        if len(self.b_out) != len(self.w_out):
            raise ModelFormatError(f"b_out: has {len(self.b_out)} entries, w_out has {len(self.w_out)} rows")
        for what, vec in (("norm.gamma", self.norm.gamma), ("norm.beta", self.norm.beta)):
            if vec is not None and len(vec) != d:
                raise ModelFormatError(f"{what}: has {len(vec)} entries, expected d = {d}")
        if self.norm.centers and d < 2:
            raise ModelFormatError("w_in: LayerNorm needs d ≥ 2 (with d = 1 every input centres to 0)")

    @property
    def d(self) -> int:
        return self.w_in.shape[1] if isinstance(self.w_in, DyadicRows) else len(self.w_in[0])

    @property
    def n(self) -> int:
        return len(self.w_in)

    @property
    def d_out(self) -> int:
        return len(self.w_out)

    @cached_property
    def data(self) -> BlockData:
        """The owner of everything derived from the weights (float views, integer rows, …)."""
        return BlockData()

    @cached_property
    def folded(self) -> FoldedBlock:
        """γ, β folded into ``W', b'``, then rows centred when the norm centres."""
        if isinstance(self.w_in, DyadicRows):
            # float weights: fold row by row when a row is read (geomcheck.model.lazy), same rationals
            try:
                weights = LazyFoldedRows(self.w_in, self.norm.gamma, self.norm.centers)
                bias = (LazyFoldedBias(self.w_in, self.b_in, self.norm.beta) if self.norm.beta is not None
                        else tuple(self.b_in))
                return FoldedBlock(weights, bias, self.norm.centers, self.norm.scales, self.norm.eps)
            except ValueError:  # γ or β with an enormous common denominator: fold eagerly below
                pass
        # Integer arithmetic over common denominators (geomcheck.exact.bulk):
        # the same rationals as norm.fold + norm.center, seconds faster on real layers.
        weights, bias = fold_rows(self.w_in, self.b_in, self.norm.gamma, self.norm.beta, self.norm.centers)
        return FoldedBlock(weights, bias, self.norm.centers, self.norm.scales, self.norm.eps)

    # vectors -------------------------------------------------------------
    def check_vector(self, x: Vector, what: str = "vector") -> tuple[Fraction, ...]:
        """Length check; the message names the argument."""
        x = tuple(x)
        if len(x) != self.d:
            raise InvalidInput(f"{what}: has {len(x)} entries, the model has d = {self.d}")
        return x

    def check_direction(self, v: Vector, what: str = "direction") -> tuple[Fraction, ...]:
        """A direction must be nonzero, and not constant under LayerNorm (whatever ε)."""
        v = self.check_vector(v, what)
        if all(c == 0 for c in v):
            raise DegenerateInput(f"{what}: is the zero vector, which has no direction")
        if self.norm.centers and all(c == v[0] for c in v):
            raise DegenerateInput(f"{what}: is constant; LayerNorm centres it to 0, so it has no direction there")
        return v

    # exact evaluation ------------------------------------------------------
    def signs_at_normalized(self, z: Vector) -> tuple[int, ...]:
        """Exact pre-activation signs at a rational point z of the normalized space."""
        return self.folded.signs_at(self.check_vector(z, "z"))

    def signs_at_input(self, x: Vector) -> tuple[int, ...]:
        """Exact pre-activation signs at an input x (through the normalization)."""
        x = self.check_vector(x, "input")
        f = self.folded
        if not self.norm.exact_signs:
            raise InvalidInput(
                f"input: {self.norm.kind} pre-activations are transcendental; their signs are decided by "
                "certified interval arithmetic (geomcheck.search.dyt), not exactly"
            )
        if not self.norm.scales:
            return f.signs_at(x)
        u = self.norm.center(x)
        self.norm.require_defined(x, u)
        radicand = self.norm.squared_radius_denominator(u)
        d = Fraction(self.d)
        return tuple(sign_sqrt_combination(wu, d, b, radicand) for wu, b in zip(matvec(f.weights, u), f.bias))

    def pattern_at_input(self, x: Vector) -> str:
        return pattern_string(self.signs_at_input(x))

    def unfolded_preactivations(self, y: Vector) -> list[Fraction]:
        """``W_in·y + b_in`` for y the normalization's *output* (γ ⊙ z + β)."""
        return [h + b for h, b in zip(matvec(self.w_in, self.check_vector(y, "y")), self.b_in)]

    def normalization_output(self, z: Vector) -> tuple[Fraction, ...]:
        """``γ ⊙ z + β`` for a point z of the normalized space."""
        g = self.norm.gamma or (Fraction(1),) * self.d
        b = self.norm.beta or (Fraction(0),) * self.d
        return tuple(gi * zi + bi for gi, zi, bi in zip(g, z, b))

    def map_changes(self, pattern_a: str, pattern_b: str) -> bool:
        """Whether two ReLU patterns give different affine maps of z (DESIGN §2).

        The maps ``z ↦ W_out·D_s·(W'z + b') + b_out`` agree on the normalized
        space iff ``W_out·(D_s − D_t)·[w̃ | b'] = 0``. '0' counts as off
        (ReLU(0) = 0). For GELU blocks this is the ReLU-gate surrogate.
        """
        if len(pattern_a) != self.n or len(pattern_b) != self.n:
            raise InvalidInput(f"pattern: expected {self.n} symbols")
        on_a = [c == "+" for c in pattern_a]
        on_b = [c == "+" for c in pattern_b]
        flipped = [(i, 1 if on_a[i] else -1) for i in range(self.n) if on_a[i] != on_b[i]]
        if not flipped:
            return False
        f = self.folded
        columns = self.d + 1
        out_columns = {i: self.w_out_column(i) for i, _ in flipped}
        for r in range(self.d_out):
            for k in range(columns):
                total = Fraction(0)
                for i, s in flipped:
                    c = out_columns[i][r]
                    if c:
                        total += s * c * (f.weights[i][k] if k < self.d else f.bias[i])
                if total:
                    return True
        return False

    def output_is_zero(self, i: int) -> bool:
        """``W_out[:, i] = 0`` exactly (neuron i does not reach the output)."""
        if isinstance(self.w_out, DyadicRows):
            return self.w_out.column_is_zero(i)
        return not any(row[i] for row in self.w_out)

    def w_out_column(self, i: int) -> tuple[Fraction, ...]:
        """Column i of ``W_out`` (neuron i's output direction), without reading the other columns' rows."""
        if isinstance(self.w_out, DyadicRows):
            return self.w_out.column(i)
        return tuple(row[i] for row in self.w_out)

    def describe(self) -> str:
        return f"{self.name or 'model'}: d = {self.d}, n = {self.n}, norm = {self.norm.describe()}, activation = {self.activation.name}"
