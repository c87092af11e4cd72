"""``geomcheck study MODEL [--layers 0,3] [--texts-file F] [--sources …] [--seed S] [--full] [--json]
[--plot-dir DIR] [--report out.html] [--inputs FILE] [--save-inputs FILE]``.

The essay's question and the follow-up on a real model's MLP blocks, per layer,
computed exactly (no row certificate is checked, so every status is estimate):
(a) rays (ε = 0: region-constant; the model's ε: the exact centred norm below
which each tested ray changes region, against the norms of real tokens), (b)
superposition paths ``x + λ·d`` (exact number of gate-sign changes and the
first λ), (c) the same weights without the normalization, (d) the block output
while z(x) rotates toward z(d) for token pairs (sampled measures, and a
paragraph answering "how smoothly?" derived from them).

MODEL: ``minilm``, ``smollm2``, a Hugging Face folder or ``.safetensors`` file
(``?layer=N`` or ``{layer}``), or any spec with ``{layer}``. Every option is
checked, and every output path probed, before the model is loaded; the inputs
analysed are written exactly (``--save-inputs``, or beside ``--report`` /
in ``--plot-dir``) so ``--inputs FILE`` re-runs them bit for bit. Logic in
:mod:`geomcheck.studies.study`, figures in :mod:`geomcheck.plots.study`, the
report in :mod:`geomcheck.studies.report`, the result object from :mod:`geomcheck.api.study`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from geomcheck.cli.common import add_json_flag, emit
from geomcheck.errors import InvalidInput


def register(subparsers) -> None:
    p = subparsers.add_parser("study", help="exact study of a real model's MLP blocks (rays, superposition, "
                                            "no-norm, output along rotations)")
    p.add_argument("target", metavar="MODEL",
                   help="minilm, smollm2, a Hugging Face folder or PATH.safetensors (?layer=N or {layer} in the "
                        "spec), or any model spec containing {layer}")
    p.add_argument("--layers", default=None, help="comma-separated layer indices (default: all of minilm, "
                                                   "0,15,29 of smollm2, else the spec's layer)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampled neurons, random directions and pairs")
    p.add_argument("--full", action="store_true", help="all neurons as directions, 256 random directions, 200 pairs a layer, 12 texts")
    p.add_argument("--sizes", default=None, metavar="NEURONS,RANDOM,PAIRS",
                   help="sample sizes per layer (override the defaults 16,16,12)")
    p.add_argument("--text", action="append", default=None, metavar="TEXT", help="a text to run (repeatable)")
    p.add_argument("--texts-file", default=None, metavar="FILE", help="texts to run, one per line")
    p.add_argument("--sources", default=None, metavar="LIST",
                   help="direction sources, comma-separated from token,neuron,neuron-out,random (default: all)")
    p.add_argument("--sae", default=None, metavar="PATH", help="add SAE decoder features (file or SAE-Lens folder) as directions")
    p.add_argument("--rotation-samples", type=int, default=401, metavar="N",
                   help="points per token rotation for the output measures (0: skip them; default 401)")
    p.add_argument("--check-rows", action="store_true",
                   help="certify every superposition path and run the checker on it (each row then carries its gated "
                        "verdict; about 3 s a row on MiniLM)")
    p.add_argument("--no-sensitivity", action="store_true", help="skip the one-ulp sensitivity of the extremes")
    p.add_argument("--inputs", default=None, metavar="FILE", help="re-run from the exact inputs a study saved")
    p.add_argument("--save-inputs", default=None, metavar="FILE", help="write the exact inputs analysed (.npz)")
    p.add_argument("--plot-dir", default=None, help="write rays.png, paths.png, nonorm.png, rotation.png (and inputs.npz) here")
    p.add_argument("--report", default=None, metavar="FILE.html",
                   help="write one self-contained HTML report (and the inputs beside it, FILE.inputs.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(p)
    p.set_defaults(run=run)


def _layers(text):
    if text is None:
        return None
    try:
        layers = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InvalidInput(f"--layers: expected comma-separated integers, got {text!r}") from None
    if not layers:
        raise InvalidInput("--layers: give at least one layer")
    return layers


def _sizes(text):
    if text is None:
        return None
    try:
        sizes = tuple(int(t) for t in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) != 3 or min(sizes) < 0:
        raise InvalidInput(f"--sizes: expected three non-negative integers NEURONS,RANDOM,PAIRS, got {text!r}")
    if max(sizes) > 100_000:
        raise InvalidInput("--sizes: at most 100000 of each")
    return sizes


def _sources(text):
    from geomcheck.studies.study import SOURCES

    if text is None:
        return SOURCES
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in items if t not in SOURCES]
    if bad or not items:
        raise InvalidInput(f"--sources: unknown source {bad[0]!r} (known: {', '.join(SOURCES)})" if bad
                           else "--sources: give at least one source")
    return items


def _texts(args):
    texts = list(args.text or [])
    if args.texts_file:
        try:
            lines = Path(args.texts_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"--texts-file: cannot read {args.texts_file} ({getattr(exc, 'strerror', None) or exc})") from None
        texts += [t for t in (line.strip() for line in lines) if t]
        if not texts:
            raise InvalidInput(f"--texts-file: {args.texts_file} has no non-empty line")
    return texts or None


def _probe_writable(path: Path, what: str) -> None:
    """Fail now (one line) if ``path`` cannot be written, without leaving anything behind."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InvalidInput(f"{what}: {path} is a directory")
    if not parent.is_dir():
        raise InvalidInput(f"{what}: the directory {parent} does not exist")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise InvalidInput(f"{what}: cannot write {path} ({exc.strerror or exc})") from None
    if not existed:
        os.unlink(path)


