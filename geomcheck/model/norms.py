"""Normalizations in front of the MLP, one class each behind one interface.

With ``u = P·x`` (``P = I − (1/d)·11ᵀ`` for LayerNorm, ``P = I`` for RMSNorm)
both normalizations are ``N(x) = γ ⊙ z + β`` with

    z = √d · u / sqrt(‖u‖² + d·ε)         (DESIGN §2; PyTorch's biased variance)

so after folding γ, β into the next linear map only ``z`` matters. At ε = 0,
``z`` lies on the sphere ``‖z‖² = d`` (inside ``1⊥`` for LayerNorm), is
invariant under ``x ↦ t·x`` for t > 0 and odd under ``x ↦ −x``; it is
undefined where u = 0 (the zero vector, and constant vectors for LayerNorm).
``NoNorm`` is the identity: ``z = x``. ``DyT`` (Dynamic Tanh) is elementwise,
``z = tanh(α·x)``: not scale invariant, and transcendental, so its signs are
not decided here but by certified interval arithmetic in
:mod:`geomcheck.search.dyt` (``exact_signs = False``).

``z`` itself is irrational in general; this module exposes the exact pieces
(``u``, ``‖u‖² + dε``) from which signs are decided without square roots.
"""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar, Sequence

from geomcheck.errors import DegenerateInput, ModelFormatError

__all__ = ["Normalization", "LayerNorm", "RMSNorm", "NoNorm", "DyT", "NORMALIZATIONS", "make_normalization"]

Vector = Sequence[Fraction]


class Normalization:
    """Common interface. ``kind`` is the JSON name; ``centers`` says whether P ≠ I."""

    kind: ClassVar[str]
    centers: ClassVar[bool]
    scales: ClassVar[bool] = True  # divides by the norm (False for NoNorm and DyT)
    exact_signs: ClassVar[bool] = True  # pre-activation signs decidable in ℚ (False for DyT)

    def __init__(self, eps: Fraction = Fraction(0), gamma: Vector | None = None, beta: Vector | None = None):
        if eps < 0:
            raise ModelFormatError(f"norm.eps: must be ≥ 0, got {eps}")
        self.eps = Fraction(eps)
        self.gamma = tuple(gamma) if gamma is not None else None
        self.beta = tuple(beta) if beta is not None else None

    # the exact pieces ------------------------------------------------------
    def center(self, x: Vector) -> tuple[Fraction, ...]:
        """u = P·x."""
        if not self.centers:
            return tuple(x)
        mean = sum(x, Fraction(0)) / len(x)
        return tuple(v - mean for v in x)

    def squared_radius_denominator(self, u: Vector) -> Fraction:
        """‖u‖² + d·ε, the quantity under the square root."""
        return sum((v * v for v in u), Fraction(0)) + len(u) * self.eps

    def normalized_squared_norm(self, x: Vector) -> Fraction:
        """‖z(x)‖² = d·‖u‖² / (‖u‖² + d·ε), exactly (= d when ε = 0)."""
        u = self.center(x)
        self.require_defined(x, u)
        denominator = self.squared_radius_denominator(u)
        if denominator == 0:
            return Fraction(0)
        return len(u) * sum((v * v for v in u), Fraction(0)) / denominator

    def require_defined(self, x: Vector, u: Vector | None = None, what: str = "input") -> None:
        """Raise DegenerateInput where z(x) is undefined (u = 0 and ε = 0)."""
        u = self.center(x) if u is None else u
        if self.eps == 0 and all(v == 0 for v in u):
            if all(v == 0 for v in x):
                raise DegenerateInput(f"{what}: the zero vector has no direction ({self.kind} is undefined there)")
            raise DegenerateInput(
                f"{what}: a constant vector is centred to 0, where LayerNorm with eps = 0 is undefined"
            )

    @property
    def scale_invariant(self) -> bool:
        """True when z(t·x) = z(x) for all t > 0 (ε = 0 and a real normalization)."""
        return self.scales and self.eps == 0

    # folding ---------------------------------------------------------------
    def fold(self, w_in: Sequence[Vector], b_in: Vector) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
        """Exact ``W' = W_in·diag(γ)`` and ``b' = W_in·β + b_in`` (DESIGN §2)."""
        gamma, beta = self.gamma, self.beta
        if gamma is None:
            folded_w = tuple(tuple(row) for row in w_in)
        else:
            folded_w = tuple(tuple(w * g for w, g in zip(row, gamma, strict=True)) for row in w_in)
        if beta is None:
            folded_b = tuple(b_in)
        else:
            folded_b = tuple(
                b + sum((w * c for w, c in zip(row, beta, strict=True)), Fraction(0)) for row, b in zip(w_in, b_in)
            )
        return folded_w, folded_b

    def describe(self) -> str:
        return f"{self.kind} (eps = {self.eps})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(eps={self.eps})"


