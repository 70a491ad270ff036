"""Run the real `tritonserver` binary from the nvidia-pytriton wheel on the CPU (embedded mode and tests).

Every flag and environment variable below is there because a run on a CPU-only machine broke
without it; the comments say how.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType

from semantik.inference.base import InferenceError
from semantik.inference.models import CPU_TARGET, METADATA_FILE, TRITON_CONFIG_FILE
from semantik.stack.children import die_with_parent
from semantik.stack.ports import LOOPBACK, find_free_port

log = logging.getLogger(__name__)

# The servers this process started and that are running now, for the metrics (model load times).
_running: list[TritonServer] = []


class TritonServerError(InferenceError):
    """The Triton server could not be started."""


class TritonBinaryNotFound(TritonServerError):
    """This machine has no tritonserver binary (nvidia-pytriton ships it for Linux x86_64 only)."""


def triton_install() -> Path:
    """The `tritonserver` folder inside the installed nvidia-pytriton wheel."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise TritonBinaryNotFound(
            "the tritonserver binary ships in the nvidia-pytriton wheel (Linux x86_64): "
            "pip install nvidia-pytriton==0.7.0, or point TRITON_URL at a running Triton, "
            "or use the in-process ONNX Runtime embedder"
        )
    install = Path(spec.origin).parent / "tritonserver"
    if not (install / "bin" / "tritonserver").is_file():
        raise TritonBinaryNotFound(f"nvidia-pytriton is installed but {install}/bin/tritonserver is missing")
    return install


