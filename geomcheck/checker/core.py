"""Checker core: strict reading, the envelope, the model, the kind registry (docs/certificates.md).

Envelope: ``{"format": "geomcheck.cert/1", "kind", "model" (optional when supplied separately), "model_sha256",
"claim", ...evidence}`` — known keys only, per kind. The model hash is sha256 of ``json.dumps(canon, sort_keys=True,
separators=(",", ":"))``, ``canon`` = the exchange object without ``name``, defaults filled in (norm none, eps "0",
gamma/beta null, activation relu), every number as its string: the value ``geomcheck.io.model_sha256`` computes
independently (geomcheck writes lowest terms), built here as text (the number grammar leaves nothing to escape).
Folding: ``w' = W_in·diag(γ)``, ``b' = W_in·β + b_in``, ``w̃ = P·w'`` (LayerNorm); row i is stored as ``[W̃_i | B_i]
= den_i·[w̃_i | b'_i]`` (W̃_i integers, B_i rational), den_i > 0: signs never see the scale."""

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from operator import mul
from typing import Any, Callable

from geomcheck.checker.arith import Rejected, dot, echelon, grammar, integers, require, texts

FORMAT = "geomcheck.cert/1"
ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu")  # silu: gated blocks only
NORMS = ("layernorm", "rmsnorm", "none", "dyt")
MODEL_CHARS = 4000          # longest number text in a model
MAX_SIMULTANEOUS = 16       # neurons vanishing at one crossing (map-change rank test)
WORK = 200_000              # enumeration units (vertex systems, coverage tests) per certificate
CLASSIC_NORMS = ("layernorm", "rmsnorm", "none")
_CHECKS: dict[str, tuple[Callable, tuple, tuple]] = {}  # kind → (check, its keys, the norms it is about)
_CACHE: dict[str, "CheckedModel"] = {}  # sha256 → the model read (at most two kept)


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    kind: str
    message: str  # "accepted: what was verified" or "rejected: step: why"


def fields(obj: Any, where: str, required: tuple = (), optional: tuple = ()) -> dict:
    """``obj`` is an object with every ``required`` key and no key outside ``required + optional``."""
    require(type(obj) is dict, where, "expected an object")
    for key in obj:
        require(key in required or key in optional, where, f"unknown key {str(key)[:40]!r}")
    for key in required:
        require(key in obj, where, f"missing key {key!r}")
    return obj


def load_json(text: str) -> Any:
    """json.loads refusing duplicate keys, floats, NaN and Infinity (Rejected)."""
    def unique(pairs: list) -> dict:
        require(len({k for k, _ in pairs}) == len(pairs), "read", "duplicate key in an object")
        return dict(pairs)

    def refuse(token):
        raise Rejected("read", f"{str(token)[:20]} is not an exact number (write \"p/q\" or an integer)")
    return json.loads(text, object_pairs_hook=unique, parse_float=refuse, parse_constant=refuse)


