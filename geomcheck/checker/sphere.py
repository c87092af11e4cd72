"""Kinds on the normalization sphere (JSON shapes: docs/certificates.md), each stating its conditions.

``h_i = w̃_i·z + b'_i`` (folded by the core). Statements are about the ε = 0 sphere ``S = {z ∈ A : ‖z‖² = d}``,
A = 1⊥ (LayerNorm) or ℝᵈ, or about A itself ("space"). A pattern over ``+ - *`` asks ``s_i·h_i(z) > 0`` for
each non-``*`` symbol; with ``a_i = −s_i·w̃_i``, ``g_i = s_i·b'_i`` that is ``a_i·z < g_i``."""

import math
from fractions import Fraction
from itertools import combinations

from geomcheck.checker.arith import centre, dot, echelon, show, solve, sign_surd, sign_surds
from geomcheck.checker.core import CheckedModel, Rejected, fields, register, require
from geomcheck.checker.path import Path, same_number

MAX_REGIONS_N = 12  # sphere-regions: 2ⁿ exhaustion
SPHERES = ("layernorm", "rmsnorm")  # the kinds about S only


def _claim(cert: dict, model: CheckedModel, evidence: tuple) -> tuple[str, dict, str, str]:
    """The claim's pattern, {neuron: s_i} of its signed symbols, "sphere" or "space", and which one of the two
    ``evidence`` keys the certificate gives (the second is evidence on the sphere only)."""
    claim = fields(cert["claim"], "claim", ("pattern", "on"))
    pattern, on = claim["pattern"], claim["on"]
    require(type(pattern) is str and len(pattern) == model.n and set(pattern) <= set("+-*"),
            "claim.pattern", f"expected {model.n} symbols from '+-*'")
    require(on in ("sphere", "space"), "claim.on", "must be 'sphere' or 'space'")
    require(on != "sphere" or model.normalized, "claim.on", "the model has no normalization, hence no sphere")
    require((evidence[0] in cert) != (evidence[1] in cert), evidence[0], f"expected one of {', '.join(evidence)}")
    require(evidence[1] not in cert or on == "sphere", evidence[1], "is evidence for the sphere only")
    signs = {i: 1 if c == "+" else -1 for i, c in enumerate(pattern) if c != "*"}
    return pattern, signs, on, evidence[1] if evidence[1] in cert else evidence[0]


def _combination(raw, where: str, model: CheckedModel, a: dict) -> tuple[dict, list]:
    """Multipliers {neuron: y_i ≥ 0} (keys: decimal indices of neurons in ``a``) and ``P·Σ y_i a_i``."""
    require(type(raw) is dict and raw, where, "expected a non-empty object {neuron: y}")
    y = {}
    for key, value in raw.items():
        require(key.isascii() and key.isdigit() and str(int(key)) == key and int(key) in a, where,
                f"{key[:20]!r} is not a neuron signed in the pattern")
        y[int(key)] = model.number(value, f"{where}[{key}]")
        require(y[int(key)] >= 0, where, f"y_{key} < 0")
    return y, model.centre([sum(v * a[i][k] for i, v in y.items()) for k in range(model.d)])


@register("sphere-feasible", ("claim", "witness?", "direction?"))
def check_feasible(cert: dict, model: CheckedModel) -> str:
    """A witness z ∈ A (on S: ``‖z‖² = d`` exactly), or on S a direction y ≠ 0 in A (z = √d·y/‖y‖), has the pattern."""
    pattern, signed, on, key = _claim(cert, model, ("witness", "direction"))
    z = model.vector(cert[key], key, model.d)
    require(model.kind != "layernorm" or sum(z) == 0, key, "does not sum to 0 (LayerNorm: must lie in 1⊥)")
    require(key == "witness" or any(z), "direction", "is zero")
    require(key == "direction" or on == "space" or dot(z, z) == model.d, "witness", f"‖z‖² ≠ d = {model.d}: not on the sphere")
    # signs at z, or at √d·y/‖y‖: sign(√d·w̃·y + b'·√‖y‖²) = sign(w̃·y + b'·√(‖y‖²/d)) (den_i > 0)
    signs = [sign_surd(dot(r, z), r[-1], dot(z, z) / model.d if key == "direction" else 1) for r in model.rows]
    for i, s in signed.items():
        require(signs[i] == s, key, f"neuron {i} has sign {signs[i]} there, the pattern says {pattern[i]}")
    return f"pattern {pattern[:200]} is realised on the {on} by an exact witness"


