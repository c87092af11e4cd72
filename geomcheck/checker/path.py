"""Checker for kind ``path`` (rays, superposition paths ``x + λ·d``, arcs).

The path is ``x(λ) = x₀ + λ·v`` for λ in the interval from ``start`` to ``end``
(``end = null`` means +∞). Neuron i's pre-activation ``h_i(λ)`` is continuous
where the normalization is defined, so its sign can only change at a zero.
The checker finds every zero itself:

* no normalization: ``h_i(λ) = w_i·x₀ + b_i + λ·(w_i·v)`` (degree ≤ 1);
* LayerNorm/RMSNorm: with ``u(λ) = P·x(λ)``, ``A(λ) = w̃_i·u(λ)`` and
  ``N(λ) = ‖u(λ)‖² + d·ε``, ``h_i = (√d·A + b'_i·√N)/√N`` vanishes exactly where
  ``q_i(λ) = d·A² − b'_i²·N = 0`` **and** ``sign(A) = −sign(b'_i)`` (when
  b'_i = 0, q_i = d·A² and its zeros are those of A).

Roots are written ``p + s·√D`` (p, s, D rational, D ≥ 0) and compared by
squaring (:func:`sign_two` and :func:`sign_three`), never rounded. A neuron
with ``q_i ≡ 0`` has constant sign on the domain (N > 0 forces A ≠ 0 there when
b'_i ≠ 0, so h_i is 0 everywhere or never), hence no crossing; its sign at the
witnesses is still checked.

Accepted means: between consecutive listed crossing intervals the pattern is
constant and equal to the stated witness pattern; every sign change happens
inside a listed interval; each interval's zeros are one number; the stated
``map_changes`` flags and the claim are correct. See docs/certificates.md.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.checker.core import CheckedModel, register, require, rational, rational_vector, sign, sign_sqrt_combination

ZERO = Fraction(0)
SYMBOL = {1: "+", -1: "-", 0: "0"}


def sign_two(a: Fraction, b: Fraction, c: Fraction) -> int:
    """sign(a + b·√c), c ≥ 0."""
    return sign_sqrt_combination(a, Fraction(1), b, c)


def sign_three(alpha: Fraction, beta: Fraction, d1: Fraction, gamma: Fraction, d2: Fraction) -> int:
    """sign(α + β·√D1 + γ·√D2), D1, D2 ≥ 0, by comparing squares.

    With X = α + β√D1 and Y = γ√D2 of opposite signs, the larger of X², Y²
    wins: X² − Y² = (α² + β²D1 − γ²D2) + 2αβ·√D1 is again a two-term sign.
    """
    sx = sign_two(alpha, beta, d1)
    sy = sign(gamma) if d2 else 0
    if sx == 0 or sy == 0 or sx == sy:
        return sx or sy
    bigger = sign_two(alpha * alpha + beta * beta * d1 - gamma * gamma * d2, 2 * alpha * beta, d1)
    return sx if bigger > 0 else sy if bigger < 0 else 0


def dot(a, b) -> Fraction:
    return sum((x * y for x, y in zip(a, b)), ZERO)


def roots(c2: Fraction, c1: Fraction, c0: Fraction) -> list[tuple[Fraction, Fraction, Fraction]]:
    """Distinct real roots of c2·λ² + c1·λ + c0 as (p, s, D) = p + s·√D; [] for the zero polynomial."""
    if c2 == 0:
        return [] if c1 == 0 else [(-c0 / c1, ZERO, ZERO)]
    disc = c1 * c1 - 4 * c2 * c0
    centre = -c1 / (2 * c2)
    if disc < 0:
        return []
    if disc == 0:
        return [(centre, ZERO, ZERO)]
    half = 1 / (2 * c2)
    return [(centre, -half, disc), (centre, half, disc)]


def compare(root, t: Fraction) -> int:
    """sign(root − t) for a rational t."""
    p, s, disc = root
    return sign_two(p - t, s, disc)


class Path:
    """The parsed path and its domain."""

    def __init__(self, spec, model: CheckedModel):
        require(isinstance(spec, dict), "path", "expected an object")
        self.base = rational_vector(spec["base"], "path.base", model.d)
        self.direction = rational_vector(spec["direction"], "path.direction", model.d)
        self.start = rational(spec["start"], "path.start")
        self.end = None if spec["end"] is None else rational(spec["end"], "path.end")
        self.start_closed, self.end_closed = spec["start_closed"], spec["end_closed"]
        require(isinstance(self.start_closed, bool) and isinstance(self.end_closed, bool),
                "path", "start_closed and end_closed must be booleans")
        require(self.end is not None or not self.end_closed, "path", "an infinite end cannot be closed")
        require(self.end is None or self.start < self.end, "path", "start must be below end")

    def contains(self, root) -> bool:
        low = compare(root, self.start)
        if low < 0 or (low == 0 and not self.start_closed):
            return False
        if self.end is None:
            return True
        high = compare(root, self.end)
        return high < 0 or (high == 0 and self.end_closed)


def require_normalization_defined(path: Path, model: CheckedModel) -> None:
    """N(λ) = ‖P·x(λ)‖² + dε > 0 on the domain: with ε = 0 it fails only where P·x(λ) = 0."""
    if not model.normalized or model.eps > 0:
        return
    u0, u1 = model.centre(path.base), model.centre(path.direction)
    if not any(u1):
        require(any(u0), "normalization", "the whole path centres to 0, where the normalization is undefined")
        return
    lam = -dot(u0, u1) / dot(u1, u1)  # the only λ where u(λ) can vanish
    if not any(a + lam * b for a, b in zip(u0, u1)):
        require(not path.contains((lam, ZERO, ZERO)), "normalization",
                f"x(λ) centres to 0 at λ = {lam}, inside the path: the normalization is undefined there")


class Lines:
    """Each neuron's data along the path, computed once (O(n·d)).

    Normalized: ``A_i(λ) = a0_i + a1_i·λ`` (``A = w̃_i·u(λ)``) and
    ``N(λ) = n0 + n1·λ + n2·λ²``; no normalization: ``h_i(λ) = a0_i + a1_i·λ``
    (bias included). Patterns at witnesses then cost O(n), not O(n·d).
    """

    def __init__(self, path: Path, model: CheckedModel):
        self.model = model
        if model.normalized:
            u0, u1 = model.centre(path.base), model.centre(path.direction)
            self.a0 = [dot(w, u0) for w in model.folded_w]
            self.a1 = [dot(w, u1) for w in model.folded_w]
            self.n0, self.n1, self.n2 = dot(u0, u0) + model.d * model.eps, 2 * dot(u0, u1), dot(u1, u1)
        else:
            self.a0 = [dot(w, path.base) + b for w, b in zip(model.folded_w, model.folded_b)]
            self.a1 = [dot(w, path.direction) for w in model.folded_w]

    def pattern(self, t: Fraction) -> str:
        """Exact signs at λ = t: sign(√d·A + b'·√N) (normalized) or sign(h)."""
        model = self.model
        if not model.normalized:
            return "".join(SYMBOL[sign(a0 + a1 * t)] for a0, a1 in zip(self.a0, self.a1))
        radicand = self.n0 + self.n1 * t + self.n2 * t * t
        require(radicand > 0, "normalization", f"undefined at λ = {t}")
        d = Fraction(model.d)
        return "".join(SYMBOL[sign_sqrt_combination(a0 + a1 * t, d, b, radicand)]
                       for a0, a1, b in zip(self.a0, self.a1, model.folded_b))

    def zeros(self, path: Path, i: int) -> list:
        """Zeros of h_i in the domain, as (p, s, D)."""
        a0, a1 = self.a0[i], self.a1[i]
        if not self.model.normalized:
            return [r for r in roots(ZERO, a1, a0) if path.contains(r)]
        b = self.model.folded_b[i]
        d, bb = self.model.d, b * b
        q = (d * a1 * a1 - bb * self.n2, 2 * d * a0 * a1 - bb * self.n1, d * a0 * a0 - bb * self.n0)
        zeros = []
        for p, s, disc in roots(*q):
            # the side condition: A and b' of opposite signs (A = 0 when b' = 0, automatic then)
            if path.contains((p, s, disc)) and (b == 0 or sign_two(a0 + a1 * p, a1 * s, disc) == -sign(b)):
                zeros.append((p, s, disc))
        return zeros


def same_number(r1, r2) -> bool:
    return sign_three(r1[0] - r2[0], r1[1], r1[2], -r2[1], r2[2]) == 0


def check_critical_norms(cert: dict, path: Path, model: CheckedModel, zeros: dict) -> str:
    """Rays only: neuron i flips at centred squared norm λ*²·‖Pv‖², λ*² rational."""
    require(not any(path.base) and path.start == 0 and path.end is None and not path.start_closed,
            "critical_norms", "critical norms are stated for rays only")
    scale = dot(model.centre(path.direction), model.centre(path.direction))
    norms = {}
    for i, found in zeros.items():
        for p, s, disc in found:
            # a ray's q_i has no linear term, so its roots are ±s·√D with p = 0 and λ*² = s²·D rational
            require(p == 0 or s == 0, "critical_norms", f"neuron {i}: its zero is not of the ray form")
            require(i not in norms, "critical_norms", f"neuron {i} has two zeros on the ray")
            norms[i] = (p * p + s * s * disc) * scale
    stated = cert.get("critical_norms")
    if stated is not None:
        require(isinstance(stated, list), "critical_norms", "expected a list")
        seen = {}
        for k, entry in enumerate(stated):
            require(isinstance(entry, dict), f"critical_norms[{k}]", "expected an object")
            i = entry["neuron"]
            require(type(i) is int and i in norms and i not in seen, f"critical_norms[{k}]",
                    f"neuron {i!r} is not a neuron that flips on this ray, or is listed twice")
            seen[i] = rational(entry["squared_norm"], f"critical_norms[{k}].squared_norm")
            require(seen[i] == norms[i], f"critical_norms[{k}]",
                    f"neuron {i} flips at squared centred norm {norms[i]}, not {seen[i]}")
        require(set(seen) == set(norms), "critical_norms",
                f"neurons {sorted(set(norms) - set(seen))} flip on this ray but are not listed")
    top = max(norms.values(), default=ZERO)
    if "constant_above" in cert:
        stated_top = rational(cert["constant_above"], "constant_above")
        require(stated_top == top, "constant_above", f"the largest critical squared norm is {top}, not {stated_top}")
    return f"; constant for squared centred norm above {top}"


@register("path")
def check_path(cert: dict, model: CheckedModel) -> str:
    path = Path(cert["path"], model)
    require_normalization_defined(path, model)
    crossings, segments = cert["crossings"], cert["segments"]
    require(isinstance(crossings, list) and isinstance(segments, list), "crossings", "crossings and segments are lists")
    require(len(segments) == len(crossings) + 1, "segments", "there must be one more segment than crossings")

    lines = Lines(path, model)
    witnesses = []
    for k, seg in enumerate(segments):
        require(isinstance(seg, dict), f"segments[{k}]", "expected an object")
        t = rational(seg["witness"], f"segments[{k}].witness")
        require(path.contains((t, ZERO, ZERO)), f"segments[{k}].witness", f"{t} is outside the path's interval")
        pattern = lines.pattern(t)
        require(seg["pattern"] == pattern, f"segments[{k}].pattern",
                f"at λ = {t} the exact pattern is {pattern}, not {seg['pattern']!r}")
        witnesses.append(t)

    intervals = []
    for k, crossing in enumerate(crossings):
        require(isinstance(crossing, dict), f"crossings[{k}]", "expected an object")
        lo, hi = rational_vector(crossing["interval"], f"crossings[{k}].interval", 2)
        require(witnesses[k] < lo <= hi < witnesses[k + 1], f"crossings[{k}].interval",
                f"[{lo}, {hi}] must lie strictly between the witnesses {witnesses[k]} and {witnesses[k + 1]}")
        neurons = crossing["neurons"]
        require(isinstance(neurons, list) and neurons and all(type(i) is int for i in neurons)
                and neurons == sorted(set(neurons)) and 0 <= neurons[0] and neurons[-1] < model.n,
                f"crossings[{k}].neurons", "expected distinct neuron indices in increasing order")
        intervals.append((lo, hi, neurons))

    zeros = {}
    inside = [[] for _ in intervals]  # (neuron, root) per interval
    for i in range(model.n):
        found = lines.zeros(path, i)
        if found:
            zeros[i] = found
        for r in found:
            home = _interval_holding(intervals, r)
            require(home is not None, "crossings", f"neuron {i} changes sign at λ = {_show(r)}, outside every crossing interval")
            inside[home].append((i, r))

    for k, (lo, hi, neurons) in enumerate(intervals):
        found = sorted({i for i, _ in inside[k]})
        require(found == neurons, f"crossings[{k}].neurons",
                f"the neurons vanishing in [{lo}, {hi}] are {found}, not {neurons}")
        first = inside[k][0][1]
        require(all(same_number(first, r) for _, r in inside[k]), f"crossings[{k}]",
                f"[{lo}, {hi}] holds zeros at different λ")
        flips = {}
        before, after = segments[k]["pattern"], segments[k + 1]["pattern"]
        for i in range(model.n):
            if (before[i] == "+") != (after[i] == "+"):
                flips[i] = 1 if before[i] == "+" else -1
        stated = crossings[k]["map_changes"]
        require(isinstance(stated, bool), f"crossings[{k}].map_changes", "expected a boolean")
        differs = model.map_changes(flips)
        require(stated == differs, f"crossings[{k}].map_changes",
                f"W_out·(D_s − D_t)·[w̃ | b'] is {'non' if differs else ''}zero, the certificate says {stated}")

    claim = cert["claim"]
    require(isinstance(claim, dict), "claim", "expected an object")
    verdict = "constant" if not crossings else "not-constant"
    require(claim["verdict"] == verdict, "claim.verdict", f"the path is {verdict}, not {claim['verdict']!r}")
    require(claim["crossings"] == len(crossings) and type(claim["crossings"]) is int, "claim.crossings",
            f"there are {len(crossings)} crossings, not {claim['crossings']!r}")
    extra = ""
    if "critical_norms" in cert or "constant_above" in cert:
        extra = check_critical_norms(cert, path, model, zeros)
    changes = sum(1 for c in crossings if c["map_changes"])
    return (f"path {verdict}: {len(crossings)} crossing(s), {len(segments)} segment(s), "
            f"{changes} affine-map change(s){extra}")


def _interval_holding(intervals: list, root) -> int | None:
    """The index of the interval [lo, hi] holding root; the intervals are disjoint and
    increasing (checked above), so bisect on their lower ends."""
    low, high = 0, len(intervals)
    while low < high:  # first interval whose lo is above root
        mid = (low + high) // 2
        if compare(root, intervals[mid][0]) < 0:
            high = mid
        else:
            low = mid + 1
    k = low - 1
    return k if k >= 0 and compare(root, intervals[k][1]) <= 0 else None


def _show(root) -> str:
    p, s, disc = root
    return str(p) if not s else f"{p} {'+' if s > 0 else '-'} {abs(s)}·√{disc}"
