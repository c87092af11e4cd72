"""Certificates that name their model by sha256 instead of embedding it (docs/certificates.md).

A ``geomcheck.cert/1`` certificate may omit ``"model"`` and keep only
``"model_sha256"``; the checker then needs the exchange object separately
(``check_certificate(cert, model=...)``, ``geomcheck check CERT --model MODEL``)
and refuses a model whose canonical hash differs. Several certificates about
one block can share one model file: the MiniLM ray certificate is 32 MB with
the model embedded and 1.7 MB without it.

Untrusted side: these helpers only move JSON around; the checker re-derives
everything, including the hash.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["detach_model", "attach_model", "write_model", "write_detached"]


def detach_model(cert: dict) -> tuple[dict, dict]:
    """(the certificate without ``"model"``, the model); ``cert`` itself is left unchanged."""
    if "model" not in cert:
        raise ValueError("the certificate embeds no model")
    return {k: v for k, v in cert.items() if k != "model"}, cert["model"]


def attach_model(cert: dict, model: dict) -> dict:
    """The self-contained form again (the checker still compares the hash)."""
    return {**cert, "model": model}


def write_model(model: dict, path: str | Path) -> str:
    """Write the exchange object to ``path``; return its canonical sha256 (geomcheck.io's definition)."""
    from geomcheck.io import block_from_dict, model_sha256

    digest = model_sha256(block_from_dict(model))
    Path(path).write_text(json.dumps(model, separators=(",", ":")), encoding="utf-8")
    return digest


def write_detached(certificates: dict[str | Path, dict], model_path: str | Path) -> str:
    """Write each certificate (``{path: cert}``) without its model, and the one shared model to
    ``model_path``; every certificate must be about that model. Returns the model's sha256."""
    certs = list(certificates.items())
    if not certs:
        raise ValueError("no certificates to write")
    hashes = {cert["model_sha256"] for _, cert in certs}
    if len(hashes) != 1:
        raise ValueError("the certificates are about different models; one model file holds one model")
    model = next((cert["model"] for _, cert in certs if "model" in cert), None)
    if model is None:
        raise ValueError("no certificate embeds the model")
    digest = write_model(model, model_path)
    if digest not in hashes:
        raise ValueError("the embedded model does not hash to the certificates' model_sha256")
    for path, cert in certs:
        Path(path).write_text(json.dumps({k: v for k, v in cert.items() if k != "model"}, separators=(",", ":")),
                              encoding="utf-8")
    return digest