@register("sphere-infeasible", ("claim", "multipliers?", "inside_ball?"))
def check_infeasible(cert: dict, model: CheckedModel) -> str:
    """Multipliers y_i ≥ 0, some > 0, on signed neurons; ``r = P·Σ y_i a_i``, ``G = Σ y_i g_i``. In space: r = 0
    and G ≤ 0 (Farkas: 0 = r·z < G ≤ 0). On S: G ≤ 0 and G² ≥ d‖r‖² (so r·z < G ≤ −√d‖r‖ ≤ r·z, Cauchy–Schwarz).
    Or, on S, ``inside_ball`` (:func:`_check_inside_ball`)."""
    (pattern, signs, on, key), (w, b) = _claim(cert, model, ("multipliers", "inside_ball")), model.fractions
    a, g = {i: [-s * x for x in w[i]] for i, s in signs.items()}, {i: s * b[i] for i, s in signs.items()}
    if key == "inside_ball":
        return _check_inside_ball(cert["inside_ball"], model, pattern, a, g)
    y, r = _combination(cert["multipliers"], "multipliers", model, a)
    G = sum(v * g[i] for i, v in y.items())
    require(any(y.values()), "multipliers", "all zero")
    require(G <= 0, "multipliers", "Σ y_i s_i b'_i > 0")
    if on == "space":
        require(not any(r), "multipliers", "Σ y_i s_i w̃_i ≠ 0")
        return f"pattern {pattern[:200]} is empty in the whole space (Farkas)"
    require(G * G >= model.d * dot(r, r), "multipliers", "(yᵀg)² < d·‖r‖²: the ball certificate fails")
    return f"pattern {pattern[:200]} does not occur on the sphere (ball certificate)"


def _check_inside_ball(entries, model: CheckedModel, pattern: str, a: dict, g: dict) -> str:
    """``inside_ball``: the closed region {a_i·z ≤ g_i} ∩ A is bounded and its vertices lie in the ball. Bounded:
    entries {"direction": c, "multipliers": y}, y ≥ 0, P·Σ y_i a_i = c; the c's are closed under negation and span
    A, so a recession direction r ∈ A (a_i·r ≤ 0 ∀i) has c·r ≤ 0 for c and −c: r = 0. Vertices: every subset of dim A
    constraints (plus Σz = 0 for LayerNorm) is solved exactly; each feasible solution must have ‖z‖² ≤ d. A bounded
    polyhedron is the hull of its vertices and ‖·‖² is strictly convex, so the open region lies in the open ball and
    misses S. C(|signed|, dim A) work units."""
    ln, directions, vertices = [[1] * model.d] if model.kind == "layernorm" else [], [], 0
    require(type(entries) is list and 0 < len(entries) <= 2 * model.d + 2, "inside_ball", "expected 1 to 2d + 2 entries")
    model.spend(math.comb(len(a), model.d - len(ln)), "the inside_ball vertex enumeration")
    for k, entry in enumerate(entries):
        where = f"inside_ball[{k}]"
        c = model.vector(fields(entry, where, ("direction", "multipliers"))["direction"], f"{where}.direction", model.d)
        require(tuple(_combination(entry["multipliers"], f"{where}.multipliers", model, a)[1]) == c, where,
                "P·Σ y_i a_i differs from the direction")
        directions.append(c)
    require(all(tuple(-x for x in c) in directions for c in directions), "inside_ball", "directions not closed under negation")
    require(echelon(directions, model.d)[0] == model.d - len(ln), "inside_ball", "the directions do not span the space: boundedness not shown")
    for subset in combinations(sorted(a), model.d - len(ln)):
        z = solve([a[i] for i in subset] + ln, [g[i] for i in subset] + [0] * len(ln))
        if z is not None and all(dot(a[i], z) <= g[i] for i in a):
            vertices += 1
            require(dot(z, z) <= model.d, "inside_ball", f"vertex {[show(x) for x in z[:8]]} lies outside the ball")
    return f"pattern {pattern[:200]} lies inside the ball ({vertices} vertex systems feasible), so it misses the sphere"


