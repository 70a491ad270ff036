"""The exported models (embedders and rerankers) in a model repository, as their semantik.json say."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from semantik.inference.base import ModelNotFound

DEFAULT_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL = "all-minilm-l6-v2"
# The same model quantized to int8 for CPUs: about twice as fast, retrieval-grade rather than exact.
DEFAULT_INT8_MODEL = "all-minilm-l6-v2-int8"

METADATA_FILE = "semantik.json"
TOKENIZER_FILE = "tokenizer.json"
TRITON_CONFIG_FILE = "config.pbtxt"
# Triton serves numbered versions; an export always writes version 1 and replaces it whole.
MODEL_VERSION = "1"
ONNX_FILE = "model.onnx"
METADATA_FORMAT = 1
# The export target the embedded Triton (python backend on the CPU) serves; "gpu" and "tensorrt"
# exports need NVIDIA's Triton with its onnxruntime or TensorRT backend on a GPU.
CPU_TARGET = "cpu"

# What a model does: turn texts into vectors, or score (query, passage) pairs.
EMBEDDING = "embedding"
RERANKER = "reranker"
KINDS = (EMBEDDING, RERANKER)
# The graph's inputs and output, by kind; a reranker takes token_type_ids too when its model has segments.
EMBEDDING_INPUTS = ("input_ids", "attention_mask")
EMBEDDING_OUTPUT = "embedding"
RERANKER_OUTPUT = "logits"

# The exporter records precisions as fp32/fp16/int8; the API and collections speak of
# float32/float16/int8. Either spelling is understood wherever a precision is read.
PRECISION_NAMES = {"fp32": "float32", "fp16": "float16", "int8": "int8"}
PRECISIONS = ("float32", "float16", "int8")


def precision_name(precision: str) -> str | None:
    """The API's name for a precision ("fp32" or "float32" -> "float32"); None when it is not one."""
    value = precision.strip().lower()
    return PRECISION_NAMES.get(value) or (value if value in PRECISIONS else None)


def describe_kind(kind: str) -> str:
    """ "an embedding model" or "a reranker", for messages."""
    return {EMBEDDING: "an embedding model", RERANKER: "a reranker"}.get(kind, f"a {kind} model")


@dataclass(frozen=True)
class ModelInfo:
    """One exported model as recorded in its semantik.json.

    For an embedder `dimension` is the vector width and `output` is "embedding"; for a reranker
    `dimension` is 1 (one logit per pair), `output` is "logits", `pooling` is "none" (the model's
    own classification head pools) and `activation` is what the model's authors apply to the logit
    to get a score ("sigmoid" or "identity").
    """

    name: str
    dimension: int
    max_length: int
    pooling: str
    precision: str
    target: str
    source: str
    path: Path
    kind: str = EMBEDDING
    normalize: bool = True
    query_prefix: str | None = None
    document_prefix: str | None = None
    onnx_sha256: str | None = None
    max_batch_size: int = 64
    inputs: tuple[str, ...] = EMBEDDING_INPUTS
    output: str = EMBEDDING_OUTPUT
    activation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def precision_name(self) -> str:
        """The precision as the API names it: float32, float16 or int8."""
        return precision_name(self.precision) or self.precision

    @property
    def onnx_path(self) -> Path:
        return self.path / MODEL_VERSION / ONNX_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE

    def to_json(self) -> dict[str, Any]:
        """The semantik.json document; the path is where the file lies, so it is not stored."""
        data = asdict(self)
        del data["path"]
        extra = data.pop("extra")
        return {"format": METADATA_FORMAT, **data, **extra}

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path) -> ModelInfo:
        known = {f for f in cls.__dataclass_fields__ if f not in ("path", "extra")}
        missing = {
            "name",
            "dimension",
            "max_length",
            "pooling",
            "precision",
            "target",
            "source",
        } - data.keys()
        if missing:
            raise ModelNotFound(
                f"{path / METADATA_FILE} lacks {', '.join(sorted(missing))}; re-export the model"
            )
        if data.get("kind", EMBEDDING) not in KINDS:
            raise ModelNotFound(
                f"{path / METADATA_FILE} describes a {data['kind']!r} model; "
                f"this version of Semantik knows {', '.join(KINDS)}"
            )
        extra = {k: v for k, v in data.items() if k not in known and k != "format"}
        fields = {k: v for k, v in data.items() if k in known}
        if "inputs" in fields:
            fields["inputs"] = tuple(fields["inputs"])
        return cls(path=path, extra=extra, **fields)


def load_model_info(model_dir: Path) -> ModelInfo:
    """Read `<model_dir>/semantik.json`, raising ModelNotFound with the fix when it is missing."""
    model_dir = Path(model_dir)
    metadata = model_dir / METADATA_FILE
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotFound(
            f"{model_dir} holds no exported model ({METADATA_FILE} is missing); "
            "export one with `python scripts/export_model.py` (or `make models`)"
        ) from None
    except json.JSONDecodeError as exc:
        raise ModelNotFound(f"{metadata} is not valid JSON ({exc}); re-export the model") from None
    return ModelInfo.from_json(data, model_dir)


def write_model_info(info: ModelInfo) -> None:
    path = info.path / METADATA_FILE
    path.write_text(json.dumps(info.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def list_models(repository: Path, kind: str | None = None) -> list[ModelInfo]:
    """Every exported model in the repository (of one kind, if given), by name.

    Folders without semantik.json are skipped.
    """
    repository = Path(repository)
    if not repository.is_dir():
        return []
    models = []
    for child in sorted(repository.iterdir()):
        # Hidden folders are exports in progress (see export.py); they are not models yet.
        if child.name.startswith(".") or not (child / METADATA_FILE).is_file():
            continue
        info = load_model_info(child)
        if kind is None or info.kind == kind:
            models.append(info)
    return models


def find_model(repository: Path, name: str) -> ModelInfo:
    model_dir = Path(repository) / name
    if not (model_dir / METADATA_FILE).is_file():
        available = ", ".join(m.name for m in list_models(repository)) or "none"
        raise ModelNotFound(
            f"model '{name}' is not exported in {repository} (available: {available}); "
            f"export it with `python scripts/export_model.py SOURCE --name {name}`"
        )
    return load_model_info(model_dir)
