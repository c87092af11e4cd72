"""``geomcheck study`` as a function: the MiniLM study as a :class:`~geomcheck.results.Result`.

Every count in the study is computed exactly, but no certificate is built per
row, so the result's verdict (and each row's ``status``) is *estimate*:
:data:`geomcheck.search.study.ROW_VERDICT` says how to have the checker
verify a row (``geomcheck ray``/``path`` check their certificate in the same run).
"""

from __future__ import annotations

from geomcheck.results import Result

__all__ = ["study_minilm", "study_smollm2"]


def study_minilm(layers=None, *, seed: int = 0, full: bool = False, progress: bool = False) -> Result:
    from geomcheck.search.study import ROW_VERDICT, run_minilm_study

    payload = run_minilm_study(layers, seed=seed, full=full, progress=progress)
    result = Result("study", ROW_VERDICT, payload)
    return result


def study_smollm2(layers=None, *, seed: int = 0, full: bool = False) -> Result:
    """The gated study on SmolLM2 (:mod:`geomcheck.studies.gated`); every row an estimate (no row certificate)."""
    from geomcheck.search.study import ROW_VERDICT
    from geomcheck.studies.gated import run_smollm2_study

    return Result("study", ROW_VERDICT, run_smollm2_study(layers, seed=seed, full=full))
