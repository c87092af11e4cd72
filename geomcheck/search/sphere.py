"""Sign-pattern feasibility (space and sphere) and region search — untrusted search, exact re-check.

Convention. A pattern s ∈ {+, −, *}ⁿ asks for ``s_i·(w̃_i·z + b'_i) > 0`` for every
i with s_i ≠ * (strict: an open region). Write ``a_i = −s_i·w̃_i``, ``g_i = s_i·b'_i``:
the constraints read ``a_i·z < g_i``.

* Space (no normalization, or the normalized space 1⊥/ℝᵈ): the margin LP
  ``max t s.t. s_i(w̃_i·z + b'_i) ≥ t, t ≤ 1`` (HiGHS). t* > 0: a rational point
  near the optimum is checked exactly. t* ≤ 0: a Farkas multiplier ``y ≥ 0,
  Σ y_i s_i w̃_i = 0, Σ y_i s_i b'_i ≤ 0, y ≠ 0`` — HiGHS's dual ray
  (``getDualRay``) of the homogenized system, or the alternative system as an
  LP, rounded or re-solved exactly on its support — proves infeasibility: a feasible z would give
  ``0 < Σ y_i s_i(w̃_i·z + b'_i) = Σ y_i s_i b'_i ≤ 0``.
* Sphere: Q_s meets S iff ``inf_{Q_s}‖z‖ < √d < sup_{Q_s}‖z‖``. The min-norm side is
  the QP ``min ‖z‖² s.t. a_i·z ≤ g_i`` (cvxpy, solver CLARABEL); its dual y gives the
  *ball certificate* (checked exactly): ``y ≥ 0, y ≠ 0, r = P·Σ y_i a_i,
  yᵀg ≤ 0, (yᵀg)² ≥ d·‖r‖²``. Proof: for z ∈ Q_s, ``r·z = Σ y_i a_i·z < yᵀg ≤
  −√d‖r‖``, but ``r·z ≥ −‖r‖‖z‖ = −√d‖r‖`` on S (Cauchy–Schwarz; P·z = z). The
  outer side: an unbounded LP direction or a vertex outside the ball. The
  witness is a rational point exactly on S near the crossing of a segment from
  inside to outside (:func:`geomcheck.geometry.sphere.reflect_to`), its pattern
  checked exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from geomcheck.exact.signs import sign
from geomcheck.exact.linalg import rref
from geomcheck.geometry.sphere import Sphere, base_point, classify_neurons, dot, reflect_to

__all__ = ["EXACT", "Feasibility", "parse_pattern", "space_feasibility", "sphere_feasibility", "search_regions",
           "verify_ball_certificate", "verify_farkas"]

F = Fraction

# The search's own word for "decided, re-checked exactly, certificate available". It is not a
# verdict: commands turn it into one only through geomcheck.verdicts.gate() (geomcheck.api.sphere).
EXACT = "exact"


@dataclass
class Feasibility:
    feasible: bool | None          # None: undecided
    status: str                    # EXACT (decided and re-checked exactly: a certificate can be built) | "estimate"
    witness: tuple | None = None   # rational point (space, or exactly on S)
    direction: tuple | None = None  # LayerNorm d = 3: rational y, the point is √d·y/‖y‖
    multipliers: dict | None = None  # {neuron: y_i} for a Farkas / ball certificate
    inside: list | None = None       # [(c, {neuron: y_i})]: boundedness, for "the region lies inside the ball"
    how: str = ""


def parse_pattern(text: str, n: int) -> str:
    from geomcheck.errors import InvalidInput

    text = text.strip()
    if len(text) != n or any(c not in "+-*" for c in text):
        raise InvalidInput(f"--pattern: expected {n} symbols from '+', '-', '*' (one per neuron), got {text!r}")
    return text


def _signed(pattern: str) -> list[tuple[int, int]]:
    return [(i, 1 if c == "+" else -1) for i, c in enumerate(pattern) if c in "+-"]


def _satisfies(weights, bias, pattern: str, z) -> bool:
    return all(s * sign(dot(weights[i], z) + bias[i]) > 0 for i, s in _signed(pattern))


def _rationalize(x: np.ndarray, den: int) -> tuple:
    return tuple(F(float(v)).limit_denominator(den) for v in x)


# --------------------------------------------------------------------------- HiGHS
def _new_highs():
    from geomcheck.search.highs import new_highs

    return new_highs()


def _highs_lp(c, A, ub, lb_vars, ub_vars, maximize=False, presolve=True):
    """min/max c·x s.t. A x ≤ ub, bounds; returns (status string, x, highs)."""
    import highspy

    h = _new_highs()
    if not presolve:
        h.setOptionValue("presolve", "off")  # keeps the dual ray of an infeasible LP available
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    m, k = A.shape
    lp.num_col_, lp.num_row_ = k, m
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.array([(-inf if v is None else v) for v in lb_vars], dtype=np.float64)
    lp.col_upper_ = np.array([(inf if v is None else v) for v in ub_vars], dtype=np.float64)
    lp.row_lower_ = np.full(m, -inf)
    lp.row_upper_ = np.asarray(ub, dtype=np.float64)
    csc = A.T.copy()  # column j of A = row j of A.T
    starts, index, value = [0], [], []
    for j in range(k):
        nz = np.nonzero(csc[j])[0]
        index.extend(nz.tolist())
        value.extend(csc[j][nz].tolist())
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.array(h.getSolution().col_value) if status == "Optimal" else None
    return status, x, h


def _arrays(weights, bias, pattern):
    idx = _signed(pattern)
    W = np.array([[float(v) for v in weights[i]] for i, _ in idx]).reshape(len(idx), len(weights[0]))
    b = np.array([float(bias[i]) for i, _ in idx])
    s = np.array([float(si) for _, si in idx])
    return idx, W, b, s


def _margin_point(weights, bias, pattern, d):
    """Max-margin LP; returns (t*, z) or (None, None) if HiGHS fails."""
    idx, W, b, s = _arrays(weights, bias, pattern)
    if not idx:
        return 1.0, np.zeros(d)
    # −s_i w_i·z + t ≤ s_i b_i
    A = np.hstack([-(s[:, None] * W), np.ones((len(idx), 1))])
    status, x, _ = _highs_lp(np.r_[np.zeros(d), 1.0], A, s * b, [None] * d + [None], [None] * d + [1.0], maximize=True)
    if status != "Optimal":
        return None, None
    return float(x[-1]), x[:d]


def _exact_solve(M: list[list[Fraction]], rhs: list[Fraction], guess: list[float]) -> list[Fraction] | None:
    """A solution of M·x = rhs (free variables fixed near ``guess``), exact; None if inconsistent."""
    cols = len(M[0]) if M else 0
    # pivoting on the rhs column too: a pivot there means 0 = nonzero, an inconsistent system
    A, pivots = rref([list(r) + [v] for r, v in zip(M, rhs)], columns=cols + 1)
    if cols in pivots:
        return None
    x = [F(guess[c]).limit_denominator(10**6) if c not in pivots else F(0) for c in range(cols)]
    for i, c in enumerate(pivots):
        x[c] = A[i][cols] - sum((A[i][k] * x[k] for k in range(cols) if k not in pivots), F(0))
    return x


def verify_farkas(weights, bias, pattern, y: dict) -> bool:
    """y ≥ 0, y ≠ 0, Σ y_i s_i w_i = 0 and Σ y_i s_i b_i ≤ 0 (module docstring), exactly."""
    signs = dict(_signed(pattern))
    if not y or any(v < 0 or i not in signs for i, v in y.items()) or not any(y.values()):
        return False
    d = len(weights[0])
    r = [sum((v * signs[i] * weights[i][k] for i, v in y.items()), F(0)) for k in range(d)]
    return not any(r) and sum((v * signs[i] * bias[i] for i, v in y.items()), F(0)) <= 0


def verify_ball_certificate(sphere: Sphere, pattern: str, y: dict) -> bool:
    """The ball certificate (module docstring), exactly: no point of S has the pattern."""
    signs = dict(_signed(pattern))
    if not y or any(v < 0 or i not in signs for i, v in y.items()) or not any(y.values()):
        return False
    r = sphere.project([-sum((v * signs[i] * sphere.weights[i][k] for i, v in y.items()), F(0))
                        for k in range(sphere.d)])
    yg = sum((v * signs[i] * sphere.bias[i] for i, v in y.items()), F(0))
    return yg <= 0 and yg * yg >= sphere.d * dot(r, r)


def _farkas_from_dual_ray(weights, bias, pattern) -> dict | None:
    """Farkas multipliers from HiGHS's dual ray of the homogenized system.

    The open system is feasible iff ``s_i(w_i·y + b_i·τ) ≥ 1, τ ≥ 0`` is (divide by
    τ > 0, or scale a τ = 0 solution up). When that LP is infeasible, its dual
    ray λ satisfies λ ≥ 0, Σ λ_i s_i w_i = 0 and Σ λ_i s_i b_i ≤ 0: exactly the
    multipliers of :func:`verify_farkas`. The float ray is rounded, and if that
    fails, re-solved exactly on its support.
    """
    idx, W, b, s = _arrays(weights, bias, pattern)
    m, d = W.shape
    A = np.hstack([s[:, None] * W, (s * b)[:, None]])
    status, _, h = _highs_lp(np.zeros(d + 1), -A, -np.ones(m), [None] * d + [0.0], [None] * (d + 1), presolve=False)
    if status != "Infeasible":
        return None
    _, has, ray = h.getDualRay()
    if not has:
        return None
    ray = np.abs(np.asarray(ray[:m], dtype=float))
    if not ray.any():
        return None
    ray = ray / ray.max()
    for den in (1, 10, 1000, 10**6, 10**9):
        cert = {idx[k][0]: F(float(v)).limit_denominator(den) for k, v in enumerate(ray)}
        cert = {i: v for i, v in cert.items() if v > 0}
        if verify_farkas(weights, bias, pattern, cert):
            return cert
    support = [k for k in range(m) if ray[k] > 1e-9]
    M = [[F(1)] * len(support)] + [[F(idx[k][1]) * weights[idx[k][0]][c] for k in support] for c in range(d)]
    sol = _exact_solve(M, [F(1)] + [F(0)] * d, [float(ray[k]) / ray[support].sum() for k in support])
    if sol is None:
        return None
    cert = {idx[k][0]: v for k, v in zip(support, sol) if v != 0}
    return cert if verify_farkas(weights, bias, pattern, cert) else None


def _farkas(weights, bias, pattern) -> dict | None:
    """Farkas multipliers: HiGHS's dual ray first, else the alternative system as an LP, both checked exactly."""
    cert = _farkas_from_dual_ray(weights, bias, pattern)
    if cert is not None:
        return cert
    idx, W, b, s = _arrays(weights, bias, pattern)
    m, d = W.shape
    SW = (s[:, None] * W).T  # d × m
    # equalities as two inequalities; Σy = 1
    A = np.vstack([SW, -SW, np.ones((1, m)), -np.ones((1, m))])
    ub = np.r_[np.zeros(2 * d), 1.0, -1.0]
    status, y, _ = _highs_lp(s * b, A, ub, [0.0] * m, [None] * m)
    if status != "Optimal":
        return None
    support = [k for k in range(m) if y[k] > 1e-12]
    M = [[F(1)] * len(support)] + [[F(idx[k][1]) * weights[idx[k][0]][c] for k in support] for c in range(d)]
    rhs = [F(1)] + [F(0)] * d
    sol = _exact_solve(M, rhs, [float(y[k]) for k in support])
    if sol is None:
        return None
    cert = {idx[k][0]: v for k, v in zip(support, sol) if v != 0}
    return cert if verify_farkas(weights, bias, pattern, cert) else None


