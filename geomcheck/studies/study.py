"""The real-model study: rays, superposition paths and the no-LayerNorm counterfactual.

Everything counted here is exact, and comes from the one path engine
(:func:`geomcheck.search.paths.analyse_path_fast`: a float filter that only skips
exact work, exact roots and signs for the rest; :class:`ExactLayer` condenses its
:class:`~geomcheck.geometry.paths.PathAnalysis` objects). Decimals in the output
are displays of exact numbers. With ``u = P·x``, ``N(λ) = ‖u(λ)‖² + dε`` and
``h_i = (√d·(w̃_i·u) + b'_i·√N)/√N`` (DESIGN §2):

* **ray** ``t·v``: at ε = 0 no neuron changes sign at any t > 0 (the crossing
  polynomial is ``c·t²``); at ε > 0 neuron i flips once, at centred norm
  ``r_i² = dε·c²/(1 − c²)``, ``c² = b'_i²·‖Pv‖²/(d·(w̃_i·Pv)²)``, iff the sign
  condition holds and ``c² < 1``; above ``max r_i`` the ray is region-constant.
* **path** ``x + λ·v``, λ > 0: the number of gate-sign changes is the number of
  (crossing, neuron) pairs where the neuron's sign differs on the two sides
  (:attr:`PathAnalysis.flips`; a touching zero is a crossing but no change).
* **no normalization** (γ, β folded, nothing divides): along ``t·v`` neuron i
  flips iff ``w'_i·v`` and ``b'_i`` have strictly opposite signs, at
  ``t_i = −b'_i/(w'_i·v)``; distinct ``t_i`` + 1 regions.

GELU honesty: for GELU blocks these are changes of the gate-sign pattern; the
block is smooth and the map between two changes is not affine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from geomcheck.errors import InvalidInput
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.model.block import MLPBlock
from geomcheck.results import GATE_PATTERNS_NOTE
from geomcheck.verdicts import estimate

__all__ = ["ExactLayer", "exact_layer", "RayResult", "PathResult", "NoNormRay", "study_layer", "run_study",
           "run_minilm_study", "ModelFamily", "model_family", "SOURCES"]


def centred(v) -> tuple[Fraction, ...]:
    mean = sum(v, Fraction(0)) / len(v)
    return tuple(x - mean for x in v)


@dataclass
class RayResult:
    flips: int                  # neurons that change sign somewhere on the ray (ε > 0)
    max_r2: Fraction | None     # the largest r_i² (None: no neuron flips)
    argmax: int | None
    ties_eps0: int              # neurons identically 0 on the ray at ε = 0
    centred_norm2: Fraction     # ‖Pv‖²


@dataclass
class PathResult:
    changes: int                # exact number of gate-sign changes for λ > 0
    first: QuadraticRoot | None  # λ at the first change
    neurons: list[int]
    last: QuadraticRoot | None = None  # λ at the last change


@dataclass
class NoNormRay:
    flips: int
    regions: int


class ExactLayer:
    """The study's questions about one LayerNorm block, answered by the one path engine.

    A batch front-end of :func:`geomcheck.search.paths.analyse_path_fast` (float
    filter, exact on doubt; the same :class:`~geomcheck.geometry.paths.PathAnalysis`
    as the exact engine) that condenses each analysis to the study's summary
    objects. Counts of changes are *sign changes* (:attr:`PathAnalysis.flips`):
    a touching zero is a crossing of the path but not a gate-sign change.
    """

    def __init__(self, block: MLPBlock):
        if not block.norm.scales:
            raise ValueError("the study needs a block with a normalization (LayerNorm or RMSNorm)")
        self.block = block
        self.d = block.d
        self.eps = block.norm.eps

    @property
    def dropped(self) -> MLPBlock:
        """The block with LayerNorm removed, γ and β folded (not centred), kept in the block's data."""
        from geomcheck.search.counterexample import drop_norm

        return self.block.data.cached("study.dropped_norm", lambda: drop_norm(self.block))

    # ------------------------------------------------------------------ rays
    def rays(self, directions) -> list[RayResult]:
        """Per direction v: the neurons that flip on the ray t·v (t > 0) and the largest
        critical squared centred norm ``r_i²`` (DESIGN §2), from the path engine.

        ``ties_eps0`` counts neurons whose crossing polynomial vanishes identically at ε = 0
        (``d·β_i² = b'_i²·‖Pv‖²`` with ``sign(β_i) = −sign(b'_i)``: the pre-activation is 0 on the
        whole ray there). Such a neuron always reaches the exact stage: its filtered range
        touches the threshold at λ → ∞.
        """
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        bias = None
        for v in directions:
            analysis = analyse_path_fast(self.block, PathSpec.ray(v))
            coef = analysis.coefficients
            norms = analysis.critical_norms
            flips = sum(len(f) for f in analysis.flips)
            best = max(norms, key=lambda item: (item[1], -item[0]), default=None)
            if not self.block.norm.centers:
                out.append(RayResult(flips, None if best is None else best[1], None if best is None else best[0],
                                     0, coef.n2))
                continue
            if bias is None:
                from geomcheck.search.exactrows import exact_folded_bias

                bias = exact_folded_bias(self.block)
            ties = 0
            for i, (_, beta) in analysis.lines.items():
                b = bias[i]
                if b != 0 and beta != 0 and (beta > 0) != (b > 0) and self.d * beta * beta == b * b * coef.n2:
                    ties += 1
            out.append(RayResult(flips, None if best is None else best[1], None if best is None else best[0],
                                 ties, coef.n2))
        return out

    # ------------------------------------------------------------------ paths
    def paths(self, pairs, analyses: list | None = None, verdicts: list | None = None) -> list[PathResult]:
        """Exact gate-sign changes along ``x + λ·v`` for λ > 0 (open), for each (x, v).

        ``analyses``: when a list, each pair's :class:`PathSpec` and ``PathAnalysis`` are appended to it.
        ``verdicts``: when a list, each pair's analysis is certified and gated
        (:func:`geomcheck.api.paths.analyse`: the ``path`` certificate, the trusted checker in this run)
        and the :class:`~geomcheck.verdicts.Verdict` for "the path is region-constant" appended."""
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        for x, v in pairs:
            spec = PathSpec(tuple(x), tuple(v), Fraction(0), None, False, False, "superposition")
            if verdicts is not None:
                from geomcheck.api.paths import analyse

                gated = analyse(self.block, spec)
                analysis = gated.analysis
                verdicts.append(gated.verdict)
            else:
                analysis = analyse_path_fast(self.block, spec)
            if analyses is not None:
                analyses.append((spec, analysis))
            changed = [(c.at, f) for c, f in zip(analysis.crossings, analysis.flips) if f]
            neurons = sorted(i for _, f in changed for i in f)
            out.append(PathResult(len(neurons), changed[0][0] if changed else None, neurons,
                                  changed[-1][0] if changed else None))
        return out

    # ------------------------------------------------------------------ no norm
    def nonorm_rays(self, directions) -> list[NoNormRay]:
        """Flips along ``t·v`` with LayerNorm dropped (γ, β folded, not centred): the path engine
        on :attr:`dropped`; ``regions`` = distinct crossing scales + 1."""
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        for v in directions:
            analysis = analyse_path_fast(self.dropped, PathSpec.ray(v))
            out.append(NoNormRay(sum(len(f) for f in analysis.flips), len(analysis.crossings) + 1))
        return out


