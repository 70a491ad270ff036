"""export_model for GPUs: fp16 graphs verified on the CPU, onnxruntime + TensorRT configs, TensorRT plans.

No GPU runs here: configs are checked by parsing them with Triton's own ModelConfig schema, fp16
graphs by running them in ONNX Runtime on the CPU and the model in torch's fp16 arithmetic.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from semantik.inference.export import (
    FP16_MIN_COSINE,
    VERIFIED_FP16_WEIGHTS,
    VERIFIED_GRAPH,
    ExportError,
    VerificationFailed,
    default_target,
    export_model,
)
from semantik.inference.models import ModelInfo, load_model_info
from semantik.inference.onnx import OnnxEmbedder
from semantik.inference.server import TritonServer
from tests.inference.tiny_models import MAX_LENGTH, save_cross_encoder, save_sentence_transformer

KIND_GPU = model_config_pb2.ModelInstanceGroup.KIND_GPU
TYPE_INT64 = model_config_pb2.TYPE_INT64
TYPE_FP32 = model_config_pb2.TYPE_FP32
TEXTS = ["how do i reset my password", "python code to read a file", "semantic search", ""]


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sentence_transformer(tmp_path_factory.mktemp("source") / "tiny-embedder")


@pytest.fixture(scope="module")
def gpu_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gpu_repository")


@pytest.fixture(scope="module")
def fp16(tiny_source: Path, gpu_repository: Path) -> ModelInfo:
    return export_model(tiny_source, gpu_repository, name="tiny-fp16", precision="fp16", target="gpu")


def parse_config(model_dir: Path) -> model_config_pb2.ModelConfig:
    """config.pbtxt read by the protobuf schema Triton itself loads it with."""
    return text_format.Parse((model_dir / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())


def test_fp16_gpu_config_runs_onnx_runtime_with_the_tensorrt_accelerator_in_fp16(fp16: ModelInfo):
    config = parse_config(fp16.path)
    assert config.name == "tiny-fp16"
    assert config.platform == "onnxruntime_onnx"
    assert not config.backend
    (accelerator,) = config.optimization.execution_accelerators.gpu_execution_accelerator
    assert accelerator.name == "tensorrt"
    parameters = dict(accelerator.parameters)
    assert parameters["precision_mode"] == "FP16"
    assert int(parameters["max_workspace_size_bytes"]) >= 1 << 30
    assert parameters["trt_engine_cache_enable"] == "1"
    assert parameters["trt_engine_cache_path"].endswith("/tiny-fp16")
    # One engine spans every shape a request can have: batch 1..64, sequence 1..the model's max length.
    assert parameters["trt_profile_min_shapes"] == "input_ids:1x1,attention_mask:1x1"
    assert parameters["trt_profile_max_shapes"] == f"input_ids:64x{MAX_LENGTH},attention_mask:64x{MAX_LENGTH}"


def test_fp16_gpu_config_batches_on_gpu_instances_and_warms_up_before_it_is_ready(fp16: ModelInfo):
    config = parse_config(fp16.path)
    assert config.max_batch_size == 64
    assert [group.kind for group in config.instance_group] == [KIND_GPU]
    assert config.instance_group[0].count >= 1
    assert config.HasField("dynamic_batching")
    assert list(config.dynamic_batching.preferred_batch_size) == [16, 32, 64]
    # Clients need no change: int64 ids in, float32 vectors out, as for the CPU exports.
    assert [(i.name, i.data_type, list(i.dims)) for i in config.input] == [
        ("input_ids", TYPE_INT64, [-1]),
        ("attention_mask", TYPE_INT64, [-1]),
    ]
    assert [(o.name, o.data_type, list(o.dims)) for o in config.output] == [("embedding", TYPE_FP32, [32])]
    largest, query = config.model_warmup
    assert (largest.batch_size, query.batch_size) == (64, 1)
    for warmup, length in ((largest, MAX_LENGTH), (query, 16)):
        assert set(warmup.inputs) == {"input_ids", "attention_mask"}
        for tensor in warmup.inputs.values():
            assert (tensor.data_type, list(tensor.dims), tensor.zero_data) == (TYPE_INT64, [length], True)


def test_fp16_graph_holds_fp16_weights_in_plain_onnx_operators_with_int64_in_and_float32_out(fp16: ModelInfo):
    import onnx

    graph = onnx.load(str(fp16.onnx_path)).graph
    weights = [
        t for t in graph.initializer if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
    ]
    assert weights and all(t.data_type == onnx.TensorProto.FLOAT16 for t in weights)
    # TensorRT compiles standard operators only: no ONNX Runtime contrib fusions for the GPU.
    assert {node.domain for node in graph.node} <= {"", "ai.onnx"}
    assert "Attention" not in {node.op_type for node in graph.node}
    session = ort.InferenceSession(str(fp16.onnx_path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [
        ("input_ids", "tensor(int64)"),
        ("attention_mask", "tensor(int64)"),
    ]
    assert [(o.name, o.type) for o in session.get_outputs()] == [("embedding", "tensor(float)")]


def test_fp16_export_records_its_precision_target_and_how_it_was_verified(fp16: ModelInfo):
    metadata = json.loads((fp16.path / "semantik.json").read_text())
    assert (metadata["precision"], metadata["target"], metadata["fusions"]) == ("fp16", "gpu", {})
    verification = metadata["verification"]
    assert verification["method"] == VERIFIED_GRAPH
    assert verification["texts"] == 8
    assert verification["min_cosine"] >= FP16_MIN_COSINE
    assert verification["fp16_arithmetic"] >= FP16_MIN_COSINE
    assert fp16.precision_name == "float16"


def test_fp16_export_installs_only_what_triton_loads(fp16: ModelInfo, gpu_repository: Path):
    assert sorted(p.relative_to(fp16.path).as_posix() for p in fp16.path.rglob("*")) == [
        "1",
        "1/model.onnx",
        "config.pbtxt",
        "semantik.json",
        "tokenizer.json",
    ]
    assert [p.name for p in gpu_repository.iterdir() if p.name.startswith(".")] == []


def test_fp16_vectors_match_the_fp32_export(fp16: ModelInfo, tiny_source: Path, tmp_path: Path):
    fp32 = export_model(tiny_source, tmp_path, name="tiny")
    half = OnnxEmbedder(fp16.path).embed(TEXTS)
    full = OnnxEmbedder(fp32.path).embed(TEXTS)
    assert half.dtype == np.float32
    assert np.min(np.sum(half * full, axis=1)) >= FP16_MIN_COSINE


def test_an_fp16_graph_onnx_runtime_cannot_run_is_verified_by_its_weights(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # This ONNX Runtime runs fp16 graphs on the CPU; builds without those kernels refuse to load
    # them. That refusal is stood in for here: the fp16 graph (model.onnx) fails to load.
    import semantik.inference.onnx as onnx_runtime

    real = onnx_runtime.create_session

    def create_session(path: Path, **options: object) -> object:
        if Path(path).name == "model.onnx":
            raise RuntimeError("NOT_IMPLEMENTED: Could not find an implementation for MatMul(13) (float16)")
        return real(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(onnx_runtime, "create_session", create_session)
    info = export_model(tiny_source, tmp_path, name="tiny-fp16", precision="fp16", target="gpu")

    verification = json.loads((info.path / "semantik.json").read_text())["verification"]
    assert verification["method"] == VERIFIED_FP16_WEIGHTS
    assert verification["min_cosine"] >= FP16_MIN_COSINE
    # The scratch graphs of the verification are not installed.
    assert sorted(p.name for p in info.path.iterdir()) == [
        "1",
        "config.pbtxt",
        "semantik.json",
        "tokenizer.json",
    ]


def test_a_model_whose_activations_overflow_fp16_is_refused_and_nothing_is_installed(tmp_path: Path):
    import torch
    from safetensors.torch import load_file, save_file

    source = save_sentence_transformer(tmp_path / "loud")
    weights_file = source / "model.safetensors"
    weights = load_file(str(weights_file))
    # The first layer's output scaled to thousands: the next layer's attention products pass
    # fp16's largest value, 65504, while fp32 holds them (and the next LayerNorm tames them).
    for key in [k for k in weights if k.endswith("layer.0.output.LayerNorm.weight")]:
        weights[key] = torch.full_like(weights[key], 5000.0)
    save_file(weights, str(weights_file))
    repository = tmp_path / "repository"

    # ONNX Runtime runs this graph partly in fp16 on the CPU, so either check may be the one to refuse it.
    with pytest.raises(VerificationFailed, match=r"\(fp16\) does not match|does not survive fp16 arithmetic"):
        export_model(source, repository, name="loud-fp16", precision="fp16", target="gpu")
    assert list(repository.iterdir()) == []


def test_a_fp16_reranker_exports_for_the_gpu_with_its_logits_output(tmp_path: Path):
    source = save_cross_encoder(tmp_path / "tiny-reranker")
    info = export_model(
        source, tmp_path / "repository", name="tiny-reranker-fp16", precision="fp16", target="gpu"
    )
    config = parse_config(info.path)
    assert config.platform == "onnxruntime_onnx"
    assert [(o.name, list(o.dims)) for o in config.output] == [("logits", [1])]
    assert [i.name for i in config.input] == list(info.inputs)
    verification = json.loads((info.path / "semantik.json").read_text())["verification"]
    assert verification["correlation"] >= 0.999
    assert verification["fp16_arithmetic"] >= 0.999


def test_fp32_for_the_gpu_keeps_tensorrt_in_fp32(tiny_source: Path, tmp_path: Path):
    info = export_model(tiny_source, tmp_path, name="tiny-gpu", target="gpu")
    (accelerator,) = parse_config(info.path).optimization.execution_accelerators.gpu_execution_accelerator
    assert dict(accelerator.parameters)["precision_mode"] == "FP32"


@pytest.mark.parametrize(
    ("precision", "target", "message"),
    [
        ("int8", "gpu", "the gpu target serves fp32 and fp16, not int8; export int8 for the cpu target"),
        ("int8", "tensorrt", "the tensorrt target serves fp32 and fp16, not int8"),
        ("fp16", "cpu", "the cpu target serves fp32 and int8, not fp16; export fp16 for the gpu or tensorrt"),
    ],
)
def test_a_precision_the_target_does_not_serve_is_refused(
    tiny_source: Path, tmp_path: Path, precision: str, target: str, message: str
):
    with pytest.raises(ExportError, match=message):
        export_model(tiny_source, tmp_path, precision=precision, target=target)
    assert list(tmp_path.iterdir()) == []


def test_fp16_is_meant_for_the_gpu_and_the_others_for_the_cpu():
    assert default_target("fp16") == "gpu"
    assert default_target("fp32") == default_target("int8") == "cpu"


def test_a_tensorrt_plan_without_trtexec_is_refused_before_exporting(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("TRTEXEC", raising=False)
    with pytest.raises(ExportError, match="trtexec, which is not here .* export --target gpu"):
        export_model(tiny_source, tmp_path / "repository", precision="fp16", target="tensorrt")
    assert not (tmp_path / "repository").exists()


def _fake_trtexec(folder: Path, exit_status: int = 0) -> Path:
    """A stand-in for trtexec (no TensorRT or GPU here): records its arguments, writes the plan asked for."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "trtexec"
    script.write_text(
        f"""#!{sys.executable}
import json, sys
from pathlib import Path
arguments = sys.argv[1:]
Path({str(folder / "arguments.json")!r}).write_text(json.dumps(arguments))
print("[I] TensorRT version: 10.99.0 (stand-in)")
if {exit_status}:
    print("[E] Cuda failure: no CUDA-capable device is detected", file=sys.stderr)
    sys.exit({exit_status})
plan = next(a.split("=", 1)[1] for a in arguments if a.startswith("--saveEngine="))
Path(plan).write_bytes(b"plan")
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_tensorrt_plan_is_built_by_trtexec_with_profiles_spanning_batch_and_sequence(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    trtexec = _fake_trtexec(tmp_path / "bin")
    monkeypatch.setenv("TRTEXEC", str(trtexec))
    info = export_model(
        tiny_source, tmp_path / "repository", name="tiny-plan", precision="fp16", target="tensorrt"
    )

    arguments = json.loads((tmp_path / "bin" / "arguments.json").read_text())
    # Built from the verified fp16 graph (in the staging folder then), build only.
    assert any(a.startswith("--onnx=") and a.endswith("/1/model.onnx") for a in arguments)
    assert "--skipInference" in arguments
    assert "--fp16" in arguments
    assert "--minShapes=input_ids:1x1,attention_mask:1x1" in arguments
    assert f"--maxShapes=input_ids:64x{MAX_LENGTH},attention_mask:64x{MAX_LENGTH}" in arguments
    assert (info.path / "1" / "model.plan").read_bytes() == b"plan"
    # The verified ONNX graph stays beside the plan: it is what the plan was built from.
    assert info.onnx_path.is_file()
    recorded = info.extra["tensorrt"]
    assert recorded["plan"] == "model.plan"
    assert recorded["profile"]["max"] == f"input_ids:64x{MAX_LENGTH},attention_mask:64x{MAX_LENGTH}"
    assert "10.99.0" in recorded["trtexec"]

    config = parse_config(info.path)
    assert (config.platform, config.default_model_filename) == ("tensorrt_plan", "model.plan")
    assert [group.kind for group in config.instance_group] == [KIND_GPU]
    assert config.HasField("dynamic_batching")
    assert len(config.model_warmup) == 2
    assert not config.optimization.execution_accelerators.gpu_execution_accelerator

    # Intact: exporting again keeps it without calling trtexec.
    os.remove(tmp_path / "bin" / "arguments.json")
    export_model(tiny_source, tmp_path / "repository", name="tiny-plan", precision="fp16", target="tensorrt")
    assert not (tmp_path / "bin" / "arguments.json").exists()


def test_a_plan_trtexec_cannot_build_is_reported_with_its_output_and_nothing_is_installed(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRTEXEC", str(_fake_trtexec(tmp_path / "bin", exit_status=1)))
    repository = tmp_path / "repository"
    with pytest.raises(ExportError, match=r"(?s)needs an NVIDIA GPU.*no CUDA-capable device"):
        export_model(tiny_source, repository, name="tiny-plan", precision="fp16", target="tensorrt")
    assert list(repository.iterdir()) == []


def test_the_embedded_triton_leaves_gpu_exports_out(fp16: ModelInfo, tiny_source: Path, gpu_repository: Path):
    export_model(tiny_source, gpu_repository, name="tiny")
    assert load_model_info(gpu_repository / "tiny").target == "cpu"
    assert TritonServer(gpu_repository).models == ["tiny"]
