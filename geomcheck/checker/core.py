"""Checker core: the certificate envelope, the model, exact helpers.

Envelope (``geomcheck.cert/1``)::

    {"format": "geomcheck.cert/1",
     "kind": "<kind>",                   # selects the registered check
     "model": {<geomcheck.mlp/1 exchange object>},
     "model_sha256": "<hex>",            # sha256 of the canonical model (below)
     "claim": {...},                     # what is asserted; kind-specific
     ...kind-specific evidence...}

The canonical model text is ``json.dumps(m, sort_keys=True,
separators=(",", ":"))`` of the exchange object with every number written as
``"p/q"`` (or ``"p"``), ``gamma``/``beta`` as given (null or lists), and the
``name`` key removed. Everything is re-derived here from the model: the
folded weights ``w̃ = P·(W_in·diag(γ))`` and ``b' = W_in·β + b_in``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

__all__ = [
    "Rejected", "Verdict", "CheckedModel", "register", "require", "rational", "rational_vector",
    "read_model", "canonical_model_sha256", "check_certificate", "check_file", "sign", "sign_sqrt_combination",
]

FORMAT = "geomcheck.cert/1"


class Rejected(Exception):
    """A certificate failed: ``step`` names the check, the message says why."""

    def __init__(self, step: str, why: str):
        super().__init__(f"{step}: {why}")
        self.step = step
        self.why = why


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    kind: str
    message: str  # what was verified, or which step failed and why


def require(condition: bool, step: str, why: str) -> None:
    if not condition:
        raise Rejected(step, why)


def rational(value: Any, where: str) -> Fraction:
    """Exact rational from an int or a ``"p/q"``/integer string; nothing else."""
    if isinstance(value, bool):
        raise Rejected(where, "expected a rational, got a boolean")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        num, slash, den = text.partition("/")
        try:
            if slash:
                require(int(den) != 0, where, "zero denominator")
                return Fraction(int(num), int(den))
            return Fraction(int(text))
        except ValueError:
            pass
    raise Rejected(where, f"expected an exact rational like \"p/q\", got {value!r}")


def rational_vector(values: Any, where: str, length: int | None = None) -> tuple[Fraction, ...]:
    require(isinstance(values, list), where, "expected a list")
    if length is not None:
        require(len(values) == length, where, f"expected {length} entries, got {len(values)}")
    return tuple(rational(v, f"{where}[{i}]") for i, v in enumerate(values))


def sign(q: Fraction) -> int:
    return (q > 0) - (q < 0)


def sign_sqrt_combination(p: Fraction, a: Fraction, q: Fraction, b: Fraction) -> int:
    """Sign of ``p·√a + q·√b`` (a, b ≥ 0) by comparing squares."""
    s1 = sign(p) if a else 0
    s2 = sign(q) if b else 0
    if s1 == 0 or s2 == 0 or s1 == s2:
        return s1 or s2
    return s1 * sign(p * p * a - q * q * b)


def _format(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


@dataclass(frozen=True)
class CheckedModel:
    """The model as the checker sees it, folded by the checker itself."""

    d: int
    n: int
    kind: str          # layernorm | rmsnorm | none
    eps: Fraction
    activation: str
    w_in: tuple
    b_in: tuple
    w_out: tuple
    b_out: tuple
    folded_w: tuple    # w̃_i = P·(w_i ⊙ γ)
    folded_b: tuple    # b'_i = w_i·β + b_i
    sha256: str
    alpha: Fraction | None = None  # DyT only: y = γ ⊙ tanh(α·x) + β

    @property
    def normalized(self) -> bool:
        return self.kind in ("layernorm", "rmsnorm")

    def centre(self, x) -> tuple[Fraction, ...]:
        """u = P·x (P = I unless LayerNorm)."""
        if self.kind != "layernorm":
            return tuple(x)
        mean = sum(x, Fraction(0)) / len(x)
        return tuple(v - mean for v in x)

    def signs_at_input(self, x) -> tuple[int, ...]:
        """Exact pre-activation signs at input x: sign(√d·w̃·u + b'·√(‖u‖² + dε))."""
        if not self.normalized:
            return tuple(sign(sum((w * v for w, v in zip(row, x)), Fraction(0)) + b)
                         for row, b in zip(self.folded_w, self.folded_b))
        u = self.centre(x)
        radicand = sum((v * v for v in u), Fraction(0)) + self.d * self.eps
        require(radicand > 0, "model", "the normalization is undefined at this input (u = 0, eps = 0)")
        return tuple(sign_sqrt_combination(sum((w * v for w, v in zip(row, u)), Fraction(0)), Fraction(self.d), b, radicand)
                     for row, b in zip(self.folded_w, self.folded_b))

    def map_changes(self, flips: dict[int, int]) -> bool:
        """Whether W_out·(D_s − D_t)·[w̃ | b'] ≠ 0, ``flips`` = {neuron: +1 (on in s) / −1}."""
        if len(flips) == 1:  # one outer product c·rᵀ is zero iff c = 0 or r = 0
            (i,) = flips
            return any(row[i] for row in self.w_out) and (any(self.folded_w[i]) or self.folded_b[i] != 0)
        for out_row in self.w_out:
            for k in range(self.d + 1):
                total = sum((s * out_row[i] * (self.folded_w[i][k] if k < self.d else self.folded_b[i])
                             for i, s in flips.items()), Fraction(0))
                if total:
                    return True
        return False


def _matrix(values: Any, where: str, cols: int | None = None) -> tuple:
    require(isinstance(values, list) and values, where, "expected a non-empty list of rows")
    rows = tuple(rational_vector(r, f"{where}[{i}]", cols) for i, r in enumerate(values))
    width = len(rows[0])
    require(all(len(r) == width for r in rows), where, "ragged rows")
    return rows


def canonical_model_sha256(model: dict) -> str:
    """sha256 of the canonical exchange text (see module docstring)."""
    canon = _canonical_model(model)
    return hashlib.sha256(json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _canonical_model(model: Any) -> dict:
    require(isinstance(model, dict), "model", "expected the exchange object")
    require(model.get("format") == "geomcheck.mlp/1", "model", "format must be geomcheck.mlp/1")
    norm = model.get("norm", {"kind": "none"})  # absent means none; null or [] is malformed
    require(isinstance(norm, dict), "model.norm", "expected an object")

    def vec(v, where):
        return None if v is None else [_format(q) for q in rational_vector(v, where)]

    canon_norm = {"kind": norm.get("kind"), "eps": _format(rational(norm.get("eps", "0"), "model.norm.eps")),
                  "gamma": vec(norm.get("gamma"), "model.norm.gamma"), "beta": vec(norm.get("beta"), "model.norm.beta")}
    if norm.get("kind") == "dyt":  # only DyT carries alpha, as in geomcheck.io's canonical text
        canon_norm["alpha"] = _format(rational(norm.get("alpha"), "model.norm.alpha"))
    else:
        require("alpha" not in norm, "model.norm.alpha", "only a dyt normalization has alpha")
    return {
        "format": "geomcheck.mlp/1",
        "norm": canon_norm,
        "activation": model.get("activation", "relu"),
        "w_in": [vec(r, f"model.w_in[{i}]") for i, r in enumerate(model.get("w_in") or [])],
        "b_in": vec(model.get("b_in", []), "model.b_in"),
        "w_out": [vec(r, f"model.w_out[{i}]") for i, r in enumerate(model.get("w_out") or [])],
        "b_out": vec(model.get("b_out", []), "model.b_out"),
    }


def read_model(cert: dict) -> CheckedModel:
    """Parse the embedded model, verify its hash, fold it exactly."""
    model = cert.get("model")
    canon = _canonical_model(model)
    digest = canonical_model_sha256(model)
    require(cert.get("model_sha256") == digest, "model_sha256",
            f"the embedded model hashes to {digest}, the certificate says {cert.get('model_sha256')!r}")
    kind = canon["norm"]["kind"]
    require(kind in ("layernorm", "rmsnorm", "none", "dyt"), "model.norm.kind", f"unknown {kind!r}")
    eps = rational(canon["norm"]["eps"], "model.norm.eps")
    require(eps >= 0 and (kind not in ("none", "dyt") or eps == 0), "model.norm.eps",
            "must be ≥ 0 (and 0 without a norm or with DyT)")
    alpha = rational(canon["norm"]["alpha"], "model.norm.alpha") if kind == "dyt" else None
    require(alpha is None or alpha != 0, "model.norm.alpha", "must be nonzero")
    w_in = _matrix(model["w_in"], "model.w_in")
    n, d = len(w_in), len(w_in[0])
    b_in = rational_vector(model["b_in"], "model.b_in", n)
    w_out = _matrix(model["w_out"], "model.w_out", n)
    b_out = rational_vector(model["b_out"], "model.b_out", len(w_out))
    gamma = canon["norm"]["gamma"]
    beta = canon["norm"]["beta"]
    gamma = rational_vector(gamma, "model.norm.gamma", d) if gamma is not None else (Fraction(1),) * d
    beta = rational_vector(beta, "model.norm.beta", d) if beta is not None else (Fraction(0),) * d
    require(kind != "none" or canon["norm"]["gamma"] is None and canon["norm"]["beta"] is None,
            "model.norm", "no gamma/beta without a normalization")
    folded_w = []
    folded_b = []
    for row, b in zip(w_in, b_in):
        scaled = [w * g for w, g in zip(row, gamma)]
        if kind == "layernorm":
            mean = sum(scaled, Fraction(0)) / d
            scaled = [w - mean for w in scaled]
        folded_w.append(tuple(scaled))
        folded_b.append(b + sum((w * c for w, c in zip(row, beta)), Fraction(0)))
    return CheckedModel(d, n, kind, eps, str(canon["activation"]), w_in, b_in, w_out, b_out,
                        tuple(folded_w), tuple(folded_b), digest, alpha)


_CHECKS: dict[str, Callable[[dict, CheckedModel], str]] = {}
_NORMS: dict[str, tuple[str, ...]] = {}
CLASSIC_NORMS = ("layernorm", "rmsnorm", "none")


def register(kind: str, norms: tuple[str, ...] = CLASSIC_NORMS) -> Callable:
    """Decorator: ``@register("path")`` on ``check(cert, model) -> summary``.

    ``norms`` lists the normalization kinds the check understands; a
    certificate about any other kind is rejected before the check runs.
    """

    def decorate(fn: Callable[[dict, CheckedModel], str]) -> Callable[[dict, CheckedModel], str]:
        _CHECKS[kind] = fn
        _NORMS[kind] = norms
        return fn

    return decorate


def known_kinds() -> list[str]:
    return sorted(_CHECKS)


def check_certificate(cert: Any, expected_model_sha256: str | None = None) -> Verdict:
    """Accept or reject; never raises on a malformed certificate."""
    kind = cert.get("kind", "?") if isinstance(cert, dict) else "?"
    try:
        require(isinstance(cert, dict), "format", "a certificate is a JSON object")
        require(cert.get("format") == FORMAT, "format", f"expected {FORMAT!r}, got {cert.get('format')!r}")
        require(kind in _CHECKS, "kind", f"unknown certificate kind {kind!r} (known: {', '.join(known_kinds())})")
        model = read_model(cert)
        if expected_model_sha256 is not None:
            require(model.sha256 == expected_model_sha256, "model",
                    "the certificate is about a different model than the one given")
        require(model.kind in _NORMS[kind], "model.norm.kind",
                f"certificates of kind {kind!r} are about {', '.join(_NORMS[kind])} blocks, not {model.kind!r}")
        summary = _CHECKS[kind](cert, model)
        return Verdict(True, kind, f"accepted: {summary}")
    except Rejected as exc:
        return Verdict(False, kind, f"rejected: {exc}")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as exc:
        # a malformed certificate is a rejected one, never an accepted one
        return Verdict(False, kind, f"rejected: structure: malformed certificate ({type(exc).__name__}: {exc})")


def check_file(path: str, expected_model_sha256: str | None = None) -> Verdict:
    try:
        with open(path, encoding="utf-8") as handle:
            cert = json.load(handle, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (OSError, ValueError) as exc:
        return Verdict(False, "?", f"rejected: read: cannot read {path} ({exc})")
    return check_certificate(cert, expected_model_sha256)