def exact_layer(block: MLPBlock) -> ExactLayer:
    """The block's :class:`ExactLayer` (kept in ``block.data``)."""
    return block.data.cached("study.exact_layer", lambda: ExactLayer(block))


# ---------------------------------------------------------------------------
# model families: where blocks and token activations come from

DEFAULT_TEXTS = (
    "The cat sat on the mat.",
    "Quantum chromodynamics describes how quarks bind into protons.",
    "She paid the invoice before the bank closed on Friday.",
    "Paris is the capital of France.",
)
FULL_TEXTS = DEFAULT_TEXTS + (
    "A neural network learns a function from examples.",
    "The river flooded the village after three days of rain.",
    "He plays the violin in an orchestra.",
    "Interest rates rose sharply last quarter.",
    "The enzyme catalyses the hydrolysis of ATP.",
    "They watched the football match at the stadium.",
    "import numpy as np",
    "Never gonna give you up, never gonna let you down.",
)

# direction sources: rays use all of them; superposition paths x + λ·d take d from all but "random"
SOURCES = ("token", "neuron", "neuron-out", "random")


@dataclass
class ModelFamily:
    """What the study needs from a model: ``load_block(layer)`` and ``token_activations(layer, texts)``.

    ``layers``: the number of layers when known (None: unknown, layer 0 only by default);
    ``default_layers``: the layers studied when ``--layers`` is not given.
    """

    name: str
    spec: str
    layers: int | None
    default_layers: tuple[int, ...]
    load: Any = field(repr=False)

    def load_block(self, layer: int) -> MLPBlock:
        return self.load(layer)

    def token_activations(self, layer: int, texts) -> list:
        """Per text: (tokens, float32 array seq × d), the residual stream the layer's normalization reads."""
        from geomcheck.io.activations import residual_activations

        return residual_activations(self.load_block(layer), list(texts))

    def check_layer(self, layer: int) -> None:
        if layer < 0 or (self.layers is not None and layer >= self.layers):
            valid = f"0 … {self.layers - 1}" if self.layers is not None else "non-negative integers"
            raise InvalidInput(f"--layers: layer {layer} does not exist in {self.name} (valid: {valid})")


def _config_layers(folder: Path) -> int | None:
    from geomcheck.io.real import config_int, read_config

    config_path = folder / "config.json"
    if not config_path.is_file():
        return None
    config = read_config(config_path)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        value = config_int(config, key, str(config_path), low=1, high=100_000)
        if value is not None:
            return value
    return None