@register("sphere-neurons", ("claim",), norms=SPHERES)
def check_neurons(cert: dict, model: CheckedModel) -> str:
    """Each neuron's kind from w̃_i = 0 and the sign of ``b'_i² − d‖w̃_i‖²`` (and of b'_i when positive)."""
    kinds = fields(cert["claim"], "claim", ("kinds",))["kinds"]
    require(type(kinds) is list and len(kinds) == model.n, "claim.kinds", f"expected {model.n} entries")
    for i, row in enumerate(model.rows):  # den_i·[w̃ | b']: the scale cancels in the sign of b'² − d‖w̃‖²
        n2 = dot(row[:-1], row[:-1])
        gap = row[-1] ** 2 - model.d * n2
        truth = "constant_zero" if n2 == 0 else "cuts" if gap < 0 else "tangent" if gap == 0 else (
            "always_on" if row[-1] > 0 else "always_off")
        require(kinds[i] == truth, f"claim.kinds[{i}]", f"neuron {i} is {truth}")
    return f"classification of {model.n} neurons on the sphere"


@register("circle-regions", ("claim", "arcs"), norms=SPHERES)
def check_circle_regions(cert: dict, model: CheckedModel) -> str:
    """``claim = {"regions": N, "pieces": P}``; ``arcs``: one direction and pattern per piece, counter-clockwise.
    Checked: each direction y is in A, nonzero, off every boundary, with the stated exact pattern; walking from each
    direction to the next by great-circle paths ``p + λ(q − p)``, λ ∈ (0, 1], under half a turn each (quarter turns
    inserted), the path checker's exact zeros give one boundary point per gap (P = 1: none), and the walk passes e1
    once (once around). So the boundary cuts S into P arcs of one direction each: P pieces, N = distinct patterns."""
    require(model.d - (model.kind == "layernorm") == 2, "model", "not a circle (LayerNorm d = 3, RMSNorm d = 2)")
    ln = model.kind == "layernorm"
    e1, e2 = ((1, -1, 0), (1, 1, -2)) if ln else ((1, 0), (0, 1))  # an orthogonal basis of A
    rot = (lambda y: [y[2] - y[1], y[0] - y[2], y[1] - y[0]]) if ln else (lambda y: [-y[1], y[0]])  # +90° in A
    cross = lambda a, b: dot(a, e1) * dot(b, e2) - dot(a, e2) * dot(b, e1)  # noqa: E731  (∝ sin of the angle a → b)
    claim, arcs, dirs, pats, winding = fields(cert["claim"], "claim", ("regions", "pieces")), cert["arcs"], [], [], 0
    require(type(arcs) is list and 0 < len(arcs) <= 2 * model.n + 1, "arcs", "expected 1 to 2n + 1 arcs")
    for k, arc in enumerate(arcs):
        y = model.int_vector(fields(arc, f"arcs[{k}]", ("direction", "pattern"))["direction"], f"arcs[{k}].direction", model.d)[0]
        require((not ln or sum(y) == 0) and any(y), f"arcs[{k}].direction", "must be nonzero and in the plane")
        signs = [sign_surd(dot(r, y), r[-1], Fraction(dot(y, y), model.d)) for r in model.rows]  # at √d·y/‖y‖
        require(all(s or not any(r) for s, r in zip(signs, model.rows)), f"arcs[{k}]", "the direction lies on a boundary")
        dirs.append(y), pats.append("".join("0+-"[s] for s in signs))
        require(arc["pattern"] == pats[-1], f"arcs[{k}].pattern", f"the direction has pattern {pats[-1][:200]}")
    for k, p in enumerate(dirs):
        q, points = dirs[(k + 1) % len(dirs)], []
        for part in range(5):  # at most 4 quarter turns, then the last step
            step = q if cross(p, q) > 0 else rot(p)
            winding += cross(p, e1) > 0 and cross(e1, step) >= 0  # e1 lies in the arc (p, step]
            path = Path(model, p, 1, [b - a for a, b in zip(p, step)], 1, Fraction(0), Fraction(1), False, True)
            points += [(part, r) for i in range(model.n) for r, _ in path.zeros(i)]
            if step is q:
                break
            p = step
        distinct = [r for j, (part, r) in enumerate(points) if all(o != part or not same_number(r, t) for o, t in points[:j])]
        require(len(distinct) == 1 or (len(dirs) == 1 and not distinct), "arcs",
                f"the gap after arc {k} holds {len(distinct)} boundary points")
    require(winding == 1, "arcs", "the directions do not go once around the circle counter-clockwise")
    require(claim["pieces"] == len(dirs) and type(claim["pieces"]) is int, "claim.pieces", f"{len(dirs)} arcs are listed")
    require(claim["regions"] == len(set(pats)) and type(claim["regions"]) is int, "claim.regions", f"{len(set(pats))} distinct patterns")
    return f"{len(set(pats))} regions in {len(dirs)} pieces on the circle"


