"""TritonServer: the wheel's tritonserver starts on loopback, serves, and leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.inference.server import TritonServer, TritonServerError, model_load_seconds

pytestmark = pytest.mark.triton


def processes_in_group(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    members.append(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def test_stop_leaves_no_processes_and_no_shared_memory(triton_server, model_repository, tmp_path):
    server = TritonServer(model_repository, log_path=tmp_path / "triton.log", models=[DEFAULT_MODEL])
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started < 30
    group = server.pid
    assert len(processes_in_group(group)) >= 2  # the server and the model's python stub
    assert model_load_seconds()[DEFAULT_MODEL] == server.load_seconds[DEFAULT_MODEL]

    server.stop()
    # A stopped server's load times are no longer reported (the session's server still serves the model).
    assert model_load_seconds()[DEFAULT_MODEL] == triton_server.load_seconds[DEFAULT_MODEL]
    assert processes_in_group(group) == []
    assert not server.is_running()
    assert [p for p in Path("/dev/shm").iterdir() if p.name.startswith(server._shm_prefix)] == []


def test_it_listens_on_loopback_and_reports_readiness(triton_server):
    assert triton_server.grpc_url.startswith("127.0.0.1:")
    with urlopen(f"{triton_server.http_url}/v2/models/{DEFAULT_MODEL}/ready", timeout=5) as response:
        assert response.status == 200
    with urlopen(triton_server.metrics_url, timeout=5) as response:
        assert b"nv_inference_count" in response.read()


def test_a_model_without_its_weights_fails_fast_with_the_fix_in_the_error(model_repository, tmp_path):
    # A fresh clone: config.pbtxt and model.py are in git, the ONNX file is a build output.
    repository = tmp_path / "repository"
    shutil.copytree(model_repository / DEFAULT_MODEL, repository / DEFAULT_MODEL)
    (repository / DEFAULT_MODEL / "1" / "model.onnx").unlink()
    server = TritonServer(repository, log_path=tmp_path / "triton.log", models=[DEFAULT_MODEL])

    started = time.monotonic()
    with pytest.raises(TritonServerError, match="make models"):
        server.start(deadline_s=60)
    assert time.monotonic() - started < 30
    assert not server.is_running()


def test_models_default_to_every_model_folder_in_the_repository(model_repository):
    assert DEFAULT_MODEL in TritonServer(model_repository).models


def test_the_time_from_launch_until_each_model_was_ready_is_measured(triton_server):
    assert set(triton_server.load_seconds) == {DEFAULT_MODEL, DEFAULT_INT8_MODEL}
    assert all(0 < seconds < 60 for seconds in triton_server.load_seconds.values())
    assert model_load_seconds()[DEFAULT_INT8_MODEL] == triton_server.load_seconds[DEFAULT_INT8_MODEL]


def test_semantik_triton_serves_on_every_interface_until_sigterm(model_repository, tmp_path):
    """`semantik triton` (the CPU Triton container): all interfaces, the fixed ports, stops on SIGTERM."""
    import signal
    import subprocess
    import sys

    import psutil

    from semantik.stack.ports import find_free_port

    http, grpc, metrics = find_free_port(), find_free_port(), find_free_port()
    command = [
        sys.executable,
        "-m",
        "semantik.cli",
        "triton",
        "--repository",
        str(model_repository),
        "--listen",
        "0.0.0.0",
        "--http-port",
        str(http),
        "--grpc-port",
        str(grpc),
        "--metrics-port",
        str(metrics),
    ]
    env = {**os.environ, "LOG_DIR": str(tmp_path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.communicate()[0][-3000:]
            try:
                with urlopen(f"http://127.0.0.1:{http}/v2/health/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "semantik triton was not ready"
            time.sleep(0.3)
        listening = {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port in (http, grpc, metrics)
        }
        assert {port for ip, port in listening if ip in ("0.0.0.0", "::")} == {http, grpc, metrics}
        children = psutil.Process(process.pid).children(recursive=True)
        assert (tmp_path / "triton.log").stat().st_size > 0
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output[-3000:]
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == []
