"""``geomcheck model show MODEL [--json]`` and ``geomcheck model export MODEL``."""

from __future__ import annotations

from fractions import Fraction

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.exact.rationals import format_rational


def register(subparsers) -> None:
    model = subparsers.add_parser("model", help="inspect or export a model")
    actions = model.add_subparsers(dest="model_action", metavar="ACTION")
    show = actions.add_parser("show", help="dimensions, normalization, activation and folded-weight summary")
    add_model_argument(show)
    add_json_flag(show)
    show.set_defaults(run=run_show)
    export = actions.add_parser("export", help="print the model in the exact JSON exchange format")
    add_model_argument(export)
    export.set_defaults(run=run_export)
    model.set_defaults(run=lambda args: (model.print_help(), 2)[1])


def _decimal(q: Fraction) -> str:
    return f"{float(q):.6g}"


def summary(block) -> dict:
    import numpy as np  # lazily: `geomcheck check` must start without numpy

    from geomcheck.io.modelfile import model_sha256

    from geomcheck.search.floats import float_arrays

    f = block.folded
    # Display only (6 digits): float64 norms of the folded rows; zero rows decided exactly.
    row_norms = np.sqrt((float_arrays(block).folded_w ** 2).sum(axis=1))
    zero_rows = sum(1 for row in f.weights if not any(row))
    return {
        "name": block.name,
        "d": block.d,
        "n": block.n,
        "d_out": block.d_out,
        "norm": {"kind": block.norm.kind, "eps": format_rational(block.norm.eps),
                 "gamma": block.norm.gamma is not None, "beta": block.norm.beta is not None},
        "activation": block.activation.name,
        "piecewise_linear": block.activation.piecewise_linear,
        "gated": hasattr(block, "w_up"),  # geomcheck.model.gated: the pattern is the gate's sign pattern
        "sha256": model_sha256(block),
        "folded": {
            "centered": f.centers,
            "weight_abs_max": _decimal(max(abs(w) for row in f.weights for w in row)),
            "row_norm_min": f"{float(row_norms.min()):.6g}",
            "row_norm_max": f"{float(row_norms.max()):.6g}",
            "bias_min": _decimal(min(f.bias)),
            "bias_max": _decimal(max(f.bias)),
            "zero_rows": zero_rows,
        },
    }


def _human(p: dict) -> str:
    f = p["folded"]
    lines = [
        f"model       {p['name']}",
        f"d           {p['d']}   (output width {p['d_out']})",
        f"n           {p['n']} neurons",
        f"norm        {p['norm']['kind']}, eps = {p['norm']['eps']}"
        + (", gamma" if p["norm"]["gamma"] else "") + (", beta" if p["norm"]["beta"] else ""),
        f"activation  {p['activation']}" + ("  (gated: W_down·(act(W_gate·N(x)) ⊙ W_up·N(x)); pattern = gate signs, "
                                            "bilinear on each gate region, never affine)" if p.get("gated") else
                                            "" if p["piecewise_linear"] else "  (smooth: regions are gate-sign patterns)"),
        f"folded      W' = W_in·diag(gamma){', rows centred (P·w)' if f['centered'] else ''}, b' = W_in·beta + b_in",
        f"            |w'| max {f['weight_abs_max']}, row norms {f['row_norm_min']} … {f['row_norm_max']}, "
        f"b' in [{f['bias_min']}, {f['bias_max']}], zero rows {f['zero_rows']}",
        f"sha256      {p['sha256']}",
    ]
    return "\n".join(lines)


def run_show(args) -> int:
    from geomcheck.io.resolve import load_model

    block = load_model(args.model)
    emit(args, summary(block), _human)
    return 0


def run_export(args) -> int:
    from geomcheck.io.modelfile import dump_model
    from geomcheck.io.resolve import load_model

    print(dump_model(load_model(args.model)))
    return 0
