"""Activations, one class each, registered by name.

For ReLU a sign pattern of the pre-activations fixes one affine map. For GELU
(exact erf) and GELU-tanh the block is smooth: geomcheck's "regions" are then
the sign patterns of the pre-activations (the gates), and the map between two
gate changes is *not* affine; ``piecewise_linear`` says which case applies.
"""

from __future__ import annotations

import math
from typing import ClassVar

__all__ = ["Activation", "ReLU", "GELU", "GELUTanh", "ACTIVATIONS", "get_activation"]


class Activation:
    """φ applied elementwise to the pre-activations."""

    name: ClassVar[str]
    piecewise_linear: ClassVar[bool]

    def scalar(self, h: float) -> float:  # float evaluation, for cross-checks only
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    name = "relu"
    piecewise_linear = True

    def scalar(self, h: float) -> float:
        return h if h > 0 else 0.0


class GELU(Activation):
    """x·Φ(x) with the exact error function (BERT, PyTorch's default)."""

    name = "gelu"
    piecewise_linear = False

    def scalar(self, h: float) -> float:
        return 0.5 * h * (1.0 + math.erf(h / math.sqrt(2.0)))


class GELUTanh(Activation):
    """GPT-2's ``gelu_new``: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""

    name = "gelu_tanh"
    piecewise_linear = False

    def scalar(self, h: float) -> float:
        return 0.5 * h * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h**3)))


ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in (ReLU, GELU, GELUTanh)}
_ALIASES = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_erf": "gelu"}


def get_activation(name: str) -> Activation:
    from geomcheck.errors import ModelFormatError

    key = _ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise ModelFormatError(f"activation: unknown {name!r} (known: {', '.join(sorted(ACTIVATIONS))})")
    return ACTIVATIONS[key]()
