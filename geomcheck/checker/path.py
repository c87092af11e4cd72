"""Checker for kind ``path`` (rays, superposition paths ``x + λ·d``, arcs).

The path is ``x(λ) = x₀ + λ·v``, λ from ``start`` to ``end`` (null: +∞). Neuron i's pre-activation h_i(λ) is
continuous where the normalization is defined, so its sign changes only at a zero; the checker finds every zero
itself, as ``(p + s·√D)/q`` (integers p, s, D, q), compared by squaring. Without normalization, ``h_i(λ) = w_i·x₀ +
b_i + λ·(w_i·v)``. With LayerNorm/RMSNorm, ``u = P·x(λ)``, ``A = w̃_i·u``, ``N = ‖u‖² + dε``: ``h_i ∝ √d·A +
b'_i·√N`` vanishes where ``q_i = d·A² − b'_i²·N = 0`` **and** ``sign(A) = −sign(b'_i)`` (b'_i = 0: A = 0).

Conditions checked: the path is well formed and N > 0 on its domain; witnesses lie in the domain with ``witness_k <
lo_k ≤ hi_k < witness_{k+1}``; every zero of every neuron in the domain lies in a crossing interval listing the
neuron, every listed neuron has a zero there, and the zeros in one interval are one number; the exact pattern at the
first witness is the stated one; each later stated pattern is the previous one with the neurons that *change sign*
at the crossing flipped; each ``map_changes`` is ``W_out·(D_s − D_t)·[w̃ | b'] ≠ 0``; the claim; critical norms.

Why deriving the later patterns is sound: between ``witness_k`` and ``witness_{k+1}`` every zero of every neuron
lies at the one point of interval k (checked), so h_i keeps its sign on each side and changes sign there iff the
zero has odd multiplicity. Without normalization a zero of a nonconstant linear h_i always does. With it,
``h_i·(√d·A − b'_i·√N) = q_i`` and the second factor is ``−2b'_i·√N ≠ 0`` at the zero (b'_i ≠ 0), so h_i changes
sign iff q_i does, iff the root is simple (q_i linear, or its discriminant ≠ 0); with b'_i = 0, h_i ∝ A is linear
and changes sign. If q_i ≡ 0, h_i never vanishes (b'_i ≠ 0) or always does, and keeps its symbol. So one exact
pattern and the verified crossings fix every witness's exact pattern."""

from bisect import bisect_right
from fractions import Fraction

from geomcheck.checker.arith import centre, dot, show, sign, sign_surd, sign_surds
from geomcheck.checker.core import CheckedModel, fields, register, require

SYMBOL = "0+-"  # SYMBOL[sign]: 1 → '+', -1 → '-', 0 → '0'


def roots(c2: int, c1: int, c0: int) -> list[tuple]:
    """Distinct real roots of c2·λ² + c1·λ + c0 as (p, s, D, q) meaning (p + s·√D)/q, q > 0, increasing;
    [] for the zero polynomial. A rational t is (t.numerator, 0, 0, t.denominator)."""
    if c2 == 0:
        return [] if c1 == 0 else [(-c0 * sign(c1), 0, 0, abs(c1))]
    disc, p, q = c1 * c1 - 4 * c2 * c0, -c1 * sign(c2), 2 * abs(c2)
    return [] if disc < 0 else [(p, 0, 0, q)] if disc == 0 else [(p, -1, disc, q), (p, 1, disc, q)]


def compare(root, t) -> int:
    """sign(root − t) for a rational t."""
    p, s, disc, q = root
    return sign_surd(p * t.denominator - t.numerator * q, s * t.denominator, disc)


def same_number(r1, r2) -> bool:
    return sign_surds(r1[0] * r2[3] - r2[0] * r1[3], r1[1] * r2[3], r1[2], -r2[1] * r1[3], r2[2]) == 0


