"""The Dockerfile: its stages, a slim non-root runtime without build tools or torch, a health check."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field

import pytest

from tests.deploy.compose import ROOT, load


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for instruction, argument in self.instructions if instruction == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults, and the stages: each a list of (INSTRUCTION, arguments), continuations joined."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction_line in logical:
        keyword, _, rest = instruction_line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            assert len(words) == 3 and words[1].upper() == "AS", f"every stage is named: FROM {rest}"
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments.get(m[1], m[0]), words[0])
            stages.append(Stage(words[2], base))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            arguments[name] = default
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return arguments, stages


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    _, parsed = parse((ROOT / "Dockerfile").read_text())
    return {stage.name: stage for stage in parsed}


@pytest.fixture(scope="module")
def runtime() -> Stage:
    _, parsed = parse((ROOT / "Dockerfile").read_text())
    return parsed[-1]


def test_it_builds_in_stages_ending_with_the_runtime(stages: dict[str, Stage], runtime: Stage) -> None:
    assert list(stages) == ["frontend", "deps", "models", "triton", "runtime"]
    assert runtime.name == "runtime"  # the default target is the last stage
    assert stages["frontend"].base.startswith("node:")
    assert stages["deps"].base == runtime.base == "python:3.11-slim-bookworm"
    assert stages["models"].base == "deps"
    assert stages["triton"].base.startswith("nvcr.io/nvidia/tritonserver:")


def test_every_stage_the_compose_file_builds_exists(stages: dict[str, Stage]) -> None:
    targets = {
        service["build"]["target"]
        for name in ("docker-compose.yml", "docker-compose.cpu.yml")
        for service in load(name)["services"].values()
        if "build" in service
    }
    assert targets == {"runtime", "models", "triton"}
    assert targets <= set(stages)


def test_the_frontend_is_built_with_npm_and_packaged(stages: dict[str, Stage]) -> None:
    runs = " && ".join(stages["frontend"].all("RUN"))
    assert "npm ci" in runs and "npm run build" in runs
    copies = stages["deps"].all("COPY")
    assert "--from=frontend /src/backend/semantik/web/static/ui ./backend/semantik/web/static/ui" in copies


def test_the_runtime_runs_as_uid_1000_with_a_health_check(runtime: Stage) -> None:
    assert runtime.all("USER")[-1] == "1000:1000"
    # Nothing runs as root after the user switch.
    last_user = max(i for i, (keyword, _) in enumerate(runtime.instructions) if keyword == "USER")
    assert "RUN" not in [keyword for keyword, _ in runtime.instructions[last_user:]]
    (healthcheck,) = runtime.all("HEALTHCHECK")
    assert "/api/health/livez" in healthcheck and "--interval=" in healthcheck
    assert runtime.all("ENTRYPOINT") == ['["/app/scripts/docker-entrypoint.sh"]']
    assert runtime.all("CMD") == ['["web"]']
    assert any("useradd --uid 1000" in run for run in runtime.all("RUN"))


def test_the_runtime_has_no_build_tools_and_no_model_export_dependencies(runtime: Stage) -> None:
    text = "\n".join(f"{keyword} {argument}" for keyword, argument in runtime.instructions)
    for forbidden in ("build-essential", "gcc", "g++", "torch", "[export]", "pip install", "npm"):
        assert forbidden not in text, forbidden
    # The virtual environment comes ready-made from the deps stage, nothing from the models stage.
    copies = [c for c in runtime.all("COPY") if c.startswith("--from=")]
    assert copies == ["--from=deps /opt/venv /opt/venv"]


def test_the_deps_stage_installs_semantik_without_extras(stages: dict[str, Stage]) -> None:
    installs = [run for run in stages["deps"].all("RUN") if "pip install" in run and "--upgrade" not in run]
    assert installs == ["pip install ."]
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in dependencies if re.match(r"(torch|transformers|sentence-transformers)\b", d)]


def test_the_models_stage_adds_the_export_extra_with_cpu_torch(stages: dict[str, Stage]) -> None:
    runs = " ".join(stages["models"].all("RUN"))
    assert '".[export]"' in runs and "download.pytorch.org/whl/cpu" in runs
    assert stages["models"].all("USER")[-1] == "1000:1000"


def test_the_entrypoint_is_in_the_build_context() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    for needed in ("scripts", "backend", "frontend", "pyproject.toml", "README.md", "manage.py"):
        assert needed not in ignored
    for private in (".env", "secrets", "data", ".git", "models", "model_repository", ".venv"):
        assert private in ignored, f"{private} would be sent to the Docker daemon"
    for stage_file in ("scripts/docker-entrypoint.sh", "scripts/export_model.py", "manage.py"):
        assert (ROOT / stage_file).is_file()


def test_the_parser_sees_continued_lines_as_one_instruction() -> None:
    _, parsed = parse("ARG X=1\nFROM a:${X} AS one\nRUN echo \\\n    two \\\n    # note\n    three\nUSER 7\n")
    assert parsed[0].base == "a:1"
    assert parsed[0].instructions == [("RUN", "echo two three"), ("USER", "7")]
    assert shlex.split(parsed[0].instructions[0][1]) == ["echo", "two", "three"]
