"""Claim type ``symbolic``: facts for *general* d, derived with sympy.

These are symbolic proofs, not checker certificates: the evidence is sympy
simplifying each stated identity to 0 with the dimension d a symbol (sums are
``Sum(·, (i, 1, d))`` over an ``IndexedBase``), so no dimension is ever fixed.
Each step is listed in the result, so a reader can follow the derivation.

``"proof": "layernorm-invariance"`` proves, for LayerNorm without γ, β (they
act after the normalization, so they change nothing here)

    LN_j(x) = c_j(x) / √(var(x) + ε),  c_j(x) = x_j − mean(x),
    mean(x) = (1/d)·Σ_i x_i,  var(x) = (1/d)·Σ_i c_i(x)²:

1. mean(t·x) = t·mean(x);  2. c_j(t·x) = t·c_j(x);  3. var(t·x) = t²·var(x);
4. ε = 0, t > 0: LN(t·x) = LN(x);  5. ε = 0: LN(−x) = −LN(x);
6. ε > 0: g(t) = LN_j(t·x) = t·C/√(t²V + ε) has g'(t) = C·ε/(t²V + ε)^{3/2},
   which is nonzero with the sign of C = c_j(x) whenever C ≠ 0, so g is strictly
   monotone and LN_j(t·x) ≠ LN_j(x) for every t ≠ 1: scale invariance fails for
   every non-constant x (odd symmetry LN(−x) = −LN(x) still holds, step 7);
8. an exact instance: d = 3, x = (1, 0, −1), ε = 1/100, t = 2 gives
   LN_1(2x) = 2/√(4·2/3 + 1/100) ≠ 1/√(2/3 + 1/100) = LN_1(x).
"""

from __future__ import annotations

from geomcheck.claims import Outcome, runner
from geomcheck.errors import GeomcheckError, InvalidInput


class ProofFailed(GeomcheckError):
    """A step that should simplify to 0 did not: nothing is proved."""


def layernorm_symbols():
    """The symbolic objects: d, indices, x (IndexedBase), t > 0, ε > 0 and mean, c_j, var, LN as functions."""
    import sympy as sp

    d = sp.Symbol("d", integer=True, positive=True)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    x = sp.IndexedBase("x", real=True)
    t = sp.Symbol("t", positive=True)
    eps = sp.Symbol("epsilon", positive=True)

    def mean(f):
        return sp.Sum(f(k), (k, 1, d)) / d

    def centred(f, index):
        return f(index) - mean(f)

    def var(f):
        return sp.Sum(centred(f, i) ** 2, (i, 1, d)) / d

    def layernorm(f, e):
        return centred(f, j) / sp.sqrt(var(f) + e)

    return dict(sp=sp, d=d, j=j, t=t, eps=eps, mean=mean, centred=centred, var=var, layernorm=layernorm,
                plain=lambda q: x[q], scaled=lambda q: t * x[q], negated=lambda q: -x[q])


def layernorm_invariance() -> list[str]:
    s = layernorm_symbols()
    sp, j, t, eps = s["sp"], s["j"], s["t"], s["eps"]
    mean, centred, var, layernorm = s["mean"], s["centred"], s["var"], s["layernorm"]
    plain, scaled, negated = s["plain"], s["scaled"], s["negated"]

    steps = []

    def identity(text, lhs, rhs):
        difference = sp.simplify(lhs - rhs)
        if difference != 0:
            raise ProofFailed(f"step {len(steps) + 1} ({text}): sympy leaves {difference}, not 0")
        steps.append(f"{text}  [sympy: simplify(lhs − rhs) = 0, d a symbol]")

    identity("mean(t·x) = t·mean(x)", mean(scaled), t * mean(plain))
    identity("c_j(t·x) = t·c_j(x)", centred(scaled, j), t * centred(plain, j))
    identity("var(t·x) = t²·var(x)", var(scaled), t ** 2 * var(plain))
    identity("ε = 0, t > 0: LN_j(t·x) = LN_j(x)", layernorm(scaled, 0), layernorm(plain, 0))
    identity("ε = 0: LN_j(−x) = −LN_j(x)", layernorm(negated, 0), -layernorm(plain, 0))

    # ε > 0: by steps 2 and 3, LN_j(t·x) = t·C/√(t²·V + ε) with C = c_j(x), V = var(x) > 0
    C = sp.Symbol("C", real=True, nonzero=True)
    V = sp.Symbol("V", positive=True)
    identity("ε > 0: LN_j(t·x) = t·c_j(x)/√(t²·var(x) + ε)  (below: C = c_j(x), V = var(x))",
             layernorm(scaled, eps), t * centred(plain, j) / sp.sqrt(t ** 2 * var(plain) + eps))
    g = t * C / sp.sqrt(t ** 2 * V + eps)
    derivative = sp.diff(g, t)
    identity("ε > 0: d/dt [t·C/√(t²V + ε)] = C·ε/(t²V + ε)^{3/2}", derivative, C * eps / (t ** 2 * V + eps) ** sp.Rational(3, 2))
    factor = sp.simplify(derivative / C)
    if factor.is_positive is not True:
        raise ProofFailed(f"could not show ε/(t²V + ε)^(3/2) > 0 (sympy: {factor.is_positive})")
    steps.append("ε > 0: g'(t)/C = ε/(t²V + ε)^{3/2} > 0 [sympy: is_positive], so t ↦ LN_j(t·x) is strictly "
                 "monotone when c_j(x) ≠ 0 and LN(t·x) ≠ LN(x) for every t ≠ 1: ε > 0 breaks scale invariance")
    identity("ε > 0 keeps odd symmetry: LN_j(−x) = −LN_j(x)", layernorm(negated, eps), -layernorm(plain, eps))

    # an exact instance with numbers, d = 3
    values = [sp.Integer(1), sp.Integer(0), sp.Integer(-1)]

    def ln_first(vec, e):
        m = sum(vec) / 3
        v = sum((c - m) ** 2 for c in vec) / 3
        return (vec[0] - m) / sp.sqrt(v + e)

    small = sp.Rational(1, 100)
    a, b = ln_first([2 * c for c in values], small), ln_first(values, small)
    if sp.simplify(a - b) == 0 or sp.simplify(a ** 2 - b ** 2) == 0:
        raise ProofFailed("the exact instance did not separate")
    steps.append(f"instance d = 3, x = (1, 0, −1), ε = 1/100, t = 2: LN_1(2x) = {a} ≠ {b} = LN_1(x) "
                 f"(squares {sp.nsimplify(a ** 2)} ≠ {sp.nsimplify(b ** 2)})")
    return steps


PROOFS = {"layernorm-invariance": layernorm_invariance}


@runner("symbolic")
def run(claim: dict) -> Outcome:
    name = claim.get("proof")
    if name not in PROOFS:
        raise InvalidInput(f"{claim['name']}: unknown symbolic proof {name!r} (known: {', '.join(sorted(PROOFS))})")
    steps = PROOFS[name]()
    return Outcome(f"derived symbolically for general d ({len(steps)} steps)", [], [], evidence="sympy", steps=steps)