def model_family(target: str) -> ModelFamily:
    """Resolve the study's MODEL argument (cheap: checks files and names, loads no weights).

    * ``minilm`` — all-MiniLM-L6-v2 (6 layers);
    * ``smollm2`` — SmolLM2-135M (30 layers), through the ``smollm2:LAYER`` loader;
    * a Hugging Face ``save_pretrained`` folder or a ``.safetensors`` file, with ``{layer}`` in the
      spec or ``?layer=N`` (every other option after ``?`` is kept); ``--layers`` picks the layers;
    * any other spec with ``{layer}`` (e.g. ``toy:random?d=8&norm=layernorm&seed={layer}``).
    """
    from geomcheck.io.resolve import load_model

    target = target.strip()
    if target in ("minilm", "minilm:"):
        from geomcheck.io.real import MINILM_LAYERS, load_minilm, minilm_path

        minilm_path()  # a missing package is a one-line refusal before any work
        return ModelFamily("all-MiniLM-L6-v2", "minilm", MINILM_LAYERS, tuple(range(MINILM_LAYERS)), load_minilm)
    if target in ("smollm2", "smollm2:"):
        return ModelFamily("SmolLM2-135M", "smollm2", 30, (0, 15, 29), lambda L: load_model(f"smollm2:{L}"))
    if "{layer}" in target:
        base = target.replace("{layer}", "0").partition("?")[0]
        layers = _config_layers(Path(base) if Path(base).is_dir() else Path(base).parent) \
            if not target.startswith(("toy:",)) and Path(base).exists() else None
        return ModelFamily(target, target, layers, (0,), lambda L: load_model(target.replace("{layer}", str(L))))
    path_text, _, query = target.partition("?")
    path = Path(path_text)
    if path.is_dir() or path.suffix.lower() == ".safetensors":
        if not path.exists():
            raise InvalidInput(f"model file not found: {path}")
        from urllib.parse import parse_qsl, urlencode

        params = dict(parse_qsl(query, keep_blank_values=True))
        given = params.pop("layer", None)
        try:
            first = int(given) if given is not None else 0
        except ValueError:
            raise InvalidInput(f"{target}: layer={given!r} is not an integer") from None
        layers = _config_layers(path if path.is_dir() else path.parent)

        def load(layer: int, _params=params) -> MLPBlock:
            return load_model(f"{path_text}?{urlencode(dict(_params, layer=str(layer)))}")

        return ModelFamily(path.name or path_text, target, layers, (first,), load)
    raise InvalidInput(f"study: unknown model {target!r} (give minilm, smollm2, a Hugging Face folder or "
                       "a .safetensors file (?layer=N or {layer} in the spec), or any model spec with {layer})")


# ---------------------------------------------------------------------------
# the inputs: exact vectors, written and read back bit for bit

INPUTS_FORMAT = "geomcheck-study-inputs/1"


def _sha256_arrays(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays in key order: key, dtype, shape, then the little-endian bytes."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.asarray(arrays[key])
        if arr.dtype.kind == "f":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        h.update(key.encode() + b"\0" + arr.dtype.str.encode() + b"\0" + repr(arr.shape).encode() + b"\0")
        h.update(arr.tobytes() if arr.dtype.kind != "U" else "\0".join(arr.ravel().tolist()).encode())
    return h.hexdigest()


@dataclass
class LayerInputs:
    """The exact vectors one layer's study analyses: token activations (float32) and random directions."""

    layer: int
    labels: list[str]
    tokens: np.ndarray      # float32, tokens × d
    random: np.ndarray      # float32, k × d

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"layer{self.layer}/labels": np.asarray(self.labels, dtype=str).reshape(-1),
                f"layer{self.layer}/tokens": self.tokens, f"layer{self.layer}/random": self.random}

    def sha256(self) -> str:
        return _sha256_arrays(self.arrays())


def inputs_sha256(texts, layers: list[LayerInputs]) -> str:
    """sha256 of the texts and every layer's vectors (labels, tokens, random directions), not of the zip bytes."""
    arrays = {"texts": np.asarray(list(texts) or [""], dtype=str)}
    for li in layers:
        arrays.update(li.arrays())
    return _sha256_arrays(arrays)


def write_inputs(path: str | Path, model: str, texts, layers: list[LayerInputs]) -> str:
    """Write the inputs (``.npz``, no pickles) and return their sha256 (over the arrays, not the zip bytes)."""
    digest = inputs_sha256(texts, layers)
    arrays: dict[str, np.ndarray] = {"format": np.asarray(INPUTS_FORMAT), "model": np.asarray(model),
                                     "texts": np.asarray(list(texts) or [""], dtype=str)}
    for li in layers:
        arrays.update(li.arrays())
    try:
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    except OSError as exc:
        raise InvalidInput(f"cannot write the study's inputs to {path} ({exc.strerror or exc})") from None
    return digest