class CheckedModel:
    """The block as the checker sees it, folded by the checker itself."""

    def __init__(self, d, n, kind, eps, activation, alpha, rows, dens, out, sha256, limit, up_live):
        self.d, self.n, self.kind, self.eps, self.activation, self.alpha = d, n, kind, eps, activation, alpha
        self.rows, self.dens, self.out, self.sha256, self.limit, self.up_live = rows, dens, out, sha256, limit, up_live
        self.work, self.normalized = 0, kind in ("layernorm", "rmsnorm")

    @cached_property
    def fractions(self) -> tuple[list, list]:  # (w̃_i, b'_i) as exact rationals, for the small-model kinds
        return ([tuple(Fraction(x, q) for x in r[:-1]) for r, q in zip(self.rows, self.dens)],
                [Fraction(r[-1], q) for r, q in zip(self.rows, self.dens)])

    @cached_property
    def live(self) -> list[bool]:  # W_out[:, i] ≠ 0
        return [any(c != "0" for c in col) for col in zip(*self.out)]

    def int_vector(self, values, where, length=None) -> tuple[list[int], int]:  # numerators, common denominator
        return integers(grammar(*texts(values, where, self.limit, length), where, self.limit))

    def vector(self, values, where, length=None) -> tuple[Fraction, ...]:
        nums, den = self.int_vector(values, where, length)
        return tuple(Fraction(x, den) for x in nums)

    def number(self, value, where) -> Fraction:
        return self.vector([value], where)[0]

    def indices(self, values, where: str) -> list[int]:
        require(type(values) is list and all(type(i) is int and 0 <= i < self.n for i in values)
                and len(set(values)) == len(values), where, "expected distinct neuron indices")
        return values

    def spend(self, units: int, what: str) -> None:  # enumeration work; past WORK units: rejected (a resource limit)
        self.work += units
        require(self.work <= WORK, "limit", f"{what} needs more than {WORK} enumeration steps (the work limit)")

    def centre(self, x) -> list:  # P·x (P = I unless LayerNorm), for rationals
        mean = sum(x, Fraction(0)) / self.d if self.kind == "layernorm" else 0
        return [v - mean for v in x]

    def map_changes(self, flips: dict[int, int]) -> bool:
        """Whether M = W_out·(D_s − D_t)·[w̃ | b'] = Σ_i s_i·c_i·r_iᵀ ≠ 0, flips = {neuron i: s_i = ±1}. One flip:
        iff c_i ≠ 0 and r_i ≠ 0. Several: R = [r_i] = R_P·T with R_P its pivot columns and T the identity on
        them, so M = 0 iff M restricted to the pivot columns is 0. Gated (bilinear on a gate region, no affine map):
        some flipping neuron has c_i ≠ 0 and a live up row."""
        if self.up_live is not None:
            return any(self.live[i] and self.up_live[i] for i in flips)
        keys = sorted(flips)
        if len(keys) == 1:
            return self.live[keys[0]] and any(self.rows[keys[0]])
        require(len(keys) <= MAX_SIMULTANEOUS, "limit", f"{len(keys)} neurons flip at once (limit {MAX_SIMULTANEOUS})")
        _, pivots = echelon([self.rows[i] for i in keys], self.d + 1)
        for out_row in self.out:
            coef = [flips[i] * Fraction(out_row[i]) / self.dens[i] for i in keys]
            if any(sum(c * self.rows[i][p] for c, i in zip(coef, keys)) for p in pivots):
                return True
        return False


