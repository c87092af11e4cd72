"""Getting models and vectors in and out: JSON exchange format, npz, toy models,
vector specs. Heavy libraries (numpy for .npy/.npz, torch, transformers) are
imported inside the functions that need them."""

from geomcheck.io.modelfile import block_from_dict, block_to_dict, dump_model, load_model_file, model_sha256
from geomcheck.io.resolve import load_model

__all__ = ["load_model", "load_model_file", "block_from_dict", "block_to_dict", "dump_model", "model_sha256"]