def read_inputs(path: str | Path) -> tuple[str, list[str], dict[int, LayerInputs], str]:
    """(model, texts, {layer: LayerInputs}, sha256) from a file :func:`write_inputs` wrote; bad files refused."""
    import re
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInput(f"--inputs {path}: not a study inputs file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if str(arrays.get("format", "")) != INPUTS_FORMAT:
        raise InvalidInput(f"--inputs {path}: not a study inputs file (format {INPUTS_FORMAT} expected)")
    layers: dict[int, LayerInputs] = {}
    for key in arrays:
        m = re.fullmatch(r"layer(\d+)/tokens", key)
        if m:
            L = int(m.group(1))
            tokens, rand = arrays[key], arrays.get(f"layer{L}/random")
            labels = arrays.get(f"layer{L}/labels")
            if (tokens.dtype != np.float32 or tokens.ndim != 2 or rand is None or rand.dtype != np.float32
                    or rand.ndim != 2 or labels is None or labels.shape != (tokens.shape[0],)
                    or (rand.size and rand.shape[1] != tokens.shape[1]) or not np.isfinite(tokens).all()
                    or not np.isfinite(rand).all()):
                raise InvalidInput(f"--inputs {path}: layer {L}'s arrays are malformed (float32 tokens × d, "
                                   "random k × d, one label per token)")
            layers[L] = LayerInputs(L, [str(x) for x in labels.tolist()], tokens, rand)
    if not layers:
        raise InvalidInput(f"--inputs {path}: no layers in the file")
    texts = [str(t) for t in np.atleast_1d(arrays["texts"]).tolist() if str(t)]
    return str(arrays["model"]), texts, layers, inputs_sha256(texts, [layers[k] for k in sorted(layers)])


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_hashes(block: MLPBlock) -> dict[str, str]:
    """sha256 of the weight files the block was read from (or of its exchange form for small blocks)."""
    from geomcheck.io.real import block_source

    source = block_source(block)
    if source is not None and source.weights:
        return {Path(w).name: _file_sha256(w) for w in source.weights}
    if block.n * block.d <= 200_000:
        from geomcheck.io.modelfile import model_sha256

        return {"exchange form (canonical JSON)": model_sha256(block)}
    return {}


# ---------------------------------------------------------------------------
# the study of one layer

# the same wording as `path` and `counterexample` (geomcheck.results)
GELU_NOTE = GATE_PATTERNS_NOTE

# The study computes every count exactly but builds no certificate per row, so no row has been
# through geomcheck.verdicts.gate(): every status is an estimate, with how to have a row checked.
ROW_VERDICT = estimate("exact rational computation, but no certificate was checked for these rows; to have the "
                       "checker verify one: geomcheck ray/path MODEL ... --json (it checks in the same run)")
ROTATION_VERDICT = estimate("output measures sampled in float64 along each rotation (affine-fit residual, tangent "
                            "error, speed, curvature, transition widths); the flip counts are exact")


def _stats(values) -> dict:
    if not values:
        return {"count": 0}
    arr = np.asarray(values, dtype=float)
    return {"count": int(arr.size), "min": float(arr.min()), "median": float(np.median(arr)),
            "mean": float(arr.mean()), "max": float(arr.max())}


def _exact_vec(arr) -> tuple[Fraction, ...]:
    return tuple(map(Fraction, np.asarray(arr, dtype=np.float64).tolist()))


def _ulp_moves(vec, rng, trials: int = 3) -> list[tuple[Fraction, ...]]:
    """The vector moved by one float32 ulp in every component: all up, all down, then random signs."""
    v = np.asarray([float(x) for x in vec], dtype=np.float32)  # exact for float32 inputs (tokens, weights)
    up, down = np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))
    out = [up, down]
    for _ in range(max(0, trials - 2)):
        out.append(np.where(rng.random(v.size) < 0.5, up, down))
    return [_exact_vec(a) for a in out]


def _sensitivity(value: float | None, moved: list[float | None]) -> dict | None:
    if value is None:
        return None
    vals = [m for m in moved if m is not None]
    changes = [abs(m - value) for m in vals]
    worst = max(changes, default=0.0)
    rel = worst / abs(value) if value else (0.0 if worst == 0 else float("inf"))
    digits = None if rel == 0 else max(0, int(np.floor(-np.log10(rel)))) if np.isfinite(rel) else 0
    return {"perturbation": "each input component moved by one float32 ulp (all up, all down, random signs)",
            "values": moved, "max_abs_change": worst, "max_relative_change": rel,
            "stable_digits": digits,
            "note": "digits beyond stable_digits move under last-bit changes of the inputs"
                    if digits is not None else "no change under one-ulp moves"}


def _direction_sets(block: MLPBlock, tokens, random_dirs, neuron_ids, sources, sae_rows):
    d = block.d
    w_out_cols = ([tuple(row[k] for row in block.w_out) for k in neuron_ids]
                  if block.d_out == d and "neuron-out" in sources else [])
    directions: list[tuple[str, str, tuple[Fraction, ...]]] = []
    if "token" in sources:
        directions += [("token", f"token {label}", vec) for label, vec in tokens]
    if "neuron" in sources:
        directions += [("neuron", f"neuron:{k}", tuple(block.w_in[k])) for k in neuron_ids]
    directions += [("neuron-out", f"neuron-out:{k}", col) for k, col in zip(neuron_ids, w_out_cols)]
    directions += [("sae", label, vec) for label, vec in sae_rows]
    if "random" in sources:
        directions += [("random", f"gaussian #{j}", _exact_vec(r)) for j, r in enumerate(random_dirs)]
    return [item for item in directions if len(set(item[2])) > 1]  # constant vectors have no direction