def _boundedness_certificates(sphere: Sphere, pattern: str) -> list | None:
    """For c = ±g_k (an orthogonal basis of A): y ≥ 0 with Σ y_i a_i = c, exact (see geometry.sphere.bounded_by)."""
    from geomcheck.geometry.regions import ambient_basis
    from geomcheck.geometry.sphere import pattern_constraints

    cons = pattern_constraints(sphere, pattern)
    if not cons:
        return None
    A = np.array([[float(x) for x in a] for _, a, _ in cons]).T  # d × m
    m = A.shape[1]
    out = []
    for g in ambient_basis(sphere):
        for c in (g, tuple(-x for x in g)):
            cf = np.array([float(x) for x in c])
            status, y, _ = _highs_lp(np.ones(m), np.vstack([A, -A]), np.r_[cf, -cf], [0.0] * m, [None] * m)
            if status != "Optimal":
                return None
            support = [k for k in range(m) if y[k] > 1e-12]
            M = [[cons[k][1][r] for k in support] for r in range(sphere.d)]
            sol = _exact_solve(M, list(c), [float(y[k]) for k in support])
            if sol is None or any(v < 0 for v in sol):
                return None
            out.append((tuple(c), {cons[k][0]: v for k, v in zip(support, sol) if v != 0}))
    return out


