"""Embedders: one interface, one class per backend; `load_embedders` turns a spec into instances."""

from .base import Embedder
from .registry import DEFAULT_SPEC, describe_spec, embedder_ids, load_embedders, partial_embedders, prepare_embedders, spec_of

__all__ = ["Embedder", "DEFAULT_SPEC", "describe_spec", "embedder_ids", "load_embedders", "partial_embedders",
           "prepare_embedders", "spec_of"]
