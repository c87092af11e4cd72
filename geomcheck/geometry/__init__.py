"""Geometry of the block's regions along paths (trusted layer, stdlib only)."""

from geomcheck.geometry.paths import (
    Crossing,
    PathAnalysis,
    PathSpec,
    PathThroughUndefined,
    Segment,
    analyse_path,
)

__all__ = ["PathSpec", "Crossing", "Segment", "PathAnalysis", "PathThroughUndefined", "analyse_path"]