@register("sphere-cap", ("claim",), norms=SPHERES)
def check_cap(cert: dict, model: CheckedModel) -> str:
    """``claim = {"direction": v, "nearest": [i, …], "cos": C, "constant": bool}`` ("cos", "constant" optional).
    With u = P·v, M = d‖u‖², each neuron with a boundary on S (w̃_i ≠ 0, b'_i² ≤ d‖w̃_i‖²) is at angle δ_i from û with
    ``√M·cos δ_i = alpha_i + √(beta_i·M)``, ``alpha_i = −(u·w̃_i)b'_i/‖w̃_i‖²``, ``beta_i = (1 − cos²α_i)(1 − cos²ρ_i)``,
    cos²α_i = (u·w̃_i)²/(‖u‖²‖w̃_i‖²), cos²ρ_i = b'_i²/(d‖w̃_i‖²). Checked: the ``nearest`` neurons tie exactly, every
    other boundary neuron has a strictly smaller cos δ; ``constant`` iff ``C·√M − alpha_i − √(beta_i·M) > 0`` for
    every boundary neuron (the closed cap of angle arccos C misses every boundary)."""
    claim = fields(cert["claim"], "claim", ("direction", "nearest"), ("cos", "constant"))
    x, den = model.int_vector(claim["direction"], "claim.direction", model.d)
    d, m, terms = model.d, model.d if model.kind == "layernorm" else 1, {}
    U = centre(x, d, m > 1)  # u = U/(m·den); row i = den_i·[w̃_i | b'_i]: the scales cancel below except m·den
    uu, u2 = dot(U, U), Fraction(dot(U, U), (m * den) ** 2)
    require(uu > 0, "claim.direction", "projects to 0: no point on the sphere")
    for i, r in enumerate(model.rows):  # ww = den_i²‖w̃_i‖², uw = m·den·den_i·(u·w̃_i), r[-1] = den_i·b'_i
        ww, uw = dot(r, r) - r[-1] ** 2, dot(r, U)
        if ww != 0 and r[-1] ** 2 <= d * ww:
            terms[i] = (-uw * r[-1] / (ww * m * den), (1 - Fraction(uw * uw, uu * ww)) * (1 - r[-1] ** 2 / (d * ww)))
    nearest = model.indices(claim["nearest"], "claim.nearest")
    require(all(i in terms for i in nearest) and (nearest or not terms), "claim.nearest",
            "must list neurons with a boundary on the sphere")
    for i, (a, bb) in terms.items() if nearest else ():
        a0, b0 = terms[nearest[0]]
        c = sign_surds(a - a0, 1, bb * d * u2, -1, b0 * d * u2)  # sign(cos δ_i − cos δ_0)
        require(c == 0 if i in nearest else c < 0, "claim.nearest",
                f"neuron {i} is {'not ' * (i in nearest)}as close as neuron {nearest[0]}")
    if "cos" in claim:
        C = model.number(claim["cos"], "claim.cos")
        require(-1 <= C <= 1, "claim.cos", "must lie in [-1, 1]")
        constant = all(sign_surds(-a, C, d * u2, -1, bb * d * u2) > 0 for a, bb in terms.values())
        require(claim.get("constant") is constant, "claim.constant", f"the cap is {'' if constant else 'not '}region-constant")
    return f"cap around the direction: nearest boundary neuron(s) {nearest[:20]}" + (
        f", cap with cos = {show(claim['cos'])} {'is' if claim['constant'] else 'is not'} region-constant" if "cos" in claim else "")


