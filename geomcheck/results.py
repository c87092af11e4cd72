"""Results as objects: what every command returns before the CLI formats it.

A :class:`Result` holds the command's evidence (a JSON-ready dict whose keys
are the documented ``--json`` keys), the :class:`~geomcheck.verdicts.Verdict`
that :func:`geomcheck.verdicts.gate` gave it, and the certificate that
verdict rests on (``None`` when no certificate kind backs the result: then the
verdict is *estimate*). ``status`` is always the verdict's status: no command
sets it any other way.

``to_json()`` adds the gate's keys to the evidence: ``status``, ``checked``
(true only when the trusted checker accepted the certificate in this run),
``certificate_kind`` and ``checker`` (the checker's own message).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from geomcheck.errors import InvalidInput
from geomcheck.verdicts import Verdict

__all__ = ["Result", "ResultDisplay", "status_line", "short_patterns", "write_certificate", "verdict_keys", "checker_line", "GATE_PATTERNS_NOTE", "smooth_note"]

# One wording for every command (path, counterexample, study) about smooth activations.
GATE_PATTERNS_NOTE = ("a GELU/SiLU block is smooth, so it is not affine on any region: its sign patterns are gate "
                      "patterns (which neurons' pre-activations are positive), and 'map changes' compares the "
                      "ReLU-gate surrogate maps W_out·D_s·[W' | b']")


def smooth_note(block) -> str | None:
    """:data:`GATE_PATTERNS_NOTE` for a block whose activation is not piecewise linear, else None."""
    if hasattr(block, "gate_flips_live"):  # a gated block (geomcheck.model.gated) has its own wording
        from geomcheck.model.gated import GATED_PATTERN_NOTE

        return GATED_PATTERN_NOTE
    return None if block.activation.piecewise_linear else GATE_PATTERNS_NOTE


def verdict_keys(verdict: Verdict) -> dict[str, Any]:
    """The keys a verdict adds to a JSON object (``status``, ``checked``, ``certificate_kind``, ``checker``)."""
    return verdict.to_json()


_LONG_PATTERN = re.compile(r"[-+*0]{41,}")


def short_patterns(text: str) -> str:
    # a checker message quotes whole sign patterns: 1536 characters on a real layer
    return _LONG_PATTERN.sub(lambda m: f"{m.group()[:24]}…({len(m.group())} neurons)", text)


def checker_line(payload: dict) -> str:
    """The human line that says what backs a JSON payload's status (its gate keys); sign patterns
    longer than 40 are cut (``--json`` has the checker's message in full)."""
    if payload.get("checked"):
        return short_patterns(f"{payload['checker']} ({payload['certificate_kind']} certificate, checked in this run)")
    return short_patterns(f"{payload.get('status', 'estimate')}: {payload.get('checker') or 'no certificate'}")


def status_line(payload: dict) -> str:
    """``STATUS      message`` without saying the status twice (messages often start with it)."""
    status, message = payload.get("status", "estimate"), str(payload.get("message", ""))
    if message.startswith(f"{status}: "):
        message = message[len(status) + 2:]
    return f"{status:<11} {short_patterns(message)}"


def write_certificate(path: str, certificate: dict | None, what: str = "--certificate") -> str:
    """Write ``certificate`` (detached: ``geomcheck check FILE`` re-verifies it) and return ``path``."""
    if certificate is None:
        raise InvalidInput(f"{what}: the result is an estimate, so there is no certificate to write")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(certificate, handle, indent=1)
            handle.write("\n")
    except OSError as exc:
        raise InvalidInput(f"{what}: cannot write {path} ({exc.strerror or exc})") from None
    return path


def _short_text(value: Any, width: int = 80) -> str:
    text = str(value)
    return text if len(text) <= width else f"{text[:width - 1]}…"


def _longest_table(payload: dict) -> tuple[str | None, list]:
    """The payload's longest list of objects (crossings, neurons, …): the table a result has."""
    best: tuple[str | None, list] = (None, [])
    for key, value in payload.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and len(value) > len(best[1]):
            best = (key, value)
    return best


class ResultDisplay:
    """Short ``repr``, ``_repr_html_`` (notebooks) and ``to_pandas()`` for any object with
    ``to_json()`` and ``verdict``: the display never prints a whole real-model result."""

    def write_certificate(self, path: str, what: str = "--certificate") -> str:
        """Write the certificate behind this result (detached: ``geomcheck check FILE`` re-verifies it)."""
        return write_certificate(path, getattr(self, "certificate", None), what)

    def _display_name(self) -> str:
        kind = self.to_json().get("kind") if not getattr(self, "command", "") else None
        return getattr(self, "command", "") or (kind if isinstance(kind, str) else
                                                type(self).__name__.removesuffix("Result").lower())

    def summary(self) -> str:
        """One line: the status, what backs it, and the result's own headline."""
        p = self.to_json()
        parts = []
        if isinstance(p.get("verdict"), str):
            parts.append(p["verdict"])
        for key in ("crossings", "segments", "neuron_list"):
            if isinstance(p.get(key), list):
                parts.append(f"{len(p[key])} {key.replace('_list', 's').replace('segments', 'regions')}")
        if p.get("radius") is not None:
            parts.append(f"radius {p['radius']} rad")
        if isinstance(p.get("feasible"), bool):
            parts.append("feasible" if p["feasible"] else "infeasible")
        if not parts and p.get("message"):
            message = str(p["message"])
            prefix = f"{self.verdict.status}: "
            parts.append(_short_text(message[len(prefix):] if message.startswith(prefix) else message, 100))
        verdict = self.verdict
        backed = f"{verdict.certificate_kind} certificate checked" if verdict.checked else "no checked certificate"
        return f"{verdict.status} ({backed})" + (": " + ", ".join(parts) if parts else "")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._display_name()}: {self.summary()}>"

    def _repr_html_(self) -> str:
        from html import escape

        p = self.to_json()
        rows = []
        for key, value in p.items():
            if isinstance(value, list):
                shown = f"list of {len(value)}" if len(value) > 8 or any(isinstance(v, (dict, list)) for v in value) \
                    else ", ".join(map(str, value))
            elif isinstance(value, dict):
                shown = ", ".join(f"{k}: {_short_text(v, 40)}" for k, v in list(value.items())[:6])
            else:
                shown = _short_text(value, 120)
            rows.append(f"<tr><th style='text-align:left'>{escape(str(key))}</th><td style='text-align:left'>"
                        f"{escape(shown)}</td></tr>")
        key, table = _longest_table(p)
        tail = f"<p><code>.to_pandas()</code>: one row per entry of <code>{escape(key)}</code> ({len(table)})</p>" \
            if key else ""
        return (f"<div><b>{escape(type(self).__name__)}</b> {escape(self._display_name())}: "
                f"<b>{escape(self.summary())}</b><table>{''.join(rows)}</table>{tail}</div>")

    def to_pandas(self, table: str | None = None):
        """The result's main table as a ``pandas.DataFrame``: ``table`` names a ``to_json()`` key
        whose value is a list of objects; by default the crossings when there are any, else the
        longest such list (segments, neurons, …), else one row of the scalar keys."""
        try:
            import pandas as pd
        except ImportError:
            from geomcheck.errors import MissingDependency

            raise MissingDependency("pandas", "notebook", "to_pandas()") from None
        p = self.to_json()
        if table is not None:
            if not isinstance(p.get(table), list):
                raise InvalidInput(f"table: {table!r} is not a list in this result (keys: {', '.join(p)})")
            return pd.DataFrame(p[table])
        if p.get("crossings"):
            return pd.DataFrame(p["crossings"])
        key, rows = _longest_table(p)
        if key is not None:
            return pd.DataFrame(rows)
        return pd.DataFrame([{k: v for k, v in p.items() if not isinstance(v, (list, dict))}])


@dataclass(repr=False)
class Result(ResultDisplay):
    """One command's answer: evidence, the gated verdict, and the certificate behind it."""

    command: str
    verdict: Verdict
    evidence: dict[str, Any] = field(default_factory=dict)
    certificate: dict | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.verdict.status

    def write_certificate(self, path: str, what: str = "--certificate") -> str:
        return write_certificate(path, self.certificate, what)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.evidence)
        out.update(verdict_keys(self.verdict))
        return out