def space_feasibility(weights, bias, pattern: str, centers: bool = False) -> Feasibility:
    """Is ``{z : s_i(w_i·z + b_i) > 0}`` nonempty (in ℝᵈ, or in 1⊥ when ``centers``)? Exact verdict."""
    from geomcheck.geometry.sphere import project

    d = len(weights[0])
    t, z = _margin_point(weights, bias, pattern, d)
    if t is not None and t > 0:
        for den in (1, 10, 100, 10**4, 10**6, 10**9, 10**12):
            cand = project(_rationalize(z, den), centers)  # w̃ ∈ 1⊥, so P changes no pre-activation
            if _satisfies(weights, bias, pattern, cand):
                return Feasibility(True, EXACT, witness=cand, how="margin LP (HiGHS), witness checked exactly")
    cert = _farkas(weights, bias, pattern)
    if cert is not None:
        return Feasibility(False, EXACT, multipliers=cert, how="Farkas multipliers (HiGHS support, solved exactly)")
    return Feasibility(None, "estimate", how=f"undecided: LP margin {t}")


# --------------------------------------------------------------------------- sphere
def _min_norm(sphere: Sphere, pattern: str):
    import cvxpy as cp

    idx, W, b, s = _arrays(sphere.weights, sphere.bias, pattern)
    z = cp.Variable(sphere.d)
    cons = [cp.multiply(s, W @ z + b) >= 0] if idx else []
    if sphere.centers:
        cons.append(cp.sum(z) == 0)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(z)), cons)
    try:
        prob.solve(solver="CLARABEL")
    except Exception:  # noqa: BLE001 — a solver failure leaves the question undecided
        return None, None, None
    if prob.status not in ("optimal", "optimal_inaccurate"):
        return None, None, None
    dual = np.asarray(cons[0].dual_value) if idx else np.zeros(0)
    return float(prob.value), np.asarray(z.value), dual


