"""Hypothesis profiles: ``ci`` (default, bounded), ``dev`` (fewer), ``thorough``.

Select with HYPOTHESIS_PROFILE=thorough pytest -m "slow or not slow".
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Claims on trained weights (proofs/10-trained-weights.json) take about a minute: the default run
# reports them skipped; tests marked `models` run them (tests/test_trained_claims.py).
os.environ.setdefault("GEOMCHECK_SKIP_MODEL_CLAIMS", "1")