def _canonical(model: Any, limit: int, known=()) -> tuple[dict, str]:
    """(the entries of each list of numbers by field, with kind and activation; the sha256 of the canonical text);
    validates the schema. The number grammar is skipped for a text whose hash is ``known`` (one already validated):
    with no quote inside an entry (:func:`texts`), the text splits back into the same entries. Gated blocks carry
    ``w_up`` and ``b_up`` (docs/certificates.md), with a relu/gelu/silu gate (silu only there) and no DyT."""
    fields(model, "model", ("format", "w_in", "b_in", "w_out", "b_out"), ("name", "norm", "activation", "w_up", "b_up"))
    require(model["format"] == "geomcheck.mlp/1", "model.format", "must be 'geomcheck.mlp/1'")
    norm = fields(model.get("norm", {"kind": "none"}), "model.norm", ("kind",), ("eps", "gamma", "beta", "alpha"))
    kind, activation, gated = norm["kind"], model.get("activation", "relu"), "w_up" in model
    require(kind in NORMS, "model.norm.kind", f"must be one of {', '.join(NORMS)}")
    require(activation in ACTIVATIONS, "model.activation", f"must be one of {', '.join(ACTIVATIONS)}")
    require(type(model.get("name", "")) is str, "model.name", "expected a string")
    require(("alpha" in norm) == (kind == "dyt"), "model.norm.alpha", "a dyt normalization has alpha, no other has")
    require(gated == ("b_up" in model) and (activation in ("relu", "gelu", "silu") and kind != "dyt" if gated else
            activation != "silu"), "model.w_up", "a gated block has w_up and b_up, a relu/gelu/silu gate, no dyt")
    w_in, w_out, read = model["w_in"], model["w_out"], []
    require(type(w_in) is list and w_in and type(w_out) is list and w_out, "model", "w_in and w_out are non-empty lists")
    n, d = len(w_in), len(w_in[0]) if type(w_in[0]) is list else 0
    require(d > 0, "model.w_in", "rows must be non-empty lists")
    require(not gated or type(model["w_up"]) is list and len(model["w_up"]) == n, "model.w_up", f"expected {n} rows")
    c = {"kind": kind, "activation": activation, "w_in": [], "w_out": [], "w_up": [], "b_up": [], "alpha": None}

    def text(key: str, values, where: str, length: int | None = None) -> str:  # the JSON text; entries go to c[key]
        read.append((*texts(values, where, limit, length), where))
        if key.startswith("w_"):
            c[key].append(read[-1][0])
        else:
            c[key] = read[-1][0]
        return read[-1][1]
    gamma, beta = ("null" if norm.get(k) is None else text(k, norm[k], f"model.norm.{k}", d) for k in ("gamma", "beta"))
    eps = text("eps", [norm.get("eps", "0")], "model.norm.eps")[1:-1]
    alpha = f'"alpha":{text("alpha", [norm["alpha"]], "model.norm.alpha")[1:-1]},' if kind == "dyt" else ""
    b_up = f'"b_up":{text("b_up", model["b_up"], "model.b_up", n)},' if gated else ""
    h = hashlib.sha256(f'{{"activation":"{activation}","b_in":{text("b_in", model["b_in"], "model.b_in", n)},"b_out":'
                       f'{text("b_out", model["b_out"], "model.b_out", len(w_out))},{b_up}"format":"geomcheck.mlp/1",'
                       f'"norm":{{{alpha}"beta":{beta},"eps":{eps},"gamma":{gamma},"kind":"{kind}"}}'.encode())
    for key, width in (("w_in", d), ("w_out", n), ("w_up", d))[:3 if gated else 2]:  # sorted keys, as in the text
        h.update(f',"{key}":['.encode())
        h.update(",".join(text(key, r, f"model.{key}[{i}]", width) for i, r in enumerate(model[key])).encode())
        h.update(b"]")
    h.update(b"}")
    if h.hexdigest() not in known:
        for values, row_text, where in read:
            grammar(values, row_text, where, limit)
    return c, h.hexdigest()


def canonical_model_sha256(model: Any) -> str:
    return _canonical(model, MODEL_CHARS)[1]


def read_model(model: Any) -> CheckedModel:
    """Validate, hash and fold an exchange object (or a certificate's embedded one); a model already read (same
    hash, hence the same text) is reused. Gated blocks: ``w_in``/``b_in`` are the gate, whose sign patterns every
    kind checks; the up rows are folded like the gate's, and ``up_live[i]`` is whether the folded up row i
    (P·(u_i ⊙ γ), u_i·β + b_up,i) is nonzero."""
    if type(model) is dict and model.get("format") == FORMAT:
        model = model.get("model")
    c, digest = _canonical(model, MODEL_CHARS, _CACHE)
    if digest in _CACHE:
        _CACHE[digest].work = 0
        return _CACHE[digest]
    kind, limit = c["kind"], max(1000, 20 * max(max(map(len, row)) for row in c["w_in"] + c["w_out"]))
    d, n = len(c["w_in"][0]), len(c["w_in"])
    eps, alpha = (Fraction(*map(int, c[k][0].split("/"))) if c[k] else None for k in ("eps", "alpha"))
    require(eps >= 0 and (kind not in ("none", "dyt") or eps == 0), "model.norm.eps", "must be ≥ 0 (and 0 without a norm or with DyT)")
    require(kind != "none" or "gamma" not in c and "beta" not in c, "model.norm", "no gamma/beta without a normalization")
    require(kind != "dyt" or alpha != 0, "model.norm.alpha", "must be nonzero")
    g, gd = integers(c["gamma"]) if "gamma" in c else ([1] * d, 1)
    be, bd = integers(c["beta"]) if "beta" in c else ([0] * d, 1)
    m, folded = (d if kind == "layernorm" else 1), {"w_in": [], "w_up": []}
    for key, bias_key in (("w_in", "b_in"), ("w_up", "b_up")):
        bias, bias_den = integers(c[bias_key])
        for text_row, b in zip(c[key], bias):
            a, den = integers(text_row)
            row = list(map(mul, a, g)) if "gamma" in c else a
            if m > 1:  # d·P·(w ⊙ γ) = d·(w ⊙ γ) − Σ(w ⊙ γ)
                total = sum(row)
                row = [m * x - total for x in row]
            row.append(Fraction((bias_den * dot(a, be) + b * den * bd if "beta" in c else b * den) * m * gd, bd * bias_den))
            folded[key].append((row, m * den * gd))
    if len(_CACHE) >= 2:
        _CACHE.pop(next(iter(_CACHE)))
    up_live = [any(row) for row, _ in folded["w_up"]] if c["w_up"] else None
    _CACHE[digest] = CheckedModel(d, n, kind, eps, c["activation"], alpha, [r for r, _ in folded["w_in"]],
                                  [q for _, q in folded["w_in"]], c["w_out"], digest, limit, up_live)
    return _CACHE[digest]