def study_layer(block: MLPBlock, tokens: list[tuple[str, tuple[Fraction, ...]]], *, seed: int, full: bool,
                progress=None, sizes: tuple[int, int, int] | None = None, random_dirs=None,
                sources=SOURCES, sae_rows=(), rotation_samples: int = 401, sensitivity: bool = True,
                check_rows: bool = False) -> dict:
    """(a) rays, (b) superposition paths, (c) the no-normalization counterfactual, (d) the output along
    the rotations of token pairs, for one block.

    ``sizes = (neurons, random directions, pairs)`` overrides the default/full sample sizes;
    ``random_dirs`` (float32 k × d) replaces the seeded random directions (a re-run from saved inputs).
    ``check_rows``: certify every superposition path and have the checker verify it in this run
    (each ``paths.per_pair`` row then carries its gated verdict for "the path is region-constant").
    """
    rng = np.random.default_rng(seed)
    layer = exact_layer(block)
    n, d = block.n, block.d
    k_neurons = n if full else 16
    k_random = 256 if full else 16
    k_pairs = 200 if full else 12
    if sizes is not None:
        k_neurons, k_random, k_pairs = min(sizes[0], n), sizes[1], sizes[2]
    neuron_ids = sorted(rng.choice(n, size=min(k_neurons, n), replace=False).tolist())
    if random_dirs is None:
        random_dirs = rng.standard_normal((k_random, d)).astype(np.float32) if k_random else np.zeros((0, d), np.float32)
    else:
        rng.standard_normal(random_dirs.shape)  # the generator's stream continues as in the run that drew them
    directions = _direction_sets(block, tokens, random_dirs, neuron_ids, sources, sae_rows)
    w_out_all = block.d_out == d and "neuron-out" in sources

    def chunks(items, size):
        for start in range(0, len(items), size):
            yield items[start:start + size]

    # (a) rays -------------------------------------------------------------
    rays: list[RayResult] = []
    for chunk in chunks([v for *_, v in directions], 32):
        rays.extend(layer.rays(chunk))
        if progress:
            progress.update(len(chunk))
    token_norm2 = [r.centred_norm2 for (kind, _, _), r in zip(directions, rays) if kind == "token"]
    max_r2 = max((r.max_r2 for r in rays if r.max_r2 is not None), default=None)
    below = sum(1 for s in token_norm2 if max_r2 is not None and s <= max_r2)  # exact comparison in ℚ
    by_kind = {}
    for kind in ("token", "neuron", "neuron-out", "sae", "random"):
        rs = [r for (k, _, _), r in zip(directions, rays) if k == kind]
        if rs:
            by_kind[kind] = {
                "directions": len(rs),
                "flips_eps": _stats([r.flips for r in rs]),
                "max_r": _stats([float(r.max_r2) ** 0.5 for r in rs if r.max_r2 is not None]),
                "ties_eps0": sum(r.ties_eps0 for r in rs),
            }
    worst_index = max((j for j, r in enumerate(rays) if r.max_r2 is not None), key=lambda j: rays[j].max_r2,
                      default=None)
    worst = None if worst_index is None else (rays[worst_index].max_r2, directions[worst_index][1],
                                                rays[worst_index].argmax)
    rays_out = {
        "eps": str(block.norm.eps),
        "directions": len(directions),
        "eps0_status": ROW_VERDICT.status,
        "eps0_statement": (f"at eps = 0 all {len(directions)} tested rays are region-constant for every t > 0 "
                           f"(crossing polynomial c·t²); neurons identically 0 on a ray: "
                           f"{sum(r.ties_eps0 for r in rays)}"),
        "max_r": None if max_r2 is None else float(max_r2) ** 0.5,
        "max_r2_exact": None if max_r2 is None else f"{max_r2.numerator}/{max_r2.denominator}",
        "worst_direction": None if worst is None else {"direction": worst[1], "neuron": worst[2]},
        "token_centred_norm": _stats([float(s) ** 0.5 for s in token_norm2]),
        "tokens_at_or_below_max_r": below,
        "exact": True,
        **ROW_VERDICT.to_json(),
        "by_kind": by_kind,
        "per_direction_max_r": [None if r.max_r2 is None else float(r.max_r2) ** 0.5 for r in rays],
        "per_direction_kind": [k for k, _, _ in directions],
    }
    if sensitivity and worst_index is not None:
        moved = layer.rays(_ulp_moves(directions[worst_index][2], np.random.default_rng(seed + 7)))
        rays_out["max_r_sensitivity"] = _sensitivity(
            rays_out["max_r"], [None if r.max_r2 is None else float(r.max_r2) ** 0.5 for r in moved])

    # (b) superposition paths ---------------------------------------------------
    token_vecs = [v for _, v in tokens]
    pairs = []
    path_sources = [s for s in ("token", "neuron", "neuron-out", "sae") if s in sources
                    and (s != "neuron-out" or w_out_all) and (s != "sae" or sae_rows)]
    if "token" in path_sources and len(token_vecs) < 2:
        path_sources.remove("token")
    for j in range(k_pairs if token_vecs and path_sources else 0):
        xi = int(rng.integers(len(token_vecs)))
        kind = path_sources[j % len(path_sources)]
        if kind == "token":
            yi = int(rng.integers(len(token_vecs) - 1))
            yi += yi >= xi
            v, label = token_vecs[yi], f"token #{yi}"
        elif kind == "neuron":
            k = int(rng.integers(n))
            v, label = tuple(block.w_in[k]), f"neuron:{k}"
        elif kind == "neuron-out":
            k = int(rng.integers(n))
            v, label = tuple(row[k] for row in block.w_out), f"neuron-out:{k}"
        else:
            k = int(rng.integers(len(sae_rows)))
            label, v = sae_rows[k]
        if len(set(v)) > 1:
            pairs.append((kind, xi, label, token_vecs[xi], v))
    results: list[PathResult] = []
    analyses: list = []
    verdicts: list | None = [] if check_rows else None
    for chunk in chunks(pairs, 4):
        results.extend(layer.paths([(x, v) for *_, x, v in chunk], analyses, verdicts))
        if progress:
            progress.update(len(chunk))
    rel_first = []
    per_kind = {}
    for (kind, _, _, x, v), res in zip(pairs, results):
        if res.first is not None:
            rel_first.append(float(res.first) * _norm(v) / _norm(x))
        per_kind.setdefault(kind, []).append(res.changes)
    changes = [r.changes for r in results]
    paths_out = {
        "pairs": len(pairs),
        "exact": True,
        **ROW_VERDICT.to_json(),
        "changes": _stats(changes),
        "changes_by_direction_kind": {k: _stats(v) for k, v in per_kind.items()},
        "pairs_with_no_change": sum(1 for c in changes if c == 0),
        "first_change_relative": _stats(rel_first),
        "per_pair": [{"x": f"token #{xi}", "direction": label, "kind": kind, "changes": r.changes,
                      "first_lambda": None if r.first is None else float(r.first),
                      "first_relative": None if r.first is None else float(r.first) * _norm(v) / _norm(x)}
                     for (kind, xi, label, x, v), r in zip(pairs, results)],
    }
    if verdicts is not None:
        for row, verdict in zip(paths_out["per_pair"], verdicts):
            row["verdict"] = dict(verdict.to_json(), statement="the path x + λ·d, λ > 0, is region-constant")
        paths_out["rows_checked"] = sum(1 for v in verdicts if v.checked)
    if sensitivity and rel_first:
        j = min((j for j, r in enumerate(results) if r.first is not None),
                key=lambda j: float(results[j].first) * _norm(pairs[j][4]) / _norm(pairs[j][3]))
        _, _, _, x, v = pairs[j]
        srng = np.random.default_rng(seed + 11)
        moved_pairs = list(zip(_ulp_moves(x, srng), _ulp_moves(v, srng)))
        moved = [None if r.first is None else float(r.first) * _norm(mv) / _norm(mx)
                 for (mx, mv), r in zip(moved_pairs, layer.paths(moved_pairs))]
        paths_out["first_change_relative_min_sensitivity"] = _sensitivity(min(rel_first), moved)

    # (c) no normalization --------------------------------------------------------
    nonorm: list[NoNormRay] = []
    for chunk in chunks([v for *_, v in directions], 32):
        nonorm.extend(layer.nonorm_rays(chunk))
        if progress:
            progress.update(len(chunk))
    flips = [r.flips for r in nonorm]
    nonorm_out = {
        "exact": True,
        **ROW_VERDICT.to_json(),
        "directions": len(nonorm),
        "flips": _stats(flips),
        "regions": _stats([r.regions for r in nonorm]),
        "polysemantic_rays": sum(1 for f in flips if f > 0),
        "per_direction_flips": flips,
    }

    # (d) the output along the rotation of token pairs (issue 13) -------------------
    rotation_out = _rotations(block, pairs, analyses, rotation_samples)
    return {"layer": block.name, "d": d, "n": n, "activation": block.activation.name,
            "rays": rays_out, "paths": paths_out, "nonorm": nonorm_out, "rotation": rotation_out}