class TritonServer:
    """A tritonserver process on loopback ports serving `repository` with the python backend."""

    def __init__(
        self,
        repository: Path,
        http_port: int | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        log_path: Path | None = None,
        models: list[str] | None = None,
        *,
        work_dir: Path | None = None,
        listen_address: str = LOOPBACK,
    ) -> None:
        """`models=None` loads every model folder in the repository; ports default to free ones.

        It listens on loopback unless `listen_address` says otherwise (0.0.0.0 in a container).
        """
        self.listen_address = listen_address
        self.repository = Path(repository).resolve()
        self.http_port = http_port or find_free_port()
        self.grpc_port = grpc_port or find_free_port()
        self.metrics_port = metrics_port or find_free_port()
        if not self.repository.is_dir():
            raise TritonServerError(f"model repository {self.repository} does not exist; run `make models`")
        self.models = list(models) if models is not None else self._model_folders()
        # Created by start() when not given (backend copies, default log) and removed by stop().
        self.work_dir = Path(work_dir) if work_dir else None
        self._own_work_dir = work_dir is None
        self._log_path = Path(log_path) if log_path else None
        # A prefix of our own lets stop() remove exactly this server's shared memory after a SIGKILL.
        self._shm_prefix = f"semantik_{uuid.uuid4().hex[:12]}_"
        self._process: subprocess.Popen[bytes] | None = None
        # Seconds from launch until each model was ready (Triton 2.51 does not report load times).
        self.load_seconds: dict[str, float] = {}

    @property
    def grpc_url(self) -> str:
        return f"{LOOPBACK}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    @property
    def log_path(self) -> Path | None:
        if self._log_path is not None:
            return self._log_path
        return self.work_dir / "tritonserver.log" if self.work_dir else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, deadline_s: float = 60.0) -> None:
        """Start and wait until the server and every requested model are ready, or raise with the log."""
        if self.is_running():
            return
        started = time.monotonic()
        if self.work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="semantik-triton-"))
        command = self._command(self._backend_directory())
        log_path = self.log_path
        assert log_path is not None  # work_dir exists now
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            # Its own session (process group), so stop() can reach the python stubs it forks.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                cwd=self.work_dir,
                start_new_session=True,
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
            )
        atexit.register(self.stop)
        log.info(
            "started tritonserver pid %d (gRPC %s, models %s)", self._process.pid, self.grpc_url, self.models
        )

        self.load_seconds = {}
        deadline = started + deadline_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code, tail = self._process.returncode, self.log_tail()
                self.stop()
                raise TritonServerError(f"tritonserver exited with code {code} while starting:\n{tail}")
            if self._ready(started):
                log.info("tritonserver ready in %.2f s", time.monotonic() - started)
                _running.append(self)
                return
            time.sleep(0.1)
        # A python stub that cannot start leaves the server "loading" forever: give up and show why.
        tail = self.log_tail()
        self.stop()
        raise TritonServerError(
            f"tritonserver was not ready within {deadline_s:.0f} s (models {self.models}):\n{tail}"
        )

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (Triton unloads models and stops its stubs), then SIGKILL whatever is left of the group."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if self in _running:
            _running.remove(self)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning(
                    "tritonserver pid %d ignored SIGTERM for %.0f s; killing it", process.pid, timeout_s
                )
        forced = self._kill_group(process)
        process.wait()
        if forced:
            for segment in Path("/dev/shm").glob(f"{self._shm_prefix}*"):
                segment.unlink(missing_ok=True)
        if self._own_work_dir and self.work_dir is not None:
            # The default log goes with it; pass log_path to keep one.
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> TritonServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _model_folders(self) -> list[str]:
        # Hidden folders are exports in progress; a folder without config.pbtxt is not a Triton model.
        return sorted(
            child.name
            for child in self.repository.iterdir()
            if not child.name.startswith(".")
            and (child / TRITON_CONFIG_FILE).is_file()
            and _runs_on_cpu(child)
        )

    def _backend_directory(self) -> Path:
        # The wheel's own backends folder has no stub, and Triton looks for it next to the backend.
        install = triton_install()
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        stub = install / "python_backend_stubs" / version / "triton_python_backend_stub"
        if not stub.is_file():
            raise TritonBinaryNotFound(f"nvidia-pytriton has no python backend stub for Python {version}")
        assert self.work_dir is not None  # start() creates it first
        backends = self.work_dir / "backends"
        python_backend = backends / "python"
        python_backend.mkdir(parents=True, exist_ok=True)
        for source in (
            install / "backends" / "python" / "libtriton_python.so",
            install / "backends" / "python" / "triton_python_backend_utils.py",
            stub,
        ):
            shutil.copy2(source, python_backend / source.name)
        return backends

    def _command(self, backends: Path) -> list[str]:
        command = [
            str(triton_install() / "bin" / "tritonserver"),
            f"--model-repository={self.repository}",
            f"--backend-directory={backends}",
            f"--backend-config=python,shm-region-prefix-name={self._shm_prefix}",
            # Triton listens on 0.0.0.0 by default.
            f"--http-address={self.listen_address}",
            f"--http-port={self.http_port}",
            f"--grpc-address={self.listen_address}",
            f"--grpc-port={self.grpc_port}",
            f"--metrics-address={self.listen_address}",
            f"--metrics-port={self.metrics_port}",
            "--allow-gpu-metrics=false",
            "--pinned-memory-pool-byte-size=0",
            "--cuda-memory-pool-byte-size=0:0",
            # The exporter writes complete configs; auto-completion triples the start time.
            "--disable-auto-complete-config",
            "--model-control-mode=explicit",
            "--exit-on-error=true",
            "--exit-timeout-secs=10",
            "--log-verbose=0",
        ]
        command += [f"--load-model={name}" for name in self.models]
        return command

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        site_packages = triton_install().parent.parent
        # The copied stub finds libcudart in the wheel's libs and must embed this interpreter's libpython.
        library_path = [str(site_packages / "nvidia_pytriton.libs"), str(sysconfig.get_config_var("LIBDIR"))]
        if env.get("LD_LIBRARY_PATH"):
            library_path.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(library_path)
        # The stub runs the `python3` it finds on PATH, with that environment's site-packages;
        # it ignores PYTHONPATH and PYTHONHOME.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def _ready(self, started: float) -> bool:
        """True when the server and every model are ready; notes when each model first was."""
        if not self._answers("/v2/health/live"):
            return False
        for name in self.models:
            if name not in self.load_seconds and self._answers(f"/v2/models/{name}/ready"):
                self.load_seconds[name] = time.monotonic() - started
        return len(self.load_seconds) == len(self.models) and self._answers("/v2/health/ready")

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.http_url + path, timeout=1.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> bool:
        """SIGKILL every process left in the server's group; True if there were any."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            process.poll()  # reap the server itself, or its zombie keeps the group alive
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        return True


def _runs_on_cpu(model_dir: Path) -> bool:
    """Whether this (CPU-only, python backend) Triton can load the folder: GPU exports are left out.

    A folder without semantik.json (a hand-written model) is Triton's to judge.
    """
    try:
        target = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8")).get("target")
    except (OSError, ValueError):
        return True
    if target not in (None, CPU_TARGET):
        log.info("leaving out %s: a %s export, for NVIDIA's Triton on a GPU", model_dir.name, target)
        return False
    return True


def serve_forever(server: TritonServer, deadline_s: float = 300.0) -> None:
    """Start the server and keep it until SIGTERM or SIGINT (`semantik triton`, the CPU Triton container).

    Exits with the server's log when tritonserver dies on its own, so the container restarts.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start(deadline_s=deadline_s)
    log.info(
        "tritonserver serving %s on %s (HTTP %d, gRPC %d, metrics %d)",
        ", ".join(server.models),
        server.listen_address,
        server.http_port,
        server.grpc_port,
        server.metrics_port,
    )
    try:
        while not stop.wait(1.0):
            if not server.is_running():
                raise TritonServerError(f"tritonserver exited:\n{server.log_tail()}")
    finally:
        server.stop()


def model_load_seconds() -> dict[str, float]:
    """Seconds from launch to ready of each model served by a Triton this process started and runs."""
    return {name: seconds for server in list(_running) for name, seconds in server.load_seconds.items()}