def register(kind: str, keys: tuple, norms: tuple = CLASSIC_NORMS) -> Callable:
    """``@register("path", keys)`` on ``check(cert, model) -> summary``; ``keys`` are the kind's
    top-level keys besides the envelope, ``norms`` the normalizations it is about."""
    def decorate(fn: Callable) -> Callable:
        _CHECKS[kind] = (fn, keys, norms)
        return fn
    return decorate


def check_certificate(cert: Any, expected_model_sha256: str | None = None, *, model: Any = None) -> Verdict:
    """Accept or reject; never raises. ``model``: the exchange object for a certificate that names
    its model only by ``model_sha256`` (or, when it embeds one, a model it must be about)."""
    kind = cert.get("kind") if type(cert) is dict and type(cert.get("kind")) is str else "?"
    try:
        require(type(cert) is dict, "format", "a certificate is a JSON object")
        require(cert.get("format") == FORMAT, "format", f"expected {FORMAT!r}")
        require(kind in _CHECKS, "kind", f"unknown certificate kind {kind[:40]!r} (known: {', '.join(sorted(_CHECKS))})")
        fn, keys, norms = _CHECKS[kind]
        fields(cert, "certificate", ("format", "kind", "model_sha256") + tuple(k for k in keys if not k.endswith("?")),
               ("model",) + tuple(k.rstrip("?") for k in keys))
        stated = cert["model_sha256"]
        require(type(stated) is str, "model_sha256", "expected a hex string")
        require("model" in cert or model is not None, "model", "the certificate names its model by sha256: supply the model")
        checked = read_model(cert["model"] if "model" in cert else model)
        require(checked.sha256 == stated, "model_sha256", f"the model hashes to {checked.sha256}, the certificate says {stated[:70]!r}")
        for other, what in ((model if "model" in cert else None, "given model"), (expected_model_sha256, "expected hash")):
            if other is not None and other is not cert.get("model"):
                digest = other if isinstance(other, str) else read_model(other).sha256
                require(digest == checked.sha256, "model", f"the certificate is about a different model than the {what}")
        require(checked.kind in norms, "model.norm.kind", f"certificates of kind {kind!r} are about {', '.join(norms)} blocks")
        return Verdict(True, kind, f"accepted: {fn(cert, checked)}")
    except Rejected as exc:
        return Verdict(False, kind, f"rejected: {exc}")
    except Exception as exc:  # a malformed certificate (KeyError, RecursionError, MemoryError, …) is a rejected one
        return Verdict(False, kind, f"rejected: structure: malformed certificate ({type(exc).__name__}: {str(exc)[:80]})")


def check_file(path: str, expected_model_sha256: str | None = None, *, model: Any = None) -> Verdict:
    try:
        with open(path, encoding="utf-8") as handle:
            cert = load_json(handle.read())
    except Rejected as exc:
        return Verdict(False, "?", f"rejected: {exc}")
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        return Verdict(False, "?", f"rejected: read: cannot read {path} ({type(exc).__name__}: {str(exc)[:80]})")
    return check_certificate(cert, expected_model_sha256, model=model)