ROTATION_KEYS = ("angle_total", "flips", "affine_fit_residual", "tangent_error_angles", "linearization_error_angles",
                 "speed", "curvature", "flip_spacing", "gate_transition", "output_change")


def _rotations(block: MLPBlock, pairs, analyses, samples: int) -> dict:
    """Output measures along x + λ·d for the layer's token–token pairs (the rotation of z(x) toward z(d))."""
    from geomcheck.search.rotation import answer_paragraph, rotation_measures, summarize_rotations

    measures, per_pair = [], []
    for (kind, xi, label, _, _), (spec, analysis) in zip(pairs, analyses):
        if kind != "token" or samples <= 0:
            continue
        from geomcheck.geometry.paths import PathSpec

        try:  # the arc from z(x) toward z(d); the analysis of λ > 0 has the same crossings (θ > 0)
            m = rotation_measures(block, PathSpec.superposition(spec.base, spec.direction), analysis, samples=samples)
        except (InvalidInput, ValueError):  # no rotation (parallel normalized points): nothing to measure
            continue
        if m.get("kinks") is not None:
            m["kinks"] = [{"angle": k["angle"], "jacobian_jump": k["jacobian_jump"]} for k in m["kinks"]]
        measures.append(m)
        row = {"x": f"token #{xi}", "direction": label}
        row.update({k: m.get(k) for k in ROTATION_KEYS})
        row["kinks"] = None if m.get("kinks") is None else len(m["kinks"])
        per_pair.append(row)
    summary = summarize_rotations(measures) if measures else None
    return {"pairs": len(measures), **ROTATION_VERDICT.to_json(),
            "sampling": {"samples": samples, "grid": "uniform in θ per rotation, endpoints included"},
            "summary": summary,
            "answer": answer_paragraph(summary, block.activation.name) if summary else "No rotation was measured.",
            "per_pair": per_pair}