def _sphere_point_near(sphere: Sphere, target: np.ndarray, den: int) -> tuple:
    base = base_point(sphere.d, sphere.centers)
    pb = np.array([float(v) for v in base])
    if pb @ target < 0:  # reflect from the nearer of ±p₀: a short v rounds with small relative error
        base = tuple(-v for v in base)
        pb = -pb
    v = sphere.project(_rationalize(pb - target, den))
    return reflect_to(base, v)


def _outer_point(sphere, pattern, interior: np.ndarray, rng) -> np.ndarray | None:
    """A point of Q_s with ‖·‖² > d (float): an unbounded ray or a vertex outside the ball."""
    idx, W, b, s = _arrays(sphere.weights, sphere.bias, pattern)
    d = sphere.d
    R2 = float(d)
    A = -(s[:, None] * W) if idx else np.zeros((0, d))
    ub = s * b if idx else np.zeros(0)
    if sphere.centers:
        A = np.vstack([A, np.ones((1, d)), -np.ones((1, d))])
        ub = np.r_[ub, 0.0, 0.0]
    directions = [interior] if np.linalg.norm(interior) > 1e-9 else []
    directions += list(rng.standard_normal((2 * d + 4, d)))
    for c in directions:
        if sphere.centers:
            c = c - c.mean()
        if np.linalg.norm(c) == 0:
            continue
        if A.shape[0] == 0:
            return c / np.linalg.norm(c) * 2 * np.sqrt(R2)
        # a box keeps the LP bounded: an unbounded direction of the region shows up as an optimal
        # box vertex far outside the ball (getPrimalRay is slow on wide layers)
        box = 10.0 * (np.sqrt(R2) + np.abs(interior).max())
        status, x, _ = _highs_lp(c, A, ub, [-box] * d, [box] * d, maximize=True)
        if status == "Optimal" and x @ x > R2:
            return x
    return None