class LayerNorm(Normalization):
    """``γ ⊙ (x − mean(x)) / sqrt(var(x) + ε) + β``, biased variance."""

    kind = "layernorm"
    centers = True


class RMSNorm(Normalization):
    """``γ ⊙ x / sqrt(mean(x²) + ε)`` (β allowed, usually absent)."""

    kind = "rmsnorm"
    centers = False


class NoNorm(Normalization):
    """The identity: the MLP reads the residual stream directly."""

    kind = "none"
    centers = False
    scales = False

    def __init__(self, eps: Fraction = Fraction(0), gamma: Vector | None = None, beta: Vector | None = None):
        if gamma is not None or beta is not None or eps != 0:
            raise ModelFormatError("norm: kind 'none' takes no eps, gamma or beta")
        super().__init__()

    def normalized_squared_norm(self, x: Vector) -> Fraction:
        return sum((v * v for v in x), Fraction(0))

    def require_defined(self, x: Vector, u: Vector | None = None, what: str = "input") -> None:
        return None

    def describe(self) -> str:
        return "none"


class DyT(Normalization):
    """Dynamic Tanh, ``γ ⊙ tanh(α·x) + β`` elementwise, α a nonzero scalar.

    Folding is the same as for LayerNorm (``W' = W_in·diag(γ)``,
    ``b' = W_in·β + b_in``) with ``z = tanh(α·x)``; nothing is centred. Along
    the ray ``t·v`` neuron i's pre-activation is
    ``h_i(t) = Σ_j w'_ij·tanh(α·t·v_j) + b'_i``, a transcendental function of t:
    its zeros are isolated with interval arithmetic, not decided in ℚ.
    """

    kind = "dyt"
    centers = False
    scales = False
    exact_signs = False

    def __init__(self, eps: Fraction = Fraction(0), gamma: Vector | None = None, beta: Vector | None = None,
                 alpha: Fraction | None = None):
        if eps != 0:
            raise ModelFormatError("norm.eps: DyT has no eps (use alpha)")
        if alpha is None:
            raise ModelFormatError("norm.alpha: DyT needs alpha, e.g. \"1/2\"")
        if alpha == 0:
            raise ModelFormatError("norm.alpha: must be nonzero (tanh(0·x) = 0 forgets the input)")
        super().__init__(Fraction(0), gamma, beta)
        self.alpha = Fraction(alpha)

    def require_defined(self, x: Vector, u: Vector | None = None, what: str = "input") -> None:
        return None

    def describe(self) -> str:
        return f"dyt (alpha = {self.alpha})"

    def __repr__(self) -> str:
        return f"DyT(alpha={self.alpha})"


NORMALIZATIONS: dict[str, type[Normalization]] = {cls.kind: cls for cls in (LayerNorm, RMSNorm, NoNorm, DyT)}


def make_normalization(kind: str, eps: Fraction = Fraction(0), gamma: Vector | None = None, beta: Vector | None = None,
                       alpha: Fraction | None = None) -> Normalization:
    if kind not in NORMALIZATIONS:
        raise ModelFormatError(f"norm.kind: unknown {kind!r} (known: {', '.join(NORMALIZATIONS)})")
    if kind == "dyt":
        return DyT(eps, gamma, beta, alpha)
    if alpha is not None:
        raise ModelFormatError(f"norm.alpha: only DyT has alpha, not {kind!r}")
    return NORMALIZATIONS[kind](eps, gamma, beta)