def _norm(v) -> float:
    return float(np.linalg.norm(np.asarray([float(x) for x in v])))


def study_work_units(full: bool, n_tokens: int, n: int = 1536, sizes=None) -> int:
    """Progress-bar total for one layer: ray chunks + path pairs + no-norm chunks."""
    k_neurons, k_random, k_pairs = (n if full else 16, 256 if full else 16, 200 if full else 12) \
        if sizes is None else sizes
    directions = n_tokens + 2 * min(k_neurons, n) + k_random
    return 2 * directions + k_pairs


# ---------------------------------------------------------------------------
# the driver


def _sae_rows(path: str | None, block: MLPBlock, count: int, rng) -> list:
    if not path:
        return []
    from geomcheck.io.activations import sae_matrix
    from geomcheck.io.tensors import exact_values

    w_dec = sae_matrix(path, block.d, "--sae")
    ids = sorted(rng.choice(w_dec.shape[0], size=min(count, w_dec.shape[0]), replace=False).tolist())
    return [(f"sae:{Path(path).name}#{k}", exact_values(w_dec[k], f"--sae feature {k}")) for k in ids]


def run_study(family: ModelFamily, layers=None, *, seed: int = 0, full: bool = False, texts=None,
              sources=SOURCES, sae: str | None = None, sizes=None, rotation_samples: int = 401,
              inputs: str | None = None, save_inputs: str | None = None, progress: bool = True,
              sensitivity: bool = True, check_rows: bool = False) -> dict:
    """The study over ``layers`` of ``family`` (one :func:`study_layer` per layer).

    ``inputs``: re-run from a file :func:`write_inputs` wrote (its token activations and random
    directions, bit for bit; the model is still loaded for the weights). ``save_inputs``: write the
    exact inputs analysed there. The payload's ``inputs`` entry carries their sha256.
    """
    saved = None
    if inputs is not None:
        saved_model, saved_texts, saved_layers, saved_digest = read_inputs(inputs)
        saved = saved_layers
        texts = saved_texts
        layers = sorted(saved_layers) if layers is None else list(layers)
        missing = [L for L in layers if L not in saved_layers]
        if missing:
            raise InvalidInput(f"--inputs {inputs}: no inputs for layer {missing[0]} (has: "
                               f"{', '.join(map(str, sorted(saved_layers)))})")
    layers = list(family.default_layers) if layers is None else list(layers)
    for L in layers:
        family.check_layer(L)
    texts = list(texts if texts is not None else (FULL_TEXTS if full else DEFAULT_TEXTS))
    bar = None
    out, used, hashes = [], [], {}
    for layer in layers:
        block = family.load_block(layer)
        for name, digest in weights_hashes(block).items():
            hashes.setdefault(name, digest)
        if saved is not None:
            li = saved[layer]
            if li.tokens.shape[1] != block.d or (li.random.size and li.random.shape[1] != block.d):
                raise InvalidInput(f"--inputs {inputs}: layer {layer}'s vectors have width {li.tokens.shape[1]}, "
                                   f"the model's layer has d = {block.d}")
        else:
            acts = family.token_activations(layer, texts)
            labels, rows = [], []
            for ti, (toks, arr) in enumerate(acts):
                for pi, (tok, vec) in enumerate(zip(toks, arr)):
                    labels.append(f"{tok!r} (text {ti}, pos {pi})")
                    rows.append(np.asarray(vec, dtype=np.float32))
            tokens_arr = np.asarray(rows, dtype=np.float32).reshape(len(rows), block.d)
            k_random = sizes[1] if sizes is not None else (256 if full else 16)
            rng = np.random.default_rng(seed + layer)
            k_neurons = sizes[0] if sizes is not None else (block.n if full else 16)
            rng.choice(block.n, size=min(k_neurons, block.n), replace=False)
            rand = (rng.standard_normal((k_random, block.d)).astype(np.float32) if k_random
                    else np.zeros((0, block.d), np.float32))
            li = LayerInputs(layer, labels, tokens_arr, rand)
        used.append(li)
        tokens = [(label, _exact_vec(vec)) for label, vec in zip(li.labels, li.tokens)]
        if progress and bar is None:
            from tqdm import tqdm

            bar = tqdm(total=study_work_units(full, len(tokens), block.n, sizes) * len(layers),
                       desc=f"study {family.spec}", unit="item", leave=False)
        sae_rows = _sae_rows(sae, block, sizes[0] if sizes else 16, np.random.default_rng(seed + 1000 + layer))
        result = study_layer(block, tokens, seed=seed + layer, full=full, progress=bar, sizes=sizes,
                             random_dirs=li.random, sources=sources, sae_rows=sae_rows,
                             rotation_samples=rotation_samples, sensitivity=sensitivity, check_rows=check_rows)
        result["index"] = layer
        result["label"] = result["layer"] if len(result["layer"]) <= 12 else f"layer {layer}"
        result["inputs_sha256"] = li.sha256()
        out.append(result)
    if bar is not None:
        bar.close()
    inputs_info = {"sha256": inputs_sha256(texts, used),
                   "from_file": inputs, "layers": {str(li.layer): li.sha256() for li in used},
                   "note": "the token activations (float32, exact) and random directions analysed; "
                           "re-run with --inputs FILE to get the same numbers bit for bit"}
    if inputs is not None:
        inputs_info["file_sha256"] = saved_digest
        inputs_info["file_model"] = saved_model
    if save_inputs is not None:
        inputs_info["written"] = str(save_inputs)
        inputs_info["written_sha256"] = write_inputs(save_inputs, family.spec, texts, used)
    overall = _overall_rotation(out)
    return {"model": family.name, "spec": family.spec, "seed": seed, "full": full, "texts": texts,
            "sources": list(sources) + ([f"sae:{sae}"] if sae else []), "note": GELU_NOTE,
            "weights_sha256": hashes, "inputs": inputs_info, "layers": out,
            "answer": overall or "No rotation was measured."}