def sphere_feasibility(sphere: Sphere, pattern: str, seed: int = 0) -> Feasibility:
    """Does the open region of ``pattern`` meet S? Exact witness on S, ball certificate, or estimate."""
    t, p = _margin_point(sphere.weights, sphere.bias, pattern, sphere.d)
    if t is None or t <= 0:
        cert = _farkas(sphere.weights, sphere.bias, pattern)
        if cert is not None:
            return Feasibility(False, EXACT, multipliers=cert,
                               how="the region is empty in the whole space (Farkas = ball certificate with r = 0)")
    value, zmin, dual = _min_norm(sphere, pattern)
    idx = _signed(pattern)
    if value is None:
        return Feasibility(None, "estimate", how="the min-norm QP failed")
    if value > sphere.d * (1 - 1e-9):  # tangent regions have min-norm exactly √d; the check below is exact
        for den in (10**3, 10**6, 10**9, 10**12):
            y = {i: F(float(max(v, 0.0))).limit_denominator(den) for (i, _), v in zip(idx, dual)}
            y = {i: v for i, v in y.items() if v > 0}
            if verify_ball_certificate(sphere, pattern, y):
                return Feasibility(False, EXACT, multipliers=y,
                                   how=f"min-norm {value ** 0.5:.6g} ≥ √d = {sphere.d ** 0.5:.6g}: ball certificate")
        if value > sphere.d * (1 + 1e-9):
            return Feasibility(False, "estimate", how=f"min-norm {value ** 0.5:.6g} > √d, but no certificate verified")
    if t is None or t <= 0:
        return Feasibility(None, "estimate", how="no interior point found")
    if sphere.centers:
        p = p - p.mean()  # the LP leaves the 1-component free (w̃ ∈ 1⊥); the sphere lives in 1⊥
    rng = np.random.default_rng(seed)
    q = _outer_point(sphere, pattern, p, rng)
    if q is None:
        from geomcheck.geometry.sphere import inside_ball

        certs = _boundedness_certificates(sphere, pattern)
        if certs is not None and inside_ball(sphere, pattern, certs):
            return Feasibility(False, EXACT, inside=certs,
                               how="the region is bounded and all its vertices lie in the closed ball (exact vertex enumeration)")
        return Feasibility(False, "estimate",
                           how="the region seems to lie inside the ball (no outer vertex or ray found); not certified")
    # strictly interior points on both sides of the sphere: pull towards the max-margin point p
    for frac in (1e-3, 1e-2, 0.1, 0.5):  # off the min-norm point (on the region's boundary) into the interior
        inner = zmin + frac * (p - zmin)
        if inner @ inner < sphere.d:
            break
    outer = q + 1e-3 * (p - q)
    if outer @ outer <= sphere.d:
        outer = q
    # crossing of the segment inner → outer with the sphere
    dv = outer - inner
    a, bq, c = dv @ dv, 2 * inner @ dv, inner @ inner - sphere.d
    lam = (-bq + np.sqrt(max(bq * bq - 4 * a * c, 0.0))) / (2 * a)
    # candidate sphere points: the crossing, and radial images of points of the region on both sides;
    # the one deepest inside the region (largest normalized margin) rounds to the simplest witness
    _, Wp, bp, sp = _arrays(sphere.weights, sphere.bias, pattern)
    norms = np.linalg.norm(Wp, axis=1) if len(Wp) else np.ones(0)
    norms[norms == 0] = 1.0
    candidates = [inner + (lam + frac * (1 - lam)) * dv for frac in (0.0, 0.02, -0.02, 0.1, -0.1)]
    candidates += [inner + t * (p - inner) for t in np.linspace(0, 1, 9)] + [outer + t * (p - outer) for t in np.linspace(0, 1, 9)]
    candidates = [c * np.sqrt(sphere.d) / np.linalg.norm(c) for c in candidates if np.linalg.norm(c) > 0]

    def depth(z):
        return float(np.min(sp * (Wp @ z + bp) / norms)) if len(Wp) else 1.0

    candidates.sort(key=depth, reverse=True)
    for target in candidates[:6]:
        for den in (1, 2, 4, 10, 100, 10**4, 10**6, 10**9, 10**13):
            if base_point(sphere.d, sphere.centers) is None:
                y = sphere.project(_rationalize(target, den))
                if any(y) and all(s * sg > 0 for (i, s), sg in zip(idx, [sphere.signs_along(y)[i] for i, _ in idx])):
                    return Feasibility(True, EXACT, direction=y,
                                       how="witness √d·y/‖y‖ (no rational point exists on this sphere), checked exactly")
                continue
            z = _sphere_point_near(sphere, target, den)
            if sphere.on_sphere(z) and _satisfies(sphere.weights, sphere.bias, pattern, z):
                return Feasibility(True, EXACT, witness=z, how="rational point exactly on the sphere, checked exactly")
    return Feasibility(None, "estimate", how="a crossing was found in floats but no exact witness verified")