class Path:
    """The parsed path, its domain, and each neuron's data along it as integers (computed once, O(n·d) work).

    With ``x(λ) = x₀/δ₀ + λ·v/δ₁`` (integer x₀, v) and den_i·b'_i = b_i/c_i (c_i > 0): no normalization,
    ``h_i ∝ a0_i + a1_i·λ``; normalized, ``A_i ∝ a0_i + a1_i·λ``, ``N ∝ n0 + n1·λ + n2·λ²`` and
    ``h_i ∝ √k·c_i·A_i + b_i·√N``, k = d·e for ε = e'/e. Every factor dropped is positive, so signs and roots stay."""

    def __init__(self, model: CheckedModel, x0: list, den0: int, v: list, den1: int, start, end, start_closed, end_closed):
        self.start, self.end, self.start_closed, self.end_closed = start, end, start_closed, end_closed
        require(type(start_closed) is bool and type(end_closed) is bool, "path", "start_closed and end_closed must be booleans")
        require(end is not None or not end_closed, "path", "an infinite end cannot be closed")
        require(end is None or start < end, "path", "start must be below end")
        self.ray_shape = not any(x0) and start == 0 and end is None and not start_closed
        self.model, d, rows = model, model.d, model.rows
        self.bn, self.bd = [r[-1].numerator for r in rows], [r[-1].denominator for r in rows]
        if model.normalized:
            m = d if model.kind == "layernorm" else 1
            u0, u1 = centre(x0, d, m > 1), centre(v, d, m > 1)  # u(λ) = u0/δ₀ + λ·u1/δ₁ with δ = m·den
            den0, den1, e = m * den0, m * den1, model.eps.denominator
            self.k = d * e
            self.n0 = e * den1 * den1 * dot(u0, u0) + d * model.eps.numerator * (den0 * den1) ** 2
            self.n1, self.n2 = 2 * e * den0 * den1 * dot(u0, u1), e * den0 * den0 * dot(u1, u1)
            self.a0 = [den1 * dot(r, u0) for r in rows] if any(u0) else [0] * model.n
            self.a1 = [den0 * dot(r, u1) for r in rows]
            require(model.eps or any(u0) or any(u1), "normalization", "the whole path centres to 0: undefined there")
            if model.eps == 0 and any(u1):  # N = ‖u‖² can vanish only at λ* (u0 + λ*·u1·δ₀/δ₁ ⊥ u1), where u = 0
                t = Fraction(-dot(u0, u1) * den1, dot(u1, u1) * den0)
                require(any(t.denominator * den1 * a + t.numerator * den0 * b for a, b in zip(u0, u1))
                        or not self.contains((t.numerator, 0, 0, t.denominator)), "normalization",
                        f"x(λ) centres to 0 at λ = {show(t)}, inside the path: the normalization is undefined there")
        else:
            u1 = v
            self.a0 = [c * den1 * dot(r, x0) + b * den0 * den1 for r, b, c in zip(rows, self.bn, self.bd)]
            self.a1 = [c * den0 * dot(r, v) for r, c in zip(rows, self.bd)]
        self.scale = Fraction(dot(u1, u1), den1 * den1)  # ‖P·v‖², for critical norms

    def contains(self, root) -> bool:
        low, high = compare(root, self.start), -1 if self.end is None else compare(root, self.end)
        return (low > 0 or low == 0 and self.start_closed) and (high < 0 or high == 0 and self.end_closed)

    def pattern(self, t: Fraction) -> list[str]:
        """Exact symbols at λ = t: sign(√k·c_i·A_i + b_i·√N) (normalized) or sign(h_i)."""
        tn, td = t.numerator, t.denominator
        if not self.model.normalized:
            return [SYMBOL[sign(a0 * td + a1 * tn)] for a0, a1 in zip(self.a0, self.a1)]
        radicand = self.k * (self.n0 * td * td + self.n1 * tn * td + self.n2 * tn * tn)  # k·N·td²
        require(radicand > 0, "normalization", f"undefined at λ = {show(t)}")
        return [SYMBOL[sign_surd(self.k * c * (a0 * td + a1 * tn), b, radicand)]  # times √k·td
                for a0, a1, b, c in zip(self.a0, self.a1, self.bn, self.bd)]

    def zeros(self, i: int) -> list[tuple]:
        """Zeros of h_i in the domain as (root, changes sign)."""
        a0, a1 = self.a0[i], self.a1[i]
        if not self.model.normalized:
            return [(r, True) for r in roots(0, a1, a0) if self.contains(r)]
        b, kc, bb = self.bn[i], self.k * self.bd[i] ** 2, self.bn[i] ** 2  # q_i = k·c_i²·A² − b_i²·N
        c2 = kc * a1 * a1 - bb * self.n2
        found = roots(c2, 2 * kc * a0 * a1 - bb * self.n1, kc * a0 * a0 - bb * self.n0)
        simple = b == 0 or c2 == 0 or len(found) == 2  # a double root of q_i (b_i ≠ 0) touches 0 without a sign change
        # the side condition: A and b_i of opposite signs (A = 0 when b_i = 0, automatic then)
        return [((p, s, D, q), simple) for p, s, D, q in found
                if self.contains((p, s, D, q)) and (b == 0 or sign_surd(a0 * q + a1 * p, a1 * s, D) == -sign(b))]


