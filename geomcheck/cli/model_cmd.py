"""``geomcheck model show MODEL [--json]`` and ``geomcheck model export MODEL``."""

from __future__ import annotations

from geomcheck.cli.common import Stages, add_json_flag, add_model_argument, add_progress_flag, emit
from geomcheck.exact.rationals import format_rational


def register(subparsers) -> None:
    model = subparsers.add_parser("model", help="inspect or export a model")
    actions = model.add_subparsers(dest="model_action", metavar="ACTION")
    show = actions.add_parser("show", help="dimensions, normalization, activation and folded-weight summary")
    add_model_argument(show)
    add_json_flag(show)
    add_progress_flag(show)
    show.set_defaults(run=run_show)
    export = actions.add_parser("export", help="print the model in the exact JSON exchange format")
    add_model_argument(export)
    export.set_defaults(run=run_export)
    model.set_defaults(run=lambda args: (model.print_help(), 2)[1])


def _zero_rows(block, arrays) -> int:
    """How many folded rows w̃_i are exactly zero.

    A row whose float copy has an entry beyond its rigorous error bound (one rounding,
    u·|x| + η, plus the row's ``folded_w_err``) is certainly nonzero; the few others
    are decided on the exact folded row.
    """
    import numpy as np

    err = np.broadcast_to(np.asarray(arrays.folded_w_err, dtype=np.float64), (block.n,))
    biggest = np.abs(arrays.folded_w).max(axis=1)
    certainly_nonzero = biggest * (1 - 2.0**-52) - 2.0**-1073 > 2 * err
    return sum(1 for i in np.flatnonzero(~certainly_nonzero) if not any(block.folded.weights[int(i)]))


def summary(block) -> dict:
    """What ``model show`` prints: sizes, norm, activation, the canonical sha256 and folded-weight ranges.

    The ranges are display values (6 digits) read from the float64 copies of the folded
    weights; the count of zero rows is exact (:func:`_zero_rows`).
    """
    import numpy as np  # lazily: `geomcheck check` must start without numpy

    from geomcheck.io.modelfile import model_sha256
    from geomcheck.search.floats import float_arrays

    arrays = float_arrays(block)
    row_norms = np.sqrt((arrays.folded_w ** 2).sum(axis=1))
    g = lambda x: f"{float(x):.6g}"  # noqa: E731
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
            "centered": block.norm.centers,
            "weight_abs_max": g(arrays.abs_folded_w.max()),
            "row_norm_min": g(row_norms.min()),
            "row_norm_max": g(row_norms.max()),
            "bias_min": g(arrays.folded_b.min()),
            "bias_max": g(arrays.folded_b.max()),
            "zero_rows": _zero_rows(block, arrays),
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

    with Stages(args, "load model", "hash + summary") as stages:
        block = load_model(args.model)
        stages.next()
        payload = summary(block)
        stages.next()
    emit(args, payload, _human)
    return 0


def run_export(args) -> int:
    from geomcheck.io.modelfile import dump_model
    from geomcheck.io.resolve import load_model

    print(dump_model(load_model(args.model)))
    return 0