@register("sphere-regions", ("claim", "feasible", "infeasible"), norms=SPHERES)
def check_regions(cert: dict, model: CheckedModel) -> str:
    """The number of sign patterns on S, by exhaustion (n ≤ 12): ``claim = {"regions": N}``. ``feasible``: full
    patterns, each a ``sphere-feasible`` on S; ``infeasible``: patterns with ``*``, each a ``sphere-infeasible`` on S
    (every completion absent). Checked: every s ∈ {+,−}ⁿ is witnessed or covered by a refutation, and N = the
    witnessed ones; 2ⁿ × (distinct refutation supports) work units."""
    require(model.n <= MAX_REGIONS_N, "limit", f"exhaustive region certificates are for n ≤ {MAX_REGIONS_N}")
    claim, feasible, refuted = fields(cert["claim"], "claim", ("regions",)), set(), {}  # refuted: support mask → sign bits on it
    for key, check, evidence in (("feasible", check_feasible, ("witness", "direction")),
                                 ("infeasible", check_infeasible, ("multipliers", "inside_ball"))):
        require(type(cert[key]) is list and len(cert[key]) <= 2 ** model.n, key, "expected a list of at most 2ⁿ entries")
        for k, entry in enumerate(cert[key]):
            pattern = fields(entry, f"{key}[{k}]", ("pattern",), evidence)["pattern"]
            try:
                check({"claim": {"pattern": pattern, "on": "sphere"}, **{e: entry[e] for e in evidence if e in entry}}, model)
            except Rejected as exc:
                raise Rejected(f"{key}[{k}].{exc.step}", exc.why) from None
            mask, bits = (sum(1 << i for i, c in enumerate(pattern) if c in symbols) for symbols in ("+-", "-"))
            require(key == "infeasible" or mask == 2 ** model.n - 1, f"feasible[{k}]", "feasible patterns must be full")
            feasible.add(bits) if key == "feasible" else refuted.setdefault(mask, set()).add(bits)
    model.spend(2 ** model.n * len(refuted), "the coverage test")
    for full in range(2 ** model.n):
        require(full in feasible or any(full & mask in bits for mask, bits in refuted.items()), "coverage",
                f"pattern {''.join('-' if full >> i & 1 else '+' for i in range(model.n))} is neither witnessed nor refuted")
    require(claim["regions"] == len(feasible) and type(claim["regions"]) is int, "claim.regions", f"{len(feasible)} patterns are witnessed")
    return f"{len(feasible)} sign patterns occur on the sphere ({sum(map(len, refuted.values()))} refutations cover the rest)"
