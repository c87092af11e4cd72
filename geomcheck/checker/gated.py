"""Gated models (``w_up``, ``b_up``; docs/certificates.md): ``w_in``/``b_in`` are the gate, whose sign patterns
every kind checks. The block is bilinear on a gate region (no affine map), so ``map_changes`` is: some neuron
changing sign has W_down[:, i] ≠ 0 and a nonzero up part (P·(u_i ⊙ γ), u_i·β + b_up,i)."""
from geomcheck.checker.arith import dot, int_vector
from geomcheck.checker.errors import require


def hash_parts(model: dict, activation: str, kind: str, n: int, d: int, text) -> tuple[str, str]:
    """Canonical ``"b_up":[…],`` (after b_out) and ending ``],"w_up":[…]}`` (after w_out); plain: ("", "]}").
    ``text(values, where, length)``: the core's reader, (entries, JSON text)."""
    gated = "w_up" in model
    require(gated == ("b_up" in model) and (activation in ("relu", "gelu", "silu") and kind != "dyt" if gated else
            activation != "silu"), "model.w_up", "a gated block has w_up and b_up, a relu/gelu/silu gate, no dyt")
    require(not gated or type(model["w_up"]) is list and len(model["w_up"]) == n, "model.w_up", f"expected {n} rows")
    rows = ",".join(text(r, f"model.w_up[{i}]", d)[1] for i, r in enumerate(model.get("w_up", [])))
    return (f'"b_up":{text(model["b_up"], "model.b_up", n)[1]},', f'],"w_up":[{rows}]}}') if gated else ("", "]}")


def attach(checked, model: dict, g: list, be: list, bd: int, centres: bool) -> None:
    """Gated: ``up_live`` and the gated ``map_changes`` (γ, β as integers: positive scales, same zero tests)."""
    if "w_up" in model:
        (bias, bias_den), live = int_vector(model["b_up"], "model.b_up", checked.limit), []
        for i, (row, b) in enumerate(zip(model["w_up"], bias)):
            a, den = int_vector(row, f"model.w_up[{i}]", checked.limit)
            scaled = [x * y for x, y in zip(a, g)]
            live.append((len(set(scaled)) > 1 if centres else any(scaled)) or bias_den * dot(a, be) + b * den * bd != 0)
        checked.up_live, checked.map_changes = live, lambda flips: any(checked.live[i] and live[i] for i in flips)
