"""``geomcheck scan``: every (layer, base, direction, path kind) of a model, on Dask, into Parquet.

The scan is a product of sources (:mod:`geomcheck.studies.sources`): layers ×
bases × directions × path kinds. Path kinds:

* ``rays`` — ``{t·v : t > 0}`` for every direction v (no base; ``base`` is null),
  with the model's ε: the batch also estimates the ray's critical centred norm
  ``max_i r_i`` (DESIGN §2; null when ε = 0 or without a scaling norm);
* ``superposition`` — ``x + λ·v``, λ ∈ [0, ∞), for every base x and direction v;
* ``arcs`` — ``x + s·(y − x)``, s ∈ [0, 1], from every base x to every direction y.

Every row gets the float batch estimate
(:func:`geomcheck.search.paths.analyse_paths_batch`: number of neuron zeros,
first λ, its neuron). Rows chosen by the exact rule get the exact analysis
(:func:`geomcheck.search.paths.analyse_path_fast`), its path certificate and
the verdict gate: ``status`` is the gate's status — checker-backed when the
stdlib checker accepted the certificate in this run, else *estimate*.
``exact_flips`` counts neuron zeros as the batch does (a crossing where k
neurons vanish together counts k); ``exact_crossings`` counts distinct λ.

Exact rules: ``none``, ``all``, ``sample:K`` (K rows per layer and path kind,
seeded, chosen before the run), ``top:K`` (the K rows with the most estimated
flips *in each partition*), ``where:EXPR`` (rows whose estimate columns satisfy
EXPR, e.g. ``flips_estimate > 3 and kind == 'superposition'``).

Distribution: rows are cut into partitions of ``chunk`` rows of one (layer,
kind); a Dask task gets a partition's index range, never vectors. Each worker
loads a layer's model once (cache keyed by model spec and sha256; a worker
that loads different weights refuses) and a source once. The driver writes
each partition as its task finishes (atomically, :mod:`geomcheck.studies.store`);
a rerun skips partitions already written for the same inputs and recomputes
missing, partial or corrupt ones. A worker that dies mid-task loses nothing:
the scheduler reruns its task elsewhere and only finished results are written.
"""

from __future__ import annotations

import ast
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.studies.sources import Source, parse_source
from geomcheck.studies import store

__all__ = ["ScanConfig", "ExactRule", "parse_exact_rule", "parse_layers", "layer_specs", "plan_scan", "run_scan",
           "run_partition", "summarise", "PATH_KINDS"]

PATH_KINDS = {"rays": "ray", "superposition": "superposition", "arcs": "arc"}
ESTIMATE_COLUMNS = ("flips_estimate", "first_flip_estimate", "first_neuron_estimate", "critical_norm_estimate",
                    "base", "direction", "layer", "kind")


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ExactRule:
    kind: str            # none | all | sample | top | where
    k: int = 0
    expr: str = ""

    def text(self) -> str:
        return {"none": "none", "all": "all", "sample": f"sample:{self.k}", "top": f"top:{self.k}",
                "where": f"where:{self.expr}"}[self.kind]


_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
                  ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.BinOp, ast.Add, ast.Sub,
                  ast.Mult, ast.Div, ast.Mod, ast.Name, ast.Load, ast.Constant)


def parse_exact_rule(text: str) -> ExactRule:
    """``all | none | sample:K | top:K | where:EXPR`` (module docstring)."""
    text = text.strip()
    if text in ("all", "none"):
        return ExactRule(text)
    kind, sep, arg = text.partition(":")
    if sep and kind in ("sample", "top"):
        try:
            k = int(arg)
        except ValueError:
            raise InvalidInput(f"--exact: {kind}:K needs an integer K, got {arg!r}") from None
        if k < 0:
            raise InvalidInput(f"--exact: {kind}:K needs K ≥ 0, got {k}")
        return ExactRule(kind, k)
    if sep and kind == "where":
        _compile_where(arg)
        return ExactRule("where", expr=arg.strip())
    raise InvalidInput(f"--exact: unknown rule {text!r} (use all, none, sample:K, top:K or where:EXPR)")