def _overall_rotation(layers: list[dict]) -> str | None:
    """One paragraph over all layers: each layer's answer is derived from its numbers; this joins the ranges."""
    rows = [(L["layer"] if len(L["layer"]) <= 12 else f"layer {L.get('index', '?')}", L["rotation"]["summary"])
            for L in layers if L["rotation"].get("summary")]
    if not rows:
        return None
    if len(rows) == 1:
        return f"{rows[0][0]}: " + next(L["rotation"]["answer"] for L in layers if L["rotation"].get("summary"))
    res = [s["affine_fit_residual"] for _, s in rows if s.get("affine_fit_residual")]
    flips = [s["flips"] for _, s in rows if s.get("flips")]
    lo_r, hi_r = min(r["min"] for r in res), max(r["max"] for r in res)
    lo_f, hi_f = min(f["min"] for f in flips), max(f["max"] for f in flips)
    worst = max(rows, key=lambda item: item[1]["affine_fit_residual"]["median"] if item[1].get("affine_fit_residual") else -1)
    best = min(rows, key=lambda item: item[1]["affine_fit_residual"]["median"] if item[1].get("affine_fit_residual") else 2)
    one_map = hi_r < 0.05
    return (f"Across {len(rows)} layers and {sum(s['pairs'] for _, s in rows)} token-to-token rotations, the normalized "
            f"point crosses {lo_f:.0f}–{hi_f:.0f} gate boundaries per rotation (exact counts), yet the best "
            f"single-region fit c₀ + c₁cos θ + c₂sin θ leaves {100 * lo_r:.0f}–{100 * hi_r:.0f} % of the output's "
            f"variation (median {100 * best[1]['affine_fit_residual']['median']:.0f} % in {best[0]}, "
            f"{100 * worst[1]['affine_fit_residual']['median']:.0f} % in {worst[0]}). "
            + ("So the output changes smoothly and almost as one affine map would: many boundaries, little effect."
               if one_map else
               "So the output changes smoothly but not as one region would: the nonlinearity is spread along the "
               "whole rotation rather than concentrated at the boundaries, and counting boundaries alone does not "
               "measure how the output changes.")
            + " (Estimate: the output measures are sampled; the flip counts are exact.)")


def run_minilm_study(layers=None, *, seed: int = 0, full: bool = False, texts=None, progress: bool = True) -> dict:
    """The study on all-MiniLM-L6-v2 (kept for callers of the first version)."""
    return run_study(model_family("minilm"), layers, seed=seed, full=full, texts=texts, progress=progress)
