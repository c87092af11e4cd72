"""``geomcheck study minilm [--layers 0,3] [--seed S] [--full] [--json] [--plot-dir DIR]``.

The essay's question and the follow-up on the real all-MiniLM-L6-v2 weights,
per layer, computed exactly (no row certificate is checked, so every status is estimate): (a) rays (ε = 0: region-constant by proof; ε = 10⁻¹²: the
centred norm below which each tested ray changes region, against the norms of
real tokens), (b) superposition paths ``x + λ·d`` (exact number of gate-sign
changes and the first λ), (c) the same weights without LayerNorm (how many
regions a ray crosses). Logic in :mod:`geomcheck.search.study`, result object from :mod:`geomcheck.api.study`.
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, emit
from geomcheck.errors import InvalidInput


def register(subparsers) -> None:
    p = subparsers.add_parser("study", help="exact study of a real model's MLP blocks (rays, superposition, no-norm)")
    p.add_argument("target", choices=["minilm", "smollm2"],
                   help="the model to study (minilm: all-MiniLM-L6-v2; smollm2: SmolLM2-135M-Instruct, gated)")
    p.add_argument("--layers", default=None, help="comma-separated layer indices (default: all 6)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampled neurons, random directions and pairs")
    p.add_argument("--full", action="store_true", help="all neurons as directions, 256 random directions, 200 pairs a layer, 12 texts")
    p.add_argument("--plot-dir", default=None, help="write rays.png, paths.png and nonorm.png here")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(p)
    p.set_defaults(run=run)


def _layers(text):
    if text is None:
        return None
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InvalidInput(f"--layers: expected comma-separated integers, got {text!r}") from None


def _fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def _human(p: dict) -> str:
    lines = [f"geomcheck study: {p['model']}  (seed {p['seed']}{', full' if p['full'] else ''}; {len(p['texts'])} texts)",
             f"note: {p['note']}.", "",
             "(a) rays t·v, t > 0 — eps = 0: region-constant by proof; eps = 1e-12: exact centred norm r below which the ray changes region",
             f"{'layer':<10}{'dirs':>6}{'eps0':>8}{'max r (all dirs)':>18}{'token ‖Px‖ min':>16}{'median':>9}{'tokens ≤ max r':>16}"]
    for L in p["layers"]:
        r = L["rays"]
        lines.append(f"{L['layer']:<10}{r['directions']:>6}{r['eps0_status']:>8}{_fmt(r['max_r']):>18}"
                     f"{_fmt(r['token_centred_norm'].get('min')):>16}{_fmt(r['token_centred_norm'].get('median')):>9}"
                     f"{r['tokens_at_or_below_max_r']:>16}")
    lines += ["", "(b) superposition x + λ·d, λ > 0 (x a token activation; d another token, a neuron input or output direction)",
              f"{'layer':<10}{'pairs':>6}{'changes min':>13}{'median':>8}{'max':>7}{'no change':>11}{'first λ·‖d‖/‖x‖ min':>21}{'median':>10}"]
    for L in p["layers"]:
        b = L["paths"]
        c, f = b["changes"], b["first_change_relative"]
        lines.append(f"{L['layer']:<10}{b['pairs']:>6}{_fmt(c.get('min'), '.0f'):>13}{_fmt(c.get('median'), '.0f'):>8}"
                     f"{_fmt(c.get('max'), '.0f'):>7}{b['pairs_with_no_change']:>11}{_fmt(f.get('min')):>21}{_fmt(f.get('median')):>10}")
    lines += ["", "(c) the same weights without LayerNorm (γ, β folded): rays t·v crossing neuron boundaries",
              f"{'layer':<10}{'dirs':>6}{'polysemantic':>14}{'flips min':>11}{'median':>8}{'max':>7}{'regions max':>13}"]
    for L in p["layers"]:
        c = L["nonorm"]
        lines.append(f"{L['layer']:<10}{c['directions']:>6}{c['polysemantic_rays']:>14}{_fmt(c['flips'].get('min'), '.0f'):>11}"
                     f"{_fmt(c['flips'].get('median'), '.0f'):>8}{_fmt(c['flips'].get('max'), '.0f'):>7}{_fmt(c['regions'].get('max'), '.0f'):>13}")
    lines += ["", "All counts and thresholds are computed exactly (rational arithmetic, cross-checked in the tests against "
              "the path engine); decimals display exact numbers. No certificate was checked for these rows, so their "
              "status is estimate. To have the stdlib checker verify a row: geomcheck ray/path MODEL ... "
              "(it checks its certificate in the same run; --certificate F writes it for geomcheck check F)."]
    if p.get("plots"):
        lines.append("plots: " + ", ".join(p["plots"]))
    return "\n".join(lines)


def _plots(payload: dict, directory: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    layers = payload["layers"]
    written = []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for j, L in enumerate(layers):
        rs = [r for r in L["rays"]["per_direction_max_r"] if r]
        ax.scatter([j - 0.15] * len(rs), rs, s=8, color="C0", label="max r_i per direction (ε = 1e-12)" if j == 0 else None)
        norms = L["rays"]["token_centred_norm"]
        ax.scatter([j + 0.15], [norms["min"]], marker="v", color="C3", label="smallest token ‖Px‖" if j == 0 else None)
        ax.scatter([j + 0.15], [norms["median"]], marker="o", color="C3", label="median token ‖Px‖" if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [L["layer"] for L in layers])
    ax.set_ylabel("centred norm ‖Px‖")
    ax.set_title("Rays: below r the ray changes gate pattern; real tokens sit far above")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "rays.png", dpi=120)
    plt.close(fig)
    written.append(str(out / "rays.png"))

    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    all_changes = [q["changes"] for L in layers for q in L["paths"]["per_pair"]]
    all_rel = [q["first_relative"] for L in layers for q in L["paths"]["per_pair"] if q["first_relative"]]
    change_bins = np.linspace(0, max(all_changes + [1]), 25)
    rel_bins = np.logspace(np.log10(min(all_rel)), np.log10(max(all_rel)), 25) if all_rel else 10
    for L in layers:
        pp = L["paths"]["per_pair"]
        axes[0].hist([q["changes"] for q in pp], bins=change_bins, histtype="step", linewidth=1.5, label=L["layer"])
        rel = [q["first_relative"] for q in pp if q["first_relative"]]
        axes[1].hist(rel, bins=rel_bins, histtype="step", linewidth=1.5, label=L["layer"])
    axes[0].set_xlabel("exact gate-sign changes along x + λ·d")
    axes[1].set_xlabel("first change: λ·‖d‖/‖x‖")
    axes[1].set_xscale("log")
    for a in axes:
        a.legend(fontsize=7)
    fig.suptitle("Superposition paths (GELU: gate-sign patterns, not affine pieces)")
    fig.tight_layout()
    fig.savefig(out / "paths.png", dpi=120)
    plt.close(fig)
    written.append(str(out / "paths.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    flip_bins = np.linspace(0, max([f for L in layers for f in L["nonorm"]["per_direction_flips"]] + [1]), 31)
    for L in layers:
        ax.hist(L["nonorm"]["per_direction_flips"], bins=flip_bins, histtype="step", linewidth=1.5, label=L["layer"])
    ax.set_xlabel("neurons a ray t·v crosses without LayerNorm")
    ax.set_title("No-LayerNorm counterfactual: every tested ray is polysemantic")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "nonorm.png", dpi=120)
    plt.close(fig)
    written.append(str(out / "nonorm.png"))
    return written


def _run_smollm2(args) -> int:
    """The gated study (geomcheck.studies.gated): default layers 0, 15, 29."""
    from geomcheck.studies.gated import human, run_smollm2_study
    from geomcheck.search.study import ROW_VERDICT

    if args.plot_dir:
        raise InvalidInput("--plot-dir: the study's plots are drawn for minilm only")
    payload = run_smollm2_study(_layers(args.layers), seed=args.seed, full=args.full)
    payload.update(ROW_VERDICT.to_json())
    emit(args, payload, human)
    return 0


def run(args) -> int:
    from geomcheck.api.study import study_minilm

    if args.target == "smollm2":
        return _run_smollm2(args)
    from geomcheck.io.real import MINILM_LAYERS

    layers = _layers(args.layers)
    for layer in layers or []:
        if not 0 <= layer < MINILM_LAYERS:
            raise InvalidInput(f"--layers: layer {layer} does not exist (valid: 0 … {MINILM_LAYERS - 1})")
    payload = study_minilm(layers, seed=args.seed, full=args.full,
                           progress=not args.no_progress and not args.json).to_json()
    if args.plot_dir:
        payload["plots"] = _plots(payload, args.plot_dir)
    if not args.json:
        for L in payload["layers"]:
            for key in ("per_direction_max_r", "per_direction_kind"):
                L["rays"].pop(key, None)
    emit(args, payload, _human)
    return 0
