"""Catalog reads: the exported variants grouped into models, and the one place that decides which
variant serves a collection (its model and precision)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from semantik.inference.base import ModelNotFound
from semantik.inference.models import EMBEDDING, PRECISIONS, ModelInfo, list_models
from semantik.inference.runtime import models_readiness
from semantik.inference.tokenization import ModelTokenizer

if TYPE_CHECKING:
    from semantik.collections.models import Collection


class PrecisionNotServed(ModelNotFound):
    """The model is exported, but not in the precision asked for."""


@dataclass(frozen=True)
class CatalogModel:
    """One model and its exported variants (one per precision), best precision first.

    Variants belong together when they come from one source with one shape (dimension, length,
    pooling, prefixes) and are named as the exporter names them: NAME, NAME-int8, NAME-fp16.
    """

    name: str
    variants: tuple[ModelInfo, ...]

    @property
    def first(self) -> ModelInfo:
        return self.variants[0]

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def precisions(self) -> list[str]:
        return [variant.precision_name for variant in self.variants]

    def variant(self, precision: str) -> ModelInfo | None:
        return next((v for v in self.variants if v.precision_name == precision), None)


@dataclass(frozen=True)
class ServedModel:
    """A model at a precision, and the exported variant that serves it."""

    model: str
    precision: str
    info: ModelInfo

    @property
    def name(self) -> str:
        """The served (Triton) model name, e.g. all-minilm-l6-v2-int8."""
        return self.info.name


def _base_name(info: ModelInfo) -> str:
    """The model a variant belongs to: its name without the exporter's precision suffix."""
    if info.precision_name != "float32":
        for suffix in (f"-{info.precision}", f"-{info.precision_name}"):
            if info.name.endswith(suffix) and len(info.name) > len(suffix):
                return info.name[: -len(suffix)]
    return info.name


def _shape(info: ModelInfo) -> tuple[object, ...]:
    return (
        info.kind,
        info.source,
        info.dimension,
        info.max_length,
        info.pooling,
        info.query_prefix,
        info.document_prefix,
        info.activation,
    )


def _precision_rank(info: ModelInfo) -> int:
    name = info.precision_name
    return PRECISIONS.index(name) if name in PRECISIONS else len(PRECISIONS)


def catalog_models(kind: str | None = None) -> list[CatalogModel]:
    """Every model in the repository (of one kind, if given), by name, each with its variants."""
    infos = sorted(
        list_models(settings.MODEL_REPOSITORY, kind=kind), key=lambda i: (_precision_rank(i), i.name)
    )
    groups: dict[str, list[ModelInfo]] = {}
    for info in infos:
        base = _base_name(info)
        group = groups.get(base)
        if (
            group is not None
            and _shape(group[0]) == _shape(info)
            and info.precision_name not in (v.precision_name for v in group)
        ):
            group.append(info)
        else:
            # A variant that does not fit its namesake (another source or shape) stands alone.
            groups.setdefault(base if group is None else info.name, []).append(info)
    return [CatalogModel(name, tuple(variants)) for name, variants in sorted(groups.items())]


def _listing(models: list[CatalogModel]) -> str:
    return ", ".join(f"{m.name} ({', '.join(m.precisions)})" for m in models) or "none (run `make models`)"


def _resolve(name: str, precision: str | None, *, variant_name_wins: bool) -> ServedModel:
    models = catalog_models(EMBEDDING)
    model = next((m for m in models if m.name == name), None)
    if model is None:
        for candidate in models:
            for named in candidate.variants:
                if named.name != name:
                    continue
                if precision and precision != named.precision_name and not variant_name_wins:
                    raise PrecisionNotServed(
                        f"{name!r} is the {named.precision_name} variant of {candidate.name!r}; "
                        f"for {precision} ask for {candidate.name!r} (precisions: "
                        f"{', '.join(candidate.precisions)})"
                    )
                return ServedModel(candidate.name, named.precision_name, named)
        raise ModelNotFound(
            f"Embedding model {name!r} is not in the model repository; available: {_listing(models)}"
        )
    wanted = precision or settings.DEFAULT_QUANTIZATION
    variant = model.variant(wanted)
    if variant is None:
        raise PrecisionNotServed(
            f"{model.name!r} is not exported in {wanted}; its precisions: {', '.join(model.precisions)}. "
            f"Export it with `python scripts/export_model.py {model.first.source} --name {model.name} "
            f"--precision {_export_precision(wanted)}`"
        )
    return ServedModel(model.name, wanted, variant)


def _export_precision(precision: str) -> str:
    return {"float32": "fp32", "float16": "fp16"}.get(precision, precision)


def served_model(name: str, precision: str | None = None) -> ServedModel:
    """The embedding variant that serves model `name` at `precision` (default: DEFAULT_QUANTIZATION).

    `name` is a catalog model ("all-minilm-l6-v2") or one variant's own name
    ("all-minilm-l6-v2-int8"), which fixes the precision. Raises ModelNotFound listing the
    models, or PrecisionNotServed listing the model's precisions.
    """
    return _resolve(name, precision, variant_name_wins=False)


def model_variant(name: str) -> ModelInfo:
    """A variant of model `name` for what its precisions share (tokenizer, prefixes, lengths).

    The DEFAULT_QUANTIZATION variant when there is one; any precision will do otherwise.
    """
    try:
        return served_model(name).info
    except PrecisionNotServed:
        return next(m for m in catalog_models(EMBEDDING) if m.name == name).first


def collection_model(collection: Collection) -> ModelInfo:
    """The exported variant whose vectors fill this collection; indexing and search both ask here.

    A collection made before precisions existed may name a variant itself: that variant it is.
    """
    return _resolve(collection.embedding_model, collection.precision, variant_name_wins=True).info


@functools.lru_cache(maxsize=32)
def _prefix_tokens(model_dir: Path, prefix: str) -> int:
    return ModelTokenizer(model_dir).count_tokens(prefix)


def document_max_length(info: ModelInfo) -> int:
    """Tokens a chunk may take, special tokens included, once the model's document prefix is in front."""
    if not info.document_prefix:
        return info.max_length
    return info.max_length - _prefix_tokens(info.path, info.document_prefix)


def catalog_readiness(models: list[CatalogModel]) -> dict[str, str]:
    """Why each variant of these models cannot serve now, by variant name ("" when it is ready)."""
    return models_readiness([variant for model in models for variant in model.variants])
