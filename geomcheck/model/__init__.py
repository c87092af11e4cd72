"""The MLP block as an exact mathematical object (trusted layer, stdlib only)."""

from geomcheck.model.activations import ACTIVATIONS, Activation, get_activation
from geomcheck.model.block import FoldedBlock, MLPBlock
from geomcheck.model.norms import NORMALIZATIONS, Normalization, make_normalization

__all__ = [
    "MLPBlock",
    "FoldedBlock",
    "Normalization",
    "NORMALIZATIONS",
    "make_normalization",
    "Activation",
    "ACTIVATIONS",
    "get_activation",
]