def _compile_where(expr: str):
    """A row predicate over the estimate columns: comparisons, and/or/not, arithmetic, constants."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidInput(f"--exact where: cannot parse {expr!r} ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise InvalidInput(f"--exact where: {type(node).__name__} is not allowed (use comparisons, and/or/not, "
                               f"arithmetic and the columns {', '.join(ESTIMATE_COLUMNS)})")
        if isinstance(node, ast.Name) and node.id not in ESTIMATE_COLUMNS:
            raise InvalidInput(f"--exact where: unknown column {node.id!r} (known: {', '.join(ESTIMATE_COLUMNS)})")
    code = compile(tree, "<where>", "eval")

    def predicate(row: dict) -> bool:
        try:
            return bool(eval(code, {"__builtins__": {}}, row))  # noqa: S307 - AST whitelisted above
        except (TypeError, ZeroDivisionError):  # a null column (no flip) compares as false
            return False

    return predicate


def parse_layers(text: str | None, default: list[int]) -> list[int]:
    """``0-5``, ``0,2,4``, ``1-3,5`` or ``all``; None → ``default``."""
    if text is None or text.strip() == "all":
        return list(default)
    layers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            layers.extend(range(int(lo), int(hi) + 1) if sep else [int(part)])
        except ValueError:
            raise InvalidInput(f"--layers: expected integers like 0-5 or 0,2,4, got {text!r}") from None
    if not layers or any(layer < 0 for layer in layers):
        raise InvalidInput(f"--layers: expected non-negative layers, got {text!r}")
    return sorted(set(layers))


def layer_specs(model: str, layers_text: str | None) -> list[tuple[int, str]]:
    """``(layer, model spec)`` per layer.

    ``minilm`` alone means ``minilm:L``; ``FILE.safetensors`` without ``?layer=``
    means ``FILE.safetensors?layer=L``; any spec may contain ``{layer}``
    (``toy:random?d=8&n=32&seed={layer}``). Any other spec is one block: its
    layer is the one it names (``minilm:3``) or 0, and ``--layers`` must agree.
    """
    model = model.strip()
    if model == "minilm":
        from geomcheck.io.real import MINILM_LAYERS

        layers = parse_layers(layers_text, list(range(MINILM_LAYERS)))
        bad = [layer for layer in layers if layer >= MINILM_LAYERS]
        if bad:
            raise InvalidInput(f"--layers: layer {bad[0]} does not exist (minilm has 0 … {MINILM_LAYERS - 1})")
        return [(layer, f"minilm:{layer}") for layer in layers]
    template = model
    if "{layer}" not in template and template.lower().endswith(".safetensors"):
        template = template + "?layer={layer}"
    if "{layer}" in template:
        if layers_text is None:
            raise InvalidInput(f"--layers: {model} names several layers; say which, e.g. --layers 0-3")
        return [(layer, template.replace("{layer}", str(layer))) for layer in parse_layers(layers_text, [])]
    own = 0
    prefix, sep, arg = model.partition(":")
    if prefix == "minilm" and sep and arg.strip().isdigit():
        own = int(arg)
    elif "layer=" in model:
        tail = model.rpartition("layer=")[2].split("&")[0]
        own = int(tail) if tail.isdigit() else 0
    if layers_text is not None and parse_layers(layers_text, [own]) != [own]:
        raise InvalidInput(f"--layers: {model} is one block (layer {own}); write the model with {{layer}} "
                           "(or minilm, or FILE.safetensors) to scan several layers")
    return [(own, model)]


@dataclass
class ScanConfig:
    model: str
    directions: str
    out: str
    bases: str | None = None
    layers: str | None = None
    paths: tuple[str, ...] = ("superposition",)
    exact: str = "none"
    chunk: int = 1024
    seed: int = 0
    workers: int | None = None       # None: one per core; 0: in this process, no Dask
    scheduler: str | None = None
    resume: bool = True
    overwrite: bool = False
    progress: bool = False
    delay: float = 0.0               # seconds each task waits before working (tests and demos only)


# ---------------------------------------------------------------------------
# planning
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One partition: rows ``lo … hi−1`` of one (layer, kind)."""

    layer: int
    kind: str
    lo: int
    hi: int
    model_spec: str
    model_sha256: str
    directions: Source
    directions_fp: str
    bases: Source | None
    bases_fp: str | None
    n_directions: int
    rule: ExactRule
    exact_rows: tuple[int, ...] = ()      # sample:K: the chosen rows inside lo … hi−1
    delay: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.lo:09d}-{self.hi:09d}.parquet"

    def info(self, inputs_sha256: str) -> dict:
        return {"inputs_sha256": inputs_sha256, "layer": self.layer, "kind": self.kind, "lo": self.lo,
                "hi": self.hi, "rows": self.hi - self.lo, "model_sha256": self.model_sha256}


