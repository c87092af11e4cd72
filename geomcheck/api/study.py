"""``geomcheck study`` as a function: a real model's study as a :class:`~geomcheck.results.Result`.

Every count in the study is computed exactly, but no certificate is built per
row, so the result's verdict (and each row's ``status``) is *estimate*:
:data:`geomcheck.studies.study.ROW_VERDICT` says how to have the checker
verify a row (``geomcheck ray``/``path`` check their certificate in the same run).
The rotation measures (issue 13) are sampled and *estimate* as well.

>>> r = study("minilm", layers=[3], sizes=(4, 4, 6))          # doctest: +SKIP
>>> r.evidence["layers"][0]["rotation"]["summary"]["affine_fit_residual"]  # doctest: +SKIP
"""

from __future__ import annotations

from geomcheck.results import Result

__all__ = ["study", "study_minilm", "study_smollm2"]


def study(model: str, layers=None, *, seed: int = 0, full: bool = False, texts=None, sources=None,
          sae: str | None = None, sizes=None, rotation_samples: int = 401, inputs: str | None = None,
          save_inputs: str | None = None, progress: bool = False, sensitivity: bool = True,
          check_rows: bool = False) -> Result:
    """Study ``model`` (``minilm``, ``smollm2``, a Hugging Face folder or ``.safetensors`` spec with
    ``?layer=N`` or ``{layer}``, any spec with ``{layer}``) over ``layers``."""
    from geomcheck.studies.study import ROW_VERDICT, SOURCES, model_family, run_study

    if model in ("smollm2", "smollm2:"):
        return study_smollm2(layers, seed=seed, full=full)
    payload = run_study(model_family(model), layers, seed=seed, full=full, texts=texts,
                        sources=tuple(sources or SOURCES), sae=sae, sizes=sizes, rotation_samples=rotation_samples,
                        inputs=inputs, save_inputs=save_inputs, progress=progress, sensitivity=sensitivity,
                        check_rows=check_rows)
    return Result("study", ROW_VERDICT, payload)


def study_minilm(layers=None, *, seed: int = 0, full: bool = False, progress: bool = False) -> Result:
    return study("minilm", layers, seed=seed, full=full, progress=progress)


def study_smollm2(layers=None, *, seed: int = 0, full: bool = False) -> Result:
    """The gated study on SmolLM2 (:mod:`geomcheck.studies.gated`: gate patterns, the bias-free
    statement); every row an estimate (no row certificate)."""
    from geomcheck.studies.gated import run_smollm2_study
    from geomcheck.studies.study import ROW_VERDICT

    return Result("study", ROW_VERDICT, run_smollm2_study(layers, seed=seed, full=full))
