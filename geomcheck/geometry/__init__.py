"""Trusted geometry (standard library only): exact crossings along paths, the normalization sphere, regions, caps."""

from geomcheck.geometry.paths import (
    Crossing,
    PathAnalysis,
    PathSpec,
    PathThroughUndefined,
    Segment,
    analyse_path,
)

__all__ = ["PathSpec", "Crossing", "Segment", "PathAnalysis", "PathThroughUndefined", "analyse_path"]