@dataclass
class Plan:
    manifest: dict
    tasks: list[Task]
    layers: list[dict]


def _version() -> str:
    from geomcheck import __version__

    return __version__


def plan_scan(config: ScanConfig) -> Plan:
    """Resolve layers and sources on the driver, hash the inputs and cut the work into partitions."""
    from geomcheck.io.modelfile import model_sha256
    from geomcheck.io.resolve import load_model

    kinds = []
    for name in config.paths:
        if name not in PATH_KINDS:
            raise InvalidInput(f"--paths: unknown kind {name!r} (use rays, superposition, arcs)")
        kinds.append(PATH_KINDS[name])
    if config.chunk < 1:
        raise InvalidInput(f"--chunk: must be ≥ 1, got {config.chunk}")
    rule = parse_exact_rule(config.exact)
    directions = parse_source(config.directions, "--directions")
    needs_bases = any(k != "ray" for k in kinds)
    if needs_bases and config.bases is None:
        raise InvalidInput("--bases: superposition and arcs need base vectors (e.g. --bases tokens:FILE or @x.npy)")
    bases = parse_source(config.bases, "--bases") if needs_bases else None
    directions_fp = directions.fingerprint()
    bases_fp = bases.fingerprint() if bases else None
    layers = []
    tasks: list[Task] = []
    for layer, spec in layer_specs(config.model, config.layers):
        block = load_model(spec)
        sha = model_sha256(block)
        n_dir = directions.count(block)
        n_base = bases.count(block) if bases else 0
        layers.append({"layer": layer, "model": spec, "model_sha256": sha, "d": block.d, "n": block.n,
                       "directions": n_dir, "bases": n_base})
        for kind in kinds:
            total = n_dir if kind == "ray" else n_base * n_dir
            chosen: set[int] = set()
            if rule.kind == "sample":
                rng = random.Random(f"{config.seed}:{layer}:{kind}")
                chosen = set(rng.sample(range(total), min(rule.k, total)))
            for lo in range(0, total, config.chunk):
                hi = min(total, lo + config.chunk)
                tasks.append(Task(layer, kind, lo, hi, spec, sha, directions, directions_fp, bases, bases_fp, n_dir,
                                  rule, tuple(sorted(r for r in chosen if lo <= r < hi)), config.delay))
    inputs = {
        "format": "geomcheck.scan/1",
        "geomcheck_version": _version(),
        "model": config.model,
        "layers": [{k: L[k] for k in ("layer", "model", "model_sha256")} for L in layers],
        "directions": {"spec": directions.spec, "fingerprint": directions_fp},
        "bases": None if bases is None else {"spec": bases.spec, "fingerprint": bases_fp},
        "paths": kinds,
        "exact": rule.text(),
        "chunk": config.chunk,
        "seed": config.seed,
    }
    manifest = {"inputs": inputs, "inputs_sha256": store.canonical_sha256(inputs), "geomcheck_version": _version(),
                "columns": list(_SCHEMA_FIELDS)}
    return Plan(manifest, tasks, layers)


# ---------------------------------------------------------------------------
# one partition (runs on a Dask worker)
# ---------------------------------------------------------------------------

_SCHEMA_FIELDS = {
    "kind": "string", "base": "int64", "direction": "int64",
    "flips_estimate": "int64", "first_flip_estimate": "float64", "first_neuron_estimate": "int64",
    "critical_norm_estimate": "float64",
    "exact": "bool_", "exact_flips": "int64", "exact_crossings": "int64", "exact_first_flip": "float64",
    "status": "string", "checker": "string", "note": "string",
}