def _prepare_outputs(args) -> dict:
    """Check every output location before any expensive work; returns the paths to write."""
    out: dict = {}
    if args.plot_dir:
        directory = Path(args.plot_dir)
        if directory.exists() and not directory.is_dir():
            raise InvalidInput(f"--plot-dir: {directory} exists and is not a directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"--plot-dir: cannot create {directory} ({exc.strerror or exc})") from None
        _probe_writable(directory / "rays.png", "--plot-dir")
        out["plot_dir"] = directory
    if args.report:
        report = Path(args.report)
        _probe_writable(report, "--report")
        out["report"] = report
    if args.plot_dir or args.report:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            from geomcheck.errors import MissingDependency

            raise MissingDependency("matplotlib", "plot", "--plot-dir/--report") from None
    inputs_out = args.save_inputs
    if inputs_out is None:
        if "report" in out:
            inputs_out = str(out["report"].with_suffix("")) + ".inputs.npz"
        elif "plot_dir" in out:
            inputs_out = str(out["plot_dir"] / "inputs.npz")
    if inputs_out is not None:
        _probe_writable(Path(inputs_out), "--save-inputs")
    out["save_inputs"] = inputs_out
    if args.inputs is not None and not Path(args.inputs).is_file():
        raise InvalidInput(f"--inputs: file not found: {args.inputs}")
    return out


def _fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def _short(L: dict) -> str:
    """The layer's name when short (minilm:3), else its index (L3)."""
    return L["layer"] if len(L["layer"]) <= 10 else f"L{L.get('index', '?')}"


def _human(p: dict) -> str:
    lines = [f"geomcheck study: {p['model']}  (seed {p['seed']}{', full' if p['full'] else ''}; {len(p['texts'])} texts)",
             f"note: {p['note']}.", "",
             "", f"answer: {p.get('answer', '')}", "",
             "(a) rays t·v, t > 0 — eps = 0: region-constant (crossing polynomial c·t²); at the model's eps: exact centred "
             "norm r below which the ray changes region",
             f"{'layer':<10}{'dirs':>6}{'eps0':>8}{'max r (all dirs)':>18}{'token ‖Px‖ min':>16}{'median':>9}{'tokens ≤ max r':>16}"]
    for L in p["layers"]:
        r = L["rays"]
        lines.append(f"{_short(L):<10}{r['directions']:>6}{r['eps0_status']:>8}{_fmt(r['max_r']):>18}"
                     f"{_fmt(r['token_centred_norm'].get('min')):>16}{_fmt(r['token_centred_norm'].get('median')):>9}"
                     f"{r['tokens_at_or_below_max_r']:>16}")
    lines += ["", "(b) superposition x + λ·d, λ > 0 (x a token activation; d another token, a neuron input or output direction)",
              f"{'layer':<10}{'pairs':>6}{'changes min':>13}{'median':>8}{'max':>7}{'no change':>11}{'first λ·‖d‖/‖x‖ min':>21}{'median':>10}"]
    for L in p["layers"]:
        b = L["paths"]
        c, f = b["changes"], b["first_change_relative"]
        lines.append(f"{_short(L):<10}{b['pairs']:>6}{_fmt(c.get('min'), '.0f'):>13}{_fmt(c.get('median'), '.0f'):>8}"
                     f"{_fmt(c.get('max'), '.0f'):>7}{b['pairs_with_no_change']:>11}{_fmt(f.get('min')):>21}{_fmt(f.get('median')):>10}")
    checked = [(L, L["paths"]["rows_checked"]) for L in p["layers"] if "rows_checked" in L["paths"]]
    for L, k in checked:
        statuses = [q["verdict"]["status"] for q in L["paths"]["per_pair"]]
        lines.append(f"  {_short(L)}: {k} of {L['paths']['pairs']} rows checked by the trusted checker (path certificates): "
                     + ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
                     + " — statement: the path is region-constant")
    lines += ["", "(c) the same weights without LayerNorm (γ, β folded): rays t·v crossing neuron boundaries",
              f"{'layer':<10}{'dirs':>6}{'polysemantic':>14}{'flips min':>11}{'median':>8}{'max':>7}{'regions max':>13}"]
    for L in p["layers"]:
        c = L["nonorm"]
        lines.append(f"{_short(L):<10}{c['directions']:>6}{c['polysemantic_rays']:>14}{_fmt(c['flips'].get('min'), '.0f'):>11}"
                     f"{_fmt(c['flips'].get('median'), '.0f'):>8}{_fmt(c['flips'].get('max'), '.0f'):>7}{_fmt(c['regions'].get('max'), '.0f'):>13}")
    lines += ["", "(d) the block output while z(x) rotates toward z(d), token pairs (sampled: estimate; flips exact) — "
              "median [min–max]",
              f"{'layer':<10}{'rot':>4}{'angle °':>16}{'flips':>18}{'1-region residual %':>24}{'tangent 10% off °':>22}"]
    for L in p["layers"]:
        s = L["rotation"].get("summary") or {}

        def rng(st, spec, scale=1.0):
            return "-" if not st else (f"{format(scale * st['median'], spec)} [{format(scale * st['min'], spec)}–"
                                       f"{format(scale * st['max'], spec)}]")
        lines.append(f"{_short(L):<10}{L['rotation']['pairs']:>4}{rng(s.get('angle_total'), '.0f'):>16}"
                     f"{rng(s.get('flips'), '.0f'):>18}{rng(s.get('affine_fit_residual'), '.1f', 100):>24}"
                     f"{rng(s.get('tangent_error_10%'), '.2g'):>22}")
    sens = []
    for L in p["layers"]:
        a = L["rays"].get("max_r_sensitivity")
        b = L["paths"].get("first_change_relative_min_sensitivity")
        if a or b:
            sens.append(f"  {_short(L)}: max r " + (f"±{a['max_relative_change']:.1g} rel ({a['stable_digits']} stable digits)"
                                                    if a and a.get("stable_digits") is not None else "stable")
                        + "; smallest first change " + (f"±{b['max_relative_change']:.1g} rel ({b['stable_digits']} stable digits)"
                                                        if b and b.get("stable_digits") is not None else "stable" if b else "-"))
    if sens:
        lines += ["", "sensitivity of the extremes to a one-ulp (float32) move of their inputs:"] + sens
    inputs = p.get("inputs") or {}
    lines += ["", f"inputs sha256: {inputs.get('sha256', '-')}"
              + (f"  (written to {inputs['written']}; re-run with --inputs {inputs['written']})" if inputs.get("written") else "")
              + (f"  (from {inputs['from_file']})" if inputs.get("from_file") else "")]
    lines += ["", "All counts and thresholds are computed exactly (rational arithmetic, cross-checked in the tests against "
              "the path engine); decimals display exact numbers. No certificate was checked for these rows, so their "
              "status is estimate. To have the stdlib checker verify a row: geomcheck ray/path MODEL ... "
              "(it checks its certificate in the same run; --certificate F writes it for geomcheck check F)."]
    if p.get("plots"):
        lines.append("plots: " + ", ".join(p["plots"]))
    if p.get("report"):
        lines.append(f"report: {p['report']}")
    return "\n".join(lines)


def _run_smollm2(args) -> int:
    """The gated study (geomcheck.studies.gated: gate patterns and the bias-free statement); default
    layers 0, 15, 29."""
    from geomcheck.api.study import study_smollm2
    from geomcheck.studies.gated import human

    for option, value in (("--plot-dir", args.plot_dir), ("--report", args.report), ("--inputs", args.inputs),
                          ("--save-inputs", args.save_inputs), ("--sae", args.sae)):
        if value:
            raise InvalidInput(f"{option}: not available for the gated smollm2 study yet (minilm and Hugging Face "
                               "folders have it)")
    emit(args, study_smollm2(_layers(args.layers), seed=args.seed, full=args.full).to_json(), human)
    return 0


def run(args) -> int:
    from geomcheck import __version__
    from geomcheck.api.study import study
    from geomcheck.studies.study import model_family

    if args.target in ("smollm2", "smollm2:"):
        return _run_smollm2(args)
    layers = _layers(args.layers)
    sizes = _sizes(args.sizes)
    sources = _sources(args.sources)
    texts = _texts(args)
    if args.rotation_samples != 0 and not 16 <= args.rotation_samples <= 100_000:
        raise InvalidInput("--rotation-samples: 0 (skip) or between 16 and 100000")
    if texts is not None and args.inputs is not None:
        raise InvalidInput("--inputs: the texts come from the inputs file; drop --text/--texts-file")
    if args.sae is not None and not Path(args.sae).exists():
        raise InvalidInput(f"--sae: not found: {args.sae}")
    family = model_family(args.target)
    for layer in layers or []:
        family.check_layer(layer)
    outputs = _prepare_outputs(args)

    result = study(args.target, layers, seed=args.seed, full=args.full, texts=texts, sources=sources, sae=args.sae,
                   sizes=sizes, rotation_samples=args.rotation_samples, inputs=args.inputs,
                   save_inputs=outputs["save_inputs"], progress=not args.no_progress and not args.json,
                   sensitivity=not args.no_sensitivity, check_rows=args.check_rows)
    payload = result.to_json()
    errors = []
    pngs = []
    if "plot_dir" in outputs or "report" in outputs:
        from geomcheck.plots.study import figure_png, study_figures

        pngs = [(name, caption, figure_png(fig)) for name, caption, fig in study_figures(payload)]
    if "plot_dir" in outputs:
        from geomcheck.plots.study import write_figures

        try:
            payload["plots"] = write_figures(pngs, outputs["plot_dir"])
        except InvalidInput as exc:
            errors.append(str(exc))
    if "report" in outputs:
        from geomcheck.studies.report import render_report

        command = "geomcheck " + " ".join(_quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "geomcheck study"
        text = render_report(payload, pngs, command=command, version=__version__)
        try:
            outputs["report"].write_text(text, encoding="utf-8")
            payload["report"] = str(outputs["report"])
        except OSError as exc:
            errors.append(f"--report: cannot write {outputs['report']} ({exc.strerror or exc})")
    if not args.json:
        for L in payload["layers"]:
            for key in ("per_direction_max_r", "per_direction_kind"):
                L["rays"].pop(key, None)
    emit(args, payload, _human)
    if errors:  # the result is printed above; the failed writes are one line each
        for line in errors:
            sys.stderr.write(f"error: {line}\n")
        return 2
    return 0


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