@register("path", ("path", "claim", "crossings", "segments", "critical_norms?", "constant_above?"))
def check_path(cert: dict, model: CheckedModel) -> str:
    spec = fields(cert["path"], "path", ("base", "direction", "start", "end", "start_closed", "end_closed"))
    x0, den0 = model.int_vector(spec["base"], "path.base", model.d)
    v, den1 = model.int_vector(spec["direction"], "path.direction", model.d)
    end = None if spec["end"] is None else model.number(spec["end"], "path.end")
    path = Path(model, x0, den0, v, den1, model.number(spec["start"], "path.start"), end, spec["start_closed"],
                spec["end_closed"])
    crossings, segments = cert["crossings"], cert["segments"]
    require(type(crossings) is list and type(segments) is list, "crossings", "crossings and segments are lists")
    require(len(segments) == len(crossings) + 1, "segments", "there must be one more segment than crossings")
    witnesses, intervals = [], []
    for k, seg in enumerate(segments):
        t = model.number(fields(seg, f"segments[{k}]", ("witness", "pattern"))["witness"], f"segments[{k}].witness")
        require(path.contains((t.numerator, 0, 0, t.denominator)), f"segments[{k}].witness", "outside the path")
        witnesses.append(t)
    for k, crossing in enumerate(crossings):
        fields(crossing, f"crossings[{k}]", ("neurons", "interval", "map_changes"))
        lo, hi = model.vector(crossing["interval"], f"crossings[{k}].interval", 2)
        require(witnesses[k] < lo <= hi < witnesses[k + 1], f"crossings[{k}].interval",
                "[lo, hi] must lie strictly between the neighbouring witnesses")
        neurons = model.indices(crossing["neurons"], f"crossings[{k}].neurons")
        require(neurons and neurons == sorted(neurons), f"crossings[{k}].neurons", "expected increasing order")
        require(type(crossing["map_changes"]) is bool, f"crossings[{k}].map_changes", "expected a boolean")
        intervals.append((lo, hi, neurons))
    inside, zeros = [[] for _ in intervals], {}  # (neuron, root, changes sign) per interval; roots per neuron
    for i in range(model.n):
        for root, changes in path.zeros(i):  # the interval holding root: the last whose lo ≤ root, if root ≤ its hi
            home = bisect_right(intervals, 0, key=lambda interval: -compare(root, interval[0])) - 1
            require(home >= 0 and compare(root, intervals[home][1]) <= 0, "crossings", f"neuron {i} changes sign at "
                    f"λ = ({show(root[0])} + {root[1]}·√{show(root[2])})/{show(root[3])}, outside every crossing interval")
            inside[home].append((i, root, changes))
            zeros.setdefault(i, []).append(root)
    pattern, changes = path.pattern(witnesses[0]), 0
    require(segments[0]["pattern"] == "".join(pattern), "segments[0].pattern",
            f"at λ = {show(witnesses[0])} the exact pattern is {''.join(pattern)[:200]}")
    for k, (lo, hi, neurons) in enumerate(intervals):
        found = sorted({i for i, _, _ in inside[k]})
        require(found == neurons, f"crossings[{k}].neurons", f"the neurons vanishing in [lo, hi] are {found[:20]}")
        first = inside[k][0][1]
        require(all(same_number(first, r) for _, r, _ in inside[k]), f"crossings[{k}]", "[lo, hi] holds zeros at different λ")
        flips = {i: 1 if pattern[i] == "+" else -1 for i, _, flip in inside[k] if flip}
        for i, s in flips.items():
            pattern[i] = "-" if s > 0 else "+"
        current = "".join(pattern)
        require(segments[k + 1]["pattern"] == current, f"segments[{k + 1}].pattern", f"the exact pattern is {current[:200]}")
        differs = bool(flips) and model.map_changes(flips)
        require(crossings[k]["map_changes"] == differs, f"crossings[{k}].map_changes",
                f"W_out·(D_s − D_t)·[w̃ | b'] is {'non' if differs else ''}zero")
        changes += differs
    claim = fields(cert["claim"], "claim", ("verdict", "crossings"))
    verdict = "constant" if not crossings else "not-constant"
    require(claim["verdict"] == verdict, "claim.verdict", f"the path is {verdict}")
    require(type(claim["crossings"]) is int and claim["crossings"] == len(crossings), "claim.crossings",
            f"there are {len(crossings)} crossings")
    extra = check_critical_norms(cert, path, model, zeros) if "critical_norms" in cert or "constant_above" in cert else ""
    what = ("live gate flip" if model.up_live is not None else "affine-map change" if model.activation == "relu"
            else "surrogate-map change")  # a smooth gate's flag compares the ReLU-surrogate maps
    return f"path {verdict}: {len(crossings)} crossing(s), {len(segments)} segment(s), {changes} {what}(s){extra}"