def _schema():
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, kind in _SCHEMA_FIELDS.items()])


_BLOCKS: dict = {}


def worker_block(spec: str, sha256: str):
    """The layer's exact model, loaded once per process and checked against the driver's hash."""
    key = (spec, sha256)
    block = _BLOCKS.get(key)
    if block is None:
        from geomcheck.io.modelfile import model_sha256
        from geomcheck.io.resolve import load_model

        block = load_model(spec)
        if model_sha256(block) != sha256:
            raise InvalidInput(f"{spec}: this worker loads different weights than the driver (sha256 differs)")
        _BLOCKS[key] = block
    return block


def _ray_critical_norms(block, V: np.ndarray) -> np.ndarray:
    """Float estimate of each ray's critical centred norm ``max_i r_i`` (ε > 0; NaN where no neuron flips).

    With ``w = P·v``, ``β_i = w̃_i·w``, ``n₂ = ‖w‖²``: neuron i flips once, at
    ``λ*² = b'²·dε/(d·β² − b'²·n₂)`` when ``sign(β_i) = −sign(b'_i)`` and the
    denominator is positive; ``r_i = λ*·√n₂`` (module docstring of
    :mod:`geomcheck.geometry.paths`).
    """
    from geomcheck.search.floats import float_arrays

    a = float_arrays(block)
    d, eps = block.d, float(block.norm.eps)
    W = V - V.mean(axis=1, keepdims=True) if block.norm.centers else V
    beta = W @ a.folded_w.T
    n2 = np.einsum("ij,ij->i", W, W)[:, None]
    b2 = a.folded_b**2
    denom = d * beta * beta - b2 * n2
    flips = (beta * a.folded_b < 0) & (denom > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(flips, b2 * d * eps * n2 / denom, -np.inf)
    best = r2.max(axis=1) if r2.shape[1] else np.full(len(V), -np.inf)
    return np.where(np.isfinite(best), np.sqrt(np.maximum(best, 0.0)), np.nan)


def _path_spec(task: Task, block, b: int | None, v: int):
    from geomcheck.geometry.paths import PathSpec

    y = task.directions.exact(block, v, task.directions_fp)
    if task.kind == "ray":
        return PathSpec.ray(block.check_direction(y, f"direction {v}"))
    x = block.check_vector(task.bases.exact(block, b, task.bases_fp), f"base {b}")
    if task.kind == "superposition":
        return PathSpec.superposition(x, block.check_direction(y, f"direction {v}"))
    return PathSpec.arc(x, y)


def exact_row(task: Task, block, b: int | None, v: int) -> dict:
    """The exact analysis of one row through the verdict gate."""
    from geomcheck.certify.path import path_certificate
    from geomcheck.search.paths import analyse_path_fast
    from geomcheck.verdicts import PROVED, estimate, gate

    try:
        analysis = analyse_path_fast(block, _path_spec(task, block, b, v))
    except DegenerateInput as exc:
        verdict = estimate(f"no exact analysis: {exc}")
        return {"exact": False, "status": verdict.status, "note": str(exc)}
    # the certificate states the exact crossing list; an accepted check proves it
    verdict = gate(path_certificate(block, analysis), PROVED)
    crossings = analysis.crossings
    return {
        "exact": True,
        "exact_flips": sum(len(c.neurons) for c in crossings),
        "exact_crossings": len(crossings),
        "exact_first_flip": float(crossings[0].at) if crossings else None,
        "status": verdict.status,
        "checker": verdict.checker_message,
    }


def run_partition(task: Task):
    """Estimate (and, where the rule says, prove) every row of one partition; a ``pyarrow.Table``."""
    import pyarrow as pa

    from geomcheck.search.paths import analyse_paths_batch
    from geomcheck.verdicts import estimate

    if task.delay:
        time.sleep(task.delay)
    block = worker_block(task.model_spec, task.model_sha256)
    rows = np.arange(task.lo, task.hi, dtype=np.int64)
    D = task.directions.floats(block, task.directions_fp)
    if task.kind == "ray":
        base_idx, dir_idx = None, rows
        V = D[dir_idx]
        X = np.zeros_like(V)
        start, end = 0.0, None
    else:
        base_idx, dir_idx = rows // task.n_directions, rows % task.n_directions
        X = task.bases.floats(block, task.bases_fp)[base_idx]
        V = D[dir_idx] if task.kind == "superposition" else D[dir_idx] - X
        start, end = 0.0, (None if task.kind == "superposition" else 1.0)
    batch = analyse_paths_batch(block, X, V, start, end)
    flips = np.asarray(batch.counts, dtype=np.int64)
    first = np.asarray(batch.first, dtype=np.float64)
    first_neuron = np.asarray(batch.first_neuron, dtype=np.int64)
    critical = np.full(len(rows), np.nan)
    if task.kind == "ray" and block.norm.scales and block.norm.eps > 0:
        critical = _ray_critical_norms(block, V)
    m = len(rows)
    columns = {
        "kind": [task.kind] * m,
        "base": [None] * m if base_idx is None else base_idx.tolist(),
        "direction": dir_idx.tolist(),
        "flips_estimate": flips.tolist(),
        "first_flip_estimate": [float(f) if math.isfinite(f) else None for f in first.tolist()],
        "first_neuron_estimate": [int(i) if i >= 0 else None for i in first_neuron.tolist()],
        "critical_norm_estimate": [None if math.isnan(c) else float(c) for c in critical.tolist()],
        "exact": [False] * m, "exact_flips": [None] * m, "exact_crossings": [None] * m,
        "exact_first_flip": [None] * m, "status": [estimate().status] * m, "checker": [None] * m, "note": [None] * m,
    }
    for k in _exact_selection(task, columns):
        b = None if base_idx is None else int(base_idx[k])
        for name, value in exact_row(task, block, b, int(dir_idx[k])).items():
            columns[name][k] = value
    return pa.table(columns, schema=_schema())


def _exact_selection(task: Task, columns: dict) -> list[int]:
    """Positions (0 … m−1) of the partition's rows that get the exact analysis."""
    m = task.hi - task.lo
    rule = task.rule
    if rule.kind == "none":
        return []
    if rule.kind == "all":
        return list(range(m))
    if rule.kind == "sample":
        return [r - task.lo for r in task.exact_rows]
    if rule.kind == "top":
        order = sorted(range(m), key=lambda k: (-columns["flips_estimate"][k], k))
        return sorted(order[:rule.k])
    predicate = _compile_where(rule.expr)
    names = [c for c in ESTIMATE_COLUMNS if c in columns]
    return [k for k in range(m)
            if predicate({**{c: columns[c][k] for c in names}, "layer": task.layer})]


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------

@dataclass
class ScanReport:
    manifest: dict
    layers: list[dict]
    partitions: dict = field(default_factory=dict)
    dashboard: str | None = None
    workers: int = 0
    elapsed_s: float = 0.0


def _start_client(config: ScanConfig):
    """A Dask client: to ``--scheduler``, or to a LocalCluster started for this run (processes)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from geomcheck.errors import MissingDependency

        raise MissingDependency("distributed", "scan", "geomcheck scan") from None
    if config.scheduler:
        try:
            return Client(config.scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InvalidInput(f"--scheduler: cannot reach a Dask scheduler at {config.scheduler} ({exc})") from None
    n = config.workers or os.cpu_count() or 1
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
        dashboard = ":0"
    except ImportError:
        dashboard = None
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=dashboard)
    return Client(cluster), cluster


def _dashboard(client, own_cluster) -> str | None:
    if own_cluster is not None and own_cluster.scheduler_info.get("services", {}).get("dashboard") is None:
        return None  # started without bokeh: there is no dashboard to point at
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - a link is a courtesy, never a failure
        return None


def _progress_thread(futures):
    import threading

    from distributed import progress

    thread = threading.Thread(target=progress, args=(futures,), daemon=True)
    thread.start()
    return thread


def run_scan(config: ScanConfig, client=None, on_partition: Callable[[Task, str], None] | None = None,
             log: Callable[[str], None] | None = None) -> ScanReport:
    """Plan, run and write the scan; returns what was done. ``client``: an existing Dask client.

    ``on_partition(task, how)`` is called after each partition is settled
    (``how``: ``computed`` or ``skipped``); ``log`` receives one-line notes
    (dashboard address, skipped partitions).
    """
    log = log or (lambda line: None)
    started = time.perf_counter()
    plan = plan_scan(config)
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out}: exists and is not a directory")
    same = store.check_manifest(out, plan.manifest, config.overwrite)
    store.write_manifest(out, plan.manifest)
    store.remove_temporaries(out)
    digest = plan.manifest["inputs_sha256"]
    todo, counts = [], {"total": len(plan.tasks), "computed": 0, "skipped": 0, "recomputed": 0}
    for task in plan.tasks:
        path = store.partition_path(out, task.layer, task.name)
        if same and config.resume and store.partition_is_valid(path, task.info(digest)):
            counts["skipped"] += 1
            if on_partition:
                on_partition(task, "skipped")
            continue
        if path.exists():
            counts["recomputed"] += 1
        todo.append(task)
    if counts["skipped"]:
        log(f"resume: {counts['skipped']} of {counts['total']} partitions already written for these inputs")
    report = ScanReport(plan.manifest, plan.layers, counts)

    def settle(task: Task, table) -> None:
        store.write_partition(store.partition_path(out, task.layer, task.name), table, task.info(digest))
        counts["computed"] += 1
        if on_partition:
            on_partition(task, "computed")

    if config.workers == 0 and client is None and config.scheduler is None:
        for task in todo:  # in this process: for debugging and small scans
            settle(task, run_partition(task))
    elif todo:
        own_cluster = None
        if client is None:
            client, own_cluster = _start_client(config)
        try:
            report.dashboard = _dashboard(client, own_cluster)
            report.workers = len(client.scheduler_info().get("workers", {}))
            log(f"dask: {report.workers} workers; dashboard: {report.dashboard or 'not available (pip install bokeh)'}")
            _run_on_dask(client, todo, settle, config.progress)
        finally:
            if own_cluster is not None:
                client.close()
                own_cluster.close()
    report.elapsed_s = time.perf_counter() - started
    return report


def _run_on_dask(client, todo: list[Task], settle, progress: bool) -> None:
    from distributed import as_completed

    by_key = {}
    futures = []
    for task in todo:
        future = client.submit(run_partition, task, pure=False, key=f"scan-{task.layer}-{task.name}-{id(task):x}")
        by_key[future.key] = task
        futures.append(future)
    if progress:
        _progress_thread(futures)
    try:
        for future in as_completed(futures):
            settle(by_key[future.key], future.result())  # a task's own error is re-raised here
            future.release()
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if progress:
            sys.stdout.write("\n")


# ---------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------

def _stats(values) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    return {"min": float(arr.min()), "median": float(np.median(arr)), "mean": float(arr.mean()),
            "max": float(arr.max())}


def summarise(directory: str | Path) -> list[dict]:
    """One summary dict per (layer, kind) of the dataset in ``directory``."""
    table = store.read_scan(directory)
    cols = table.select(["layer", "kind", "flips_estimate", "first_flip_estimate", "critical_norm_estimate",
                         "exact", "exact_flips", "status"]).to_pydict()
    groups: dict = {}
    for i, key in enumerate(zip(cols["layer"], cols["kind"])):
        groups.setdefault(key, []).append(i)
    out = []
    for (layer, kind), idx in sorted(groups.items()):
        flips = [cols["flips_estimate"][i] for i in idx]
        exact = [i for i in idx if cols["exact"][i]]
        statuses: dict = {}
        for i in idx:
            statuses[cols["status"][i]] = statuses.get(cols["status"][i], 0) + 1
        out.append({
            "layer": layer, "kind": kind, "rows": len(idx),
            "flips_estimate": _stats(flips),
            "rows_without_flip": sum(1 for f in flips if f == 0),
            "first_flip_estimate": _stats(cols["first_flip_estimate"][i] for i in idx),
            "critical_norm_estimate": _stats(cols["critical_norm_estimate"][i] for i in idx),
            "exact_rows": len(exact),
            "exact_agrees_with_estimate": sum(1 for i in exact if cols["exact_flips"][i] == cols["flips_estimate"][i]),
            "status": statuses,
        })
    return out
