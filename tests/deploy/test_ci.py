"""The CI workflow mirrors the pipeline: lint, types, tests against real services, UI, image, scan."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.compose import ROOT


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return data


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("uses", "").startswith(action))


def commands(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_it_runs_on_pushes_and_pull_requests(workflow: dict[str, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    assert set(workflow["jobs"]) == {"lint", "typecheck", "test", "frontend", "image"}
    for job in workflow["jobs"].values():
        assert job["runs-on"].startswith("ubuntu-") and job["steps"][0]["uses"].startswith(
            "actions/checkout@"
        )


def test_lint_format_and_types(workflow: dict[str, Any]) -> None:
    lint = commands(workflow["jobs"]["lint"])
    assert "ruff check ." in lint and "ruff format --check ." in lint and "shellcheck scripts/*.sh" in lint
    assert "mypy" in commands(workflow["jobs"]["typecheck"])


def test_tests_run_against_postgres_redis_and_qdrant_services(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["test"]
    images = {name: service["image"] for name, service in job["services"].items()}
    assert images["postgres"].startswith("postgres:16") and images["redis"].startswith("redis:7")
    assert images["qdrant"].startswith("qdrant/qdrant:")
    assert job["env"]["QDRANT_TEST_URL"] == "http://127.0.0.1:6333"
    steps = commands(job)
    assert (
        "--ignore=tests/test_end_to_end.py" in steps
        and "pytest tests/test_end_to_end.py tests/stack" in steps
    )


def test_the_ui_the_image_and_its_scan(workflow: dict[str, Any]) -> None:
    frontend = commands(workflow["jobs"]["frontend"])
    for script in ("npm ci", "npm run typecheck", "npm run lint", "npm test", "npm run build"):
        assert script in frontend
    image = workflow["jobs"]["image"]
    build = next(
        step for step in image["steps"] if step.get("uses", "").startswith("docker/build-push-action")
    )
    assert build["with"]["target"] == "runtime"
    scan = next(
        step for step in image["steps"] if step.get("uses", "").startswith("aquasecurity/trivy-action")
    )
    assert scan["with"]["image-ref"] == build["with"]["tags"] and scan["with"]["exit-code"] == "1"
    assert "docker compose -f docker-compose.yml -f docker-compose.cpu.yml" in commands(image)