def check_critical_norms(cert: dict, path: Path, model: CheckedModel, zeros: dict) -> str:
    """Rays only: neuron i flips at centred squared norm λ*²·‖Pv‖², λ*² rational (q_i has no linear term); the
    listed norms are exactly these, once each, and ``constant_above`` is the largest."""
    require(path.ray_shape, "critical_norms", "critical norms are stated for rays only")
    norms, seen, listed = {}, {}, cert.get("critical_norms", [])
    for i, ((p, s, disc, q), *more) in zeros.items():
        require(not more and (p == 0 or s == 0), "critical_norms", f"neuron {i} has two zeros, or one not of the ray form")
        norms[i] = Fraction(p * p + s * s * disc, q * q) * path.scale
    require(type(listed) is list, "critical_norms", "expected a list")
    for k, entry in enumerate(listed):
        i = fields(entry, f"critical_norms[{k}]", ("neuron", "squared_norm"))["neuron"]
        require(type(i) is int and i in norms and i not in seen, f"critical_norms[{k}]",
                "not a neuron that flips on this ray, or listed twice")
        seen[i] = model.number(entry["squared_norm"], f"critical_norms[{k}].squared_norm")
        require(seen[i] == norms[i], f"critical_norms[{k}]", f"neuron {i} flips at squared centred norm {show(norms[i])}")
    require(len(seen) == len(norms) or "critical_norms" not in cert, "critical_norms",
            f"neurons {sorted(set(norms) - set(seen))[:20]} flip but are not listed")
    top = max(norms.values(), default=Fraction(0))
    if "constant_above" in cert:
        require(model.number(cert["constant_above"], "constant_above") == top, "constant_above",
                f"the largest critical squared norm is {show(top)}")
    return f"; constant for squared centred norm above {show(top)}"