# --------------------------------------------------------------------------- region search
@dataclass
class RegionSearch:
    patterns: dict = field(default_factory=dict)   # pattern → Feasibility (feasible)
    refuted: int = 0
    undecided: int = 0
    complete: bool = False
    checked: int = 0

    @property
    def status(self) -> str:
        return EXACT if self.complete and self.undecided == 0 else "estimate"


def _groups(sphere: Sphere):
    """Cutting neurons grouped by identical boundary plane, with the relative sign of each member."""
    groups = []
    for nb in classify_neurons(sphere):
        if nb.kind != "cuts":
            continue
        w, b = sphere.weights[nb.index], sphere.bias[nb.index]
        for g in groups:
            w0, b0 = sphere.weights[g[0][0]], sphere.bias[g[0][0]]
            k = next(j for j, x in enumerate(w0) if x != 0)
            lam = w[k] / w0[k]
            if lam and all(x == lam * y for x, y in zip(w, w0)) and b == lam * b0:
                g.append((nb.index, sign(lam)))
                break
        else:
            groups.append([(nb.index, 1)])
    return groups


def search_regions(sphere: Sphere, time_budget: float = 30.0, samples: int = 4000, seed: int = 0,
                   progress: bool = False) -> RegionSearch:
    """Breadth-first search over the regions of S, flipping one boundary (group) at a time.

    Completeness (dim S ≥ 2): any two pieces of S are joined by a path that
    crosses boundaries one at a time (distinct small spheres meet in codimension
    2, identical planes flip together as one group), so every region is reached
    by single-group flips from any other. With every feasible step carrying an
    exact witness and every infeasible one an exact certificate, the count is proved.
    """

    rng = np.random.default_rng(seed)
    groups = _groups(sphere)
    result = RegionSearch()
    seen: set[str] = set()
    # seeds from sampling: float patterns are only candidates, each is re-decided exactly
    Z = rng.standard_normal((samples, sphere.d))
    if sphere.centers:
        Z -= Z.mean(axis=1, keepdims=True)
    W = np.array([[float(v) for v in row] for row in sphere.weights])
    bvec = np.array([float(v) for v in sphere.bias])
    H = (Z * (np.sqrt(sphere.d) / np.linalg.norm(Z, axis=1, keepdims=True))) @ W.T + bvec
    queue = []
    for row in H[:50]:
        pat = "".join("+" if v > 0 else "-" if v < 0 else "*" for v in row)
        if pat not in seen:
            seen.add(pat)
            queue.append(pat)
    start = time.monotonic()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="regions", unit="pattern", leave=False, disable=None)  # None: silent unless a terminal
    while queue:
        if time.monotonic() - start > time_budget:
            break
        pat = queue.pop(0)
        res = sphere_feasibility(sphere, pat, seed=seed)
        result.checked += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(regions=len(result.patterns), queued=len(queue))
        if res.feasible and res.status == EXACT:
            result.patterns[pat] = res
            for g in groups:
                flipped = list(pat)
                for i, _ in g:
                    flipped[i] = "+" if pat[i] == "-" else "-"
                nxt = "".join(flipped)
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        elif res.feasible is False and res.status == EXACT:
            result.refuted += 1
        else:
            result.undecided += 1
    if bar is not None:
        bar.close()
    result.complete = not queue
    return result
