"""The study as one self-contained HTML file (``geomcheck study … --report out.html``).

Everything is inside the file: figures as base64 PNG ``data:`` URIs, tables, the
verdicts with what backs them, the inputs' and weights' sha256, the command line
and geomcheck's version. No scripts, no external CSS or fonts: it opens offline,
in any browser, for a reader who did not run the study.
"""

from __future__ import annotations

import base64
import html
import json

__all__ = ["render_report"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d1d1f;background:#fff;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;
text-align:right}th{background:#f3f3f6}td.l,th.l{text-align:left}
.answer{background:#eef6ff;border-left:4px solid #2a6fdb;padding:.8em 1em}
.verdict{font-weight:600}.estimate{color:#8a5a00}.muted{color:#666;font-size:.9em}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#444;font-size:.9em}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em}pre{background:#f6f6f8;padding:.6em;
overflow-x:auto;white-space:pre-wrap;word-break:break-all}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _num(x, spec=".3g") -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return str(x)
    return format(x, spec)


def _range(stats: dict | None, spec=".3g") -> str:
    if not stats or not stats.get("count"):
        return "–"
    return f"{_num(stats['median'], spec)} [{_num(stats['min'], spec)} – {_num(stats['max'], spec)}]"


def _table(head: list[str], rows: list[list], left: int = 1) -> str:
    out = ["<table><tr>" + "".join(f"<th class='l'>{_e(h)}</th>" if j < left else f"<th>{_e(h)}</th>"
                                   for j, h in enumerate(head)) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td class='l'>{_e(c)}</td>" if j < left else f"<td>{_e(c)}</td>"
                                    for j, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _sens(s: dict | None) -> str:
    if not s:
        return "–"
    if s.get("stable_digits") is None:
        return "unchanged by one-ulp moves"
    return f"moves by {s['max_relative_change']:.2g} (relative); {s['stable_digits']} stable digit(s)"


def render_report(payload: dict, figures: list[tuple[str, str, bytes]], *, command: str, version: str) -> str:
    """The HTML text. ``figures``: (name, caption, PNG bytes), embedded as data URIs."""
    layers = payload["layers"]
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>geomcheck study: {_e(payload['model'])}</title><style>{CSS}</style></head><body>",
             f"<h1>geomcheck study: {_e(payload['model'])}</h1>",
             f"<p class='muted'>{_e(', '.join(_lbl(L) for L in layers))}; seed {payload['seed']}"
             f"{', full sample' if payload['full'] else ''}; {len(payload['texts'])} text(s); direction sources: "
             f"{_e(', '.join(payload.get('sources', [])))}.</p>",
             "<h2>The answer</h2>",
             "<p>The question: when a LayerNormed vector x is rotated toward a direction d, how smoothly does the MLP "
             "block's output change? (A single linear region would make the output exactly "
             "c₀ + c₁cos θ + c₂sin θ along the rotation.)</p>",
             f"<p class='answer'>{_e(payload.get('answer', ''))}</p>",
             "<h2>Verdicts and what backs them</h2>",
             f"<p><span class='verdict estimate'>status: {_e(payload.get('status', ''))}</span> — "
             + (f"checked by the trusted checker ({_e(payload.get('certificate_kind'))} certificate): "
                if payload.get("checked") else "no certificate checked: ")
             + f"{_e(payload.get('checker') or '')}</p>",
             "<ul><li><b>Counts</b> (gate flips along rays and paths, critical norms, the no-normalization "
             "counterfactual) are computed exactly in rational arithmetic by the path engine; no certificate was "
             "checked for these rows, so they are labelled <i>estimate</i>. To have the trusted checker verify a row, "
             "run <code>geomcheck ray</code> / <code>geomcheck path</code> on it (they check in the same run).</li>"
             "<li><b>Output measures</b> along rotations (affine-fit residual, tangent-error angles, speed, curvature, "
             "gate transition widths) are sampled in float64: <i>estimate</i>, with the sampling stated.</li>"
             f"<li>{_e(payload.get('note', ''))}.</li></ul>"]

    parts.append("<h2>(a) Rays t·v, t &gt; 0</h2>")
    parts.append("<p>At ε = 0 every ray is region-constant (the crossing polynomial is c·t²). At the model's ε "
                 "each direction has an exact critical centred norm r below which the ray changes gate pattern; "
                 "real tokens' norms are shown beside it.</p>")
    parts.append(_table(["layer", "ε", "directions", "largest r", "sensitivity of largest r",
                         "token ‖Px‖ median [min – max]", "tokens ≤ largest r"],
                        [[_lbl(L), _eps(L["rays"]["eps"]), L["rays"]["directions"], _num(L["rays"]["max_r"]),
                          _sens(L["rays"].get("max_r_sensitivity")), _range(L["rays"]["token_centred_norm"]),
                          L["rays"]["tokens_at_or_below_max_r"]] for L in layers]))
    parts.append("<h2>(b) Superposition paths x + λ·d</h2>")
    parts.append(_table(["layer", "pairs", "changes median [min – max]", "pairs with no change",
                         "first change λ·‖d‖/‖x‖ median [min – max]", "sensitivity of the smallest"],
                        [[_lbl(L), L["paths"]["pairs"], _range(L["paths"]["changes"], ".0f"),
                          L["paths"]["pairs_with_no_change"], _range(L["paths"]["first_change_relative"]),
                          _sens(L["paths"].get("first_change_relative_min_sensitivity"))] for L in layers]))
    for L in layers:
        if "rows_checked" in L["paths"]:
            statuses = [q["verdict"]["status"] for q in L["paths"]["per_pair"]]
            parts.append(f"<p>{_e(_lbl(L))}: {L['paths']['rows_checked']} of {L['paths']['pairs']} path rows were "
                         "certified and accepted by the trusted checker in this run ("
                         + _e(", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))))
                         + "; statement: the path is region-constant).</p>")
    parts.append("<h2>(c) Without the normalization (counterfactual)</h2>")
    parts.append(_table(["layer", "directions", "rays crossing ≥ 1 neuron", "flips median [min – max]",
                         "regions median [min – max]"],
                        [[_lbl(L), L["nonorm"]["directions"], L["nonorm"]["polysemantic_rays"],
                          _range(L["nonorm"]["flips"], ".0f"), _range(L["nonorm"]["regions"], ".0f")]
                         for L in layers]))
    parts.append("<h2>(d) The output along rotations of token pairs</h2>")
    rows = []
    for L in layers:
        s = L["rotation"].get("summary") or {}
        pct = (lambda st: None if not st else {k: (100 * v if k != "count" else v) for k, v in st.items()})
        rows.append([_lbl(L), L["rotation"]["pairs"], _range(s.get("angle_total"), ".0f"),
                     _range(s.get("flips"), ".0f"), _range(pct(s.get("affine_fit_residual")), ".1f"),
                     _range(s.get("tangent_error_10%"), ".2g"), _range(s.get("transition_ratio"), ".2g")])
    parts.append(_table(["layer", "rotations", "angle (°)", "gate flips (exact)", "single-region residual (%)",
                         "tangent 10 % off at (°)", "transition width / flip spacing"], rows))
    for L in layers:
        parts.append(f"<p><b>{_e(_lbl(L))}.</b> {_e(L['rotation'].get('answer', ''))}</p>")
    samp = layers[0]["rotation"]["sampling"] if layers else {}
    parts.append(f"<p class='muted'>Sampling: {_e(samp.get('samples'))} points per rotation, "
                 f"{_e(samp.get('grid', ''))}; derivatives in closed form.</p>")

    if figures:
        parts.append("<h2>Figures</h2>")
        for name, caption, png in figures:
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img alt='{_e(caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{_e(caption)} ({_e(name)})</figcaption></figure>")

    inputs = payload.get("inputs", {})
    parts.append("<h2>Inputs and provenance</h2>")
    prov = [["command", command], ["geomcheck version", version], ["model spec", payload.get("spec", "")],
            ["inputs sha256 (token activations + random directions)", inputs.get("sha256", "")]]
    if inputs.get("written"):
        prov.append(["inputs written to", inputs["written"]])
    if inputs.get("from_file"):
        prov.append(["re-run from inputs file", inputs["from_file"]])
    for layer, digest in (inputs.get("layers") or {}).items():
        prov.append([f"inputs sha256, layer {layer}", digest])
    for name, digest in (payload.get("weights_sha256") or {}).items():
        prov.append([f"weights sha256 ({name})", digest])
    parts.append(_table(["", ""], prov, left=2))
    parts.append("<p>Texts:</p><pre>" + _e("\n".join(payload["texts"])) + "</pre>")
    parts.append("<details><summary>The full JSON result</summary><pre>"
                 + _e(json.dumps(payload, indent=1, default=str)) + "</pre></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _lbl(L: dict) -> str:
    return L.get("label") or L["layer"]


def _eps(text: str) -> str:
    """ε for display: 1e-12 rather than 1/1000000000000 (the exact value is in the JSON)."""
    from fractions import Fraction

    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return text
    return text if len(text) <= 8 else f"{float(value):.4g}"
